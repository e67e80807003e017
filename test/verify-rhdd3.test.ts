import { cpSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
  - ko: ${FIXTURES}/ko/${K94}/*.ko
firmware:
  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }
targets:
  - rhdd3: { out: dd.iso }
  - rhdd3: { out: dd, format: directory }
`,
  );
  await build(join(dir, 'm.yaml'), { outDir: dir, ctx: createContext({ epoch: 1700000000 }) });
});

describe('dudkit verify (rhdd3)', () => {
  it('explains a good ISO: which package each kernel loads, where modules land, what is installed', () => {
    const r = dudkit(['verify', join(dir, 'dd.iso'), '--kernel', K93, '--kernel', K94]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`installer kernel ${K93}: uses acme-acmenet-firmware-2.4.1-3.noarch.rpm, kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm`);
    expect(r.stdout).toContain(`/lib/modules/${K94}/extra/acmenet/acmestor.ko -> /lib/modules/${K94}/updates/extra/acmenet/acmestor.ko`);
    expect(r.stdout).toContain('/lib/firmware/acme/acmenet.bin -> /lib/firmware/updates/acme/acmenet.bin');
    expect(r.stdout).toContain('installs on the target: acme-acmenet-firmware, kmod-acme-acmenet');
    expect(r.stdout).toMatch(/OK: 0 errors, 0 warnings/);
  });

  it('--json gives one document; a kernel nothing matches fails with exit 1', () => {
    const r = dudkit(['verify', join(dir, 'dd'), '--kernel', '5.14.0-503.11.1.el9_5.x86_64', '--json']);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; kind: string; findings: { severity: string; message: string }[] };
    expect(doc.kind).toBe('rhdd3');
    expect(doc.ok).toBe(false);
    expect(doc.findings.some((f) => f.severity === 'error' && /no package .* matches this installer kernel/.test(f.message))).toBe(true);
  });

  it('finds a package whose payload digest rpm -K rejects', () => {
    const t = join(dir, 'flipped');
    cpSync(join(dir, 'dd'), t, { recursive: true });
    const repo = join(t, 'rpms/x86_64');
    const kmod = join(repo, readdirSync(repo).find((n) => n.includes('el9_4'))!);
    const bytes = readFileSync(kmod);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(kmod, bytes);
    expect(run('rpm', ['-K', '--nosignature', kmod]).status).not.toBe(0);
    const r = dudkit(['verify', t]);
    expect(r.status).toBe(1);
    // a corrupt payload is a failed digest, as rpm -K says (not "digests cannot be checked")
    expect(r.stdout).toMatch(/el9_4\.x86_64\.rpm: Payload SHA256 digest does not match \(rpm -K fails\)/);
  });

  it('finds stale repodata, as dnf would', () => {
    const t = join(dir, 'stale');
    cpSync(join(dir, 'dd'), t, { recursive: true });
    const repo = join(t, 'rpms/x86_64');
    const kmod = readdirSync(repo).find((n) => n.includes('el9_3'))!;
    // a rebuilt package with other bytes: repodata no longer describes it
    copyFileSync(join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'), join(repo, kmod));
    const r = dudkit(['verify', t]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/sha256 differs from repodata/);
  });

  it('refuses what is not a driver disk with exit 2 and one line', () => {
    const r = dudkit(['verify', FIXTURES + '/ko']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no driver disk found/);
    const m = dudkit(['verify', join(dir, 'missing.iso')]);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/missing\.iso: no such file/);
  });

  it('flags a zstd-payload kmod as unusable by the installer', () => {
    const t = join(dir, 'zstd');
    cpSync(join(dir, 'dd'), t, { recursive: true });
    const repo = join(t, 'rpms/x86_64');
    copyFileSync(join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm'), join(repo, 'kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm'));
    const r = dudkit(['verify', t, '--kernel', K94]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/payload compressed with zstd/);
    expect(r.stdout).toMatch(/both .* carry module acmenet/);
  });

  it('inspect on the directory form tells the same account, as text and --json', () => {
    const t = dudkit(['inspect', join(dir, 'dd')]);
    expect(t.status).toBe(0);
    expect(t.stdout).toContain(`installer kernel ${K94}: uses acme-acmenet-firmware-2.4.1-3.noarch.rpm, kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64.rpm`);
    const j = JSON.parse(dudkit(['inspect', join(dir, 'dd'), '--json']).stdout) as { kind: string; packages: { nevra: string }[] };
    expect(j.kind).toBe('rhdd3');
    expect(j.packages.map((p) => p.nevra)).toContain('kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64');
  });
});
