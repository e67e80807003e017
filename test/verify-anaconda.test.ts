/**
 * verify's account of a Red Hat driver update disk against what anaconda's own code does with it
 * (dracut/driver_updates.py and the dd_list/dd_extract it runs, per RHEL branch; spec
 * redhat-dud.md). The media are built by dudkit from real modules (fixtures/ko) and firmware, or
 * carry rpmbuild-made kmods (fixtures/rpms); rpm reads each package to confirm what it holds.
 */
import { copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { ACME } from './helpers/manifest.js';

const dir = tempDir();
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const K94 = '5.14.0-427.13.1.el9_4.x86_64';

beforeAll(async () => {
  writeFileSync(
    join(dir, 'm.yaml'),
    `${ACME}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
firmware:
  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }
targets:
  - rhdd3: { out: dd, format: directory }
`,
  );
  await build(join(dir, 'm.yaml'), { outDir: dir, ctx: createContext({ epoch: 1700000000 }) });
  // a disk made elsewhere: dudkit's firmware package (kernel-modules >= K93) beside the
  // rpmbuild-made kmod for exactly K93 (kernel-modules = K93), repodata by createrepo_c
  const repo = join(dir, 'dd/rpms/x86_64');
  for (const n of readdirSync(repo)) if (n.startsWith('kmod-')) rmSync(join(repo, n));
  copyFileSync(join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'), join(repo, 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'));
  expect(run('createrepo_c', ['--update', repo]).status).toBe(0);
});

describe('verify vs anaconda (issue 12)', () => {
  it('a kernel for which only the firmware package matches loads no driver: an error', () => {
    const r = dudkit(['verify', join(dir, 'dd'), '--kernel', K94, '--json']);
    const doc = JSON.parse(r.stdout) as { ok: boolean; findings: { code: string; severity: string; subject: string }[]; details: { kernels: { kernel: string; packages: string[]; extracted: { to: string }[] }[] } };
    // anaconda (driver_updates.py, extract_drivers -> dd_list/dd_extract): dd_list lists the
    // firmware package for K94 (its kernel-modules Provides match), dd_extract copies its firmware
    // to /lib/firmware/updates, and no .ko lands under /lib/modules/K94: no driver loads.
    const k = doc.details.kernels.find((x) => x.kernel === K94)!;
    expect(k.packages).toEqual(['acme-acmenet-firmware-2.4.1-3.noarch.rpm']);
    expect(k.extracted.map((e) => e.to)).toEqual(['/lib/firmware/updates/acme/acmenet.bin']);
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: 'RHDD3_NO_MODULE', severity: 'error', subject: K94 }));
    expect(doc.ok).toBe(false);
    expect(r.status).toBe(1);
    const t = dudkit(['verify', join(dir, 'dd'), '--kernel', K94]);
    expect(t.stdout).toMatch(new RegExp(`${K94}: no module for kernel ${K94}`));
    // the kernel the driver is for stays OK
    expect(dudkit(['verify', join(dir, 'dd'), '--kernel', K93]).status).toBe(0);
  });

  it('a zstd-payload kmod is extracted and loaded, with a warning naming the releases that may not read it', async () => {
    writeFileSync(join(dir, 'z.yaml'), `${ACME}sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\n  - rpm: ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm\ntargets:\n  - rhdd3: { out: z, format: directory }\n`);
    await build(join(dir, 'z.yaml'), { outDir: join(dir, 'z-out'), ctx: createContext({ epoch: 1700000000 }) });
    const zstd = 'kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm';
    expect(run('rpm', ['-qp', '--nosignature', '--qf', '%{PAYLOADCOMPRESSOR}', join(FIXTURES, 'rpms', zstd)]).stdout).toBe('zstd');
    const r = dudkit(['verify', join(dir, 'z-out/z'), '--kernel', K94, '--json']);
    const doc = JSON.parse(r.stdout) as { ok: boolean; findings: { code: string; severity: string; message: string }[]; details: { kernels: { kernel: string; packages: string[]; extracted: { from: string; to: string }[] }[] } };
    // anaconda rhel-9/rhel-10 utils/dd/rpmutils.c and main dracut/dd/rpmutils.c, explodeDDRPM:
    // Fdopen(fdi, "r.zstddio") is no rpmio mode, so the zstd stream reaches libarchive, whose
    // archive_read_support_filter_all() reads it where libarchive has zstd (the consumer runs:
    // both modules extracted to /lib/modules/K94/updates/extra/acme-acmenet/ and loaded).
    const k = doc.details.kernels.find((x) => x.kernel === K94)!;
    expect(k.packages).toEqual([zstd]);
    expect(k.extracted.map((e) => e.to)).toEqual([`/lib/modules/${K94}/updates/extra/acme-acmenet/acmenet.ko`, `/lib/modules/${K94}/updates/extra/acme-acmenet/acmestor.ko`]);
    const payload = doc.findings.filter((f) => f.code === 'RHDD_PAYLOAD_COMPRESSOR');
    expect(payload.map((f) => f.severity)).toEqual(['warning']);
    expect(payload[0]!.message).toMatch(/RHEL 9 and 10 installers extract it.*RHEL 6 loader cannot, RHEL 7 and 8 only where their libarchive has zstd/);
    expect(payload[0]!.message).not.toMatch(/nothing of it is used|unused/);
    expect(doc.ok).toBe(true);
    expect(r.status).toBe(0);
  });

  it('a given kmod with only .ko.xz modules loads nothing on RHEL 8, though the package is recorded', async () => {
    const K89 = '4.18.0-513.5.1.el8_9.x86_64';
    const koxz = 'kmod-acme-acmenet-2.4.1-4.el8_9.x86_64.rpm';
    expect(run('rpm', ['-qpl', '--nosignature', join(FIXTURES, 'rpms-koxz', koxz)]).stdout).toContain(`/lib/modules/${K89}/extra/acme-acmenet/acmenet.ko.xz`);
    writeFileSync(join(dir, 'x.yaml'), `${ACME}sources:\n  - rpm: ${FIXTURES}/rpms-koxz/${koxz}\ntargets:\n  - rhdd3: { out: x, format: directory }\n`);
    await build(join(dir, 'x.yaml'), { outDir: join(dir, 'x-out'), ctx: createContext({ epoch: 1700000000 }) });
    const r = dudkit(['verify', join(dir, 'x-out/x'), '--kernel', K89, '--json']);
    const doc = JSON.parse(r.stdout) as { ok: boolean; findings: { code: string; severity: string; subject: string; message: string }[]; details: { kernels: { kernel: string; packages: string[]; extracted: unknown[]; installedOnTarget: string[] }[] } };
    // anaconda rhel-8 utils/dd/dd_extract.c, dlabelFilter: a name not ending exactly ".ko" is
    // skipped, so no module lands; driver_updates.py extract_drivers still lists the package
    // (dd_list) and writes its name to dd_packages for the target install.
    const k = doc.details.kernels.find((x) => x.kernel === K89)!;
    expect(k.packages).toEqual([koxz]);
    expect(k.extracted).toEqual([]);
    expect(k.installedOnTarget).toEqual(['kmod-acme-acmenet']);
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: 'RHDD3_NO_MODULE', severity: 'error', subject: K89 }));
    expect(doc.findings.find((f) => f.code === 'RHDD3_NO_MODULE')!.message).toMatch(/takes only \.ko files, not acmenet\.ko\.xz/);
    expect(r.status).toBe(1);
  });
});
