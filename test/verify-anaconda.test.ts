/**
 * verify's account of a Red Hat driver update disk against what anaconda's own code does with it
 * (dracut/driver_updates.py and the dd_list/dd_extract it runs, per RHEL branch; spec
 * redhat-dud.md). The media are built by dudkit from real modules (fixtures/ko) and firmware, or
 * carry rpmbuild-made kmods (fixtures/rpms); rpm reads each package to confirm what it holds.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { ACME, locationOf } from './helpers/manifest.js';

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

const ENH = join(FIXTURES, 'rpms-enhancement');
const KMOD93 = 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm';

interface KernelJson {
  kernel: string;
  packages: string[];
  extracted: { from: string; to: string }[];
  ddPackages: string[];
  loaded: string[];
  dropped?: string[];
  installedOnTarget: string[];
}
interface VerifyJson {
  ok: boolean;
  findings: { code: string; severity: string; subject: string; message: string }[];
  details: { kernels: KernelJson[]; foundBy?: string; nested?: { member: string; details: { foundBy?: string } }[] };
}

/** A disk made elsewhere: rhdd3, the given RPMs in rpms/x86_64/, repodata by createrepo_c. */
function diskOf(name: string, rpms: string[]): string {
  const disk = join(dir, name);
  mkdirSync(join(disk, 'rpms/x86_64'), { recursive: true });
  writeFileSync(join(disk, 'rhdd3'), 'Driver Update Disk version 3');
  for (const r of rpms) copyFileSync(r, join(disk, 'rpms/x86_64', basename(r)));
  expect(run('createrepo_c', ['-q', join(disk, 'rpms/x86_64')]).status).toBe(0);
  return disk;
}

function verifyJson(path: string, kernel: string): { r: ReturnType<typeof dudkit>; doc: VerifyJson; k: KernelJson } {
  const r = dudkit(['verify', path, '--kernel', kernel, '--json']);
  const doc = JSON.parse(r.stdout) as VerifyJson;
  return { r, doc, k: doc.details.kernels.find((x) => x.kernel === kernel)! };
}

describe('verify vs anaconda: installer-enhancement packages, dd_packages, modinfo (issue 12 items 1, 5)', () => {
  it('an installer-enhancement package is listed and extracted whole for every kernel, never installed (rpmbuild fixture, rpm -qpl)', async () => {
    const diag = join(ENH, 'acme-diag-tools-1.0-1.x86_64.rpm');
    expect(run('rpm', ['-qp', '--nosignature', '--provides', diag]).stdout).toContain('installer-enhancement = 19.0');
    expect(run('rpm', ['-qpl', '--nosignature', diag]).stdout.split('\n').filter(Boolean)).toEqual(['/usr/bin/acme-tool', '/usr/lib64/libacme.so', '/usr/lib64/libacme.so.1']);
    writeFileSync(join(dir, 'e.yaml'), `${ACME}sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\n  - rpm: ${diag}\ntargets:\n  - rhdd3: { out: e, format: directory }\n`);
    const warnings: string[] = [];
    await build(join(dir, 'e.yaml'), { outDir: join(dir, 'e-out'), ctx: createContext({ epoch: 1700000000, onWarn: (m) => warnings.push(m) }) });
    expect(warnings.join('\n')).not.toMatch(/ignores it completely/);
    const { r, doc, k } = verifyJson(join(dir, 'e-out/e'), K93);
    // anaconda driver_updates.py extract_drivers(): dd_list -a 19.0 lists the package (dd_list.c
    // dlabelProvides: installer-enhancement matches ANACONDAVER, flags "binaries libraries"),
    // dd_extract -blmf writes /updates/usr/bin/acme-tool and /updates/usr/lib64/libacme.so{,.1}
    // (dd_extract.c dlabelFilter), which overlay the installer's root; its NAME is not appended to
    // dd_packages (only "modules"/"firmwares" packages are), so the target never gets it. The kmod's
    // modules are relocated and loaded (grab_driver_files, load_drivers). Measured with the rhel-8,
    // rhel-9, rhel-10 and main branches.
    expect(k.packages).toEqual(['acme-diag-tools-1.0-1.x86_64.rpm', 'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm']);
    expect(k.extracted.filter((e) => e.from.startsWith('acme-diag-tools')).map((e) => e.to)).toEqual(['/usr/bin/acme-tool', '/usr/lib64/libacme.so', '/usr/lib64/libacme.so.1']);
    expect(k.extracted.filter((e) => e.from.startsWith('kmod-')).map((e) => e.to)).toEqual([`/lib/modules/${K93}/updates/extra/acmenet/acmenet.ko`, `/lib/modules/${K93}/updates/extra/acmenet/acmestor.ko`]);
    expect(k.ddPackages).toEqual(['kmod-acme-acmenet']);
    expect(k.loaded).toEqual(['acmenet', 'acmestor']);
    expect(k.installedOnTarget).toEqual(['kmod-acme-acmenet']);
    expect(doc.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(r.status).toBe(0);
    expect(dudkit(['verify', join(dir, 'e-out/e'), '--kernel', K93]).stdout).toContain('acme-diag-tools-1.0-1.x86_64.rpm:/usr/bin/acme-tool -> /usr/bin/acme-tool');
  });

  it('build refuses an installer-enhancement input carrying a module: exit 2, one line naming the manifest key and both files, nothing written', () => {
    const tools = join(ENH, 'acme-installer-tools-1.0-1.x86_64.rpm');
    writeFileSync(join(dir, 'r.yaml'), `${ACME}sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\n  - rpm: ${tools}\ntargets:\n  - rhdd3: { out: r, format: directory }\n`);
    const r = dudkit(['build', join(dir, 'r.yaml'), '-o', join(dir, 'r-out')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${join(dir, 'r.yaml')}: sources[1].rpm: ${tools}: an installer-enhancement package carrying /lib/modules/4.18.0-513.5.1.el8_9.x86_64/extra/acme-acmenet/acmenet.ko`);
    expect(existsSync(join(dir, 'r-out'))).toBe(false);
  });

  it("a disk made elsewhere: the enhancement package's 4.18 module replaces the kmod's acmenet.ko for K93: an error naming both", () => {
    const tools = join(ENH, 'acme-installer-tools-1.0-1.x86_64.rpm');
    expect(run('rpm', ['-qpl', '--nosignature', tools]).stdout).toContain('/lib/modules/4.18.0-513.5.1.el8_9.x86_64/extra/acme-acmenet/acmenet.ko');
    const disk = diskOf('foreign', [join(FIXTURES, 'rpms', KMOD93), tools]);
    const { r, doc, k } = verifyJson(disk, K93);
    // anaconda driver_updates.py: extract_drivers() runs dd_extract -blmf on both listed packages
    // (the tool for installer-enhancement, the kmod for kernel-modules = K93), then
    // grab_driver_files() copies every *.ko* below /updates/lib/modules, whatever its kernel folder,
    // to /lib/modules/K93/updates/<path without the kernel folder> (dest_strip): both acmenet.ko
    // land on one path, and in the consumer runs the 4.18 one, walked last, was kept.
    const dest = `/lib/modules/${K93}/updates/extra/acme-acmenet/acmenet.ko`;
    expect(k.packages).toEqual(['acme-installer-tools-1.0-1.x86_64.rpm', KMOD93]);
    expect(k.extracted.filter((e) => e.to === dest).map((e) => e.from)).toEqual([
      'acme-installer-tools-1.0-1.x86_64.rpm:/lib/modules/4.18.0-513.5.1.el8_9.x86_64/extra/acme-acmenet/acmenet.ko',
      `${KMOD93}:/lib/modules/${K93}/extra/acme-acmenet/acmenet.ko`,
    ]);
    expect(k.extracted.map((e) => e.to)).toEqual(expect.arrayContaining(['/usr/bin/acme-tool', '/usr/lib64/libacme.so.1']));
    expect(k.ddPackages).toEqual(['kmod-acme-acmenet']);
    expect(k.installedOnTarget).toEqual(['kmod-acme-acmenet']);
    const clash = doc.findings.filter((f) => f.code === 'RHDD_MODULE_CLASH');
    expect(clash).toHaveLength(1);
    expect(clash[0]).toMatchObject({ severity: 'error' });
    expect(clash[0]!.message).toContain('acme-installer-tools-1.0-1.x86_64.rpm:/lib/modules/4.18.0-513.5.1.el8_9.x86_64/extra/acme-acmenet/acmenet.ko');
    expect(clash[0]!.message).toContain(`copies both to ${dest}: the one copied last (directory order) replaces the other`);
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: 'RHDD_ENHANCEMENT_DRIVER_FILES', severity: 'warning' }));
    expect(r.status).toBe(1);
    // for an RHEL 8 kernel only the tool is listed: extract_drivers() returns False (no
    // modules/firmwares package), so grab_driver_files() never runs: nothing relocated or loaded,
    // no dd_packages line, no DD-1; the 4.18 module stays at /updates/lib/modules/4.18…/ (consumer run, rhel-8)
    const K89 = '4.18.0-513.5.1.el8_9.x86_64';
    const el8 = verifyJson(disk, K89);
    expect(el8.k.packages).toEqual(['acme-installer-tools-1.0-1.x86_64.rpm']);
    expect(el8.k.extracted.map((e) => e.to)).toEqual([`/lib/modules/${K89}/extra/acme-acmenet/acmenet.ko`, '/usr/bin/acme-tool', '/usr/lib64/libacme.so', '/usr/lib64/libacme.so.1']);
    expect([el8.k.ddPackages, el8.k.loaded, el8.k.installedOnTarget]).toEqual([[], [], []]);
    expect(el8.doc.findings).toContainEqual(expect.objectContaining({ code: 'RHDD3_NO_MODULE', severity: 'error', subject: K89 }));
  });

  it('dd_packages gets a NAME once per matching RPM; the target installs it once', () => {
    // the rpmbuild kmods for el8_9 (kernel-modules >= 4.18.0-513.5.1.el8_9.x86_64) and el9_3 (= K93) both match K93
    const disk = diskOf('twice', [join(FIXTURES, 'rpms', KMOD93), join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm')]);
    const { doc, k } = verifyJson(disk, K93);
    // anaconda driver_updates.py extract_drivers(): append_line(pkglist, driver.name) for each
    // listed driver flagged modules/firmwares (the consumer runs: "kmod-acme-acmenet" twice);
    // the payload's dnf installs each name of dd_packages once
    expect(k.ddPackages).toEqual(['kmod-acme-acmenet', 'kmod-acme-acmenet']);
    expect(k.installedOnTarget).toEqual(['kmod-acme-acmenet']);
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: 'RHDD_NAME_CLASH', severity: 'warning' }));
    expect(dudkit(['verify', disk, '--kernel', K93]).stdout).toContain('  dd_packages: kmod-acme-acmenet, kmod-acme-acmenet');
  });

  it('a module modinfo cannot read drops the whole disk after dd_packages and the repo copy were written', () => {
    const broken = join(ENH, 'acme-broken-tools-1.0-1.x86_64.rpm');
    expect(run('rpm', ['-qpl', '--nosignature', broken]).stdout).toContain(`/lib/modules/${K93}/extra/acme-acmenet/acmediag.ko`);
    const disk = diskOf('dropped', [join(FIXTURES, 'rpms', KMOD93), broken]);
    const { r, doc, k } = verifyJson(disk, K93);
    // anaconda driver_updates.py _process_driver_disk(): extract_drivers() has written
    // dd_packages and copied the repo to /run/install/DD-1 when grab_driver_files() runs
    // modinfo -F alias on every extracted module; it fails on acmediag.ko (CalledProcessError,
    // caught in process_driver_disk), so nothing is relocated and load_drivers() gets no module.
    // The extracted files stay in /updates (the consumer runs: /updates/lib/modules/K93/extra/…).
    const bad = `acme-broken-tools-1.0-1.x86_64.rpm:/lib/modules/${K93}/extra/acme-acmenet/acmediag.ko`;
    expect(k.packages).toEqual(['acme-broken-tools-1.0-1.x86_64.rpm', KMOD93]);
    expect(k.ddPackages).toEqual(['kmod-acme-acmenet']);
    expect(k.loaded).toEqual([]);
    expect(k.dropped).toEqual([bad]);
    expect(k.extracted.map((e) => e.to)).toEqual([
      `/lib/modules/${K93}/extra/acme-acmenet/acmediag.ko`, '/usr/bin/acme-tool', '/usr/lib64/libacme.so', '/usr/lib64/libacme.so.1',
      `/lib/modules/${K93}/extra/acme-acmenet/acmenet.ko`, `/lib/modules/${K93}/extra/acme-acmenet/acmestor.ko`,
    ]);
    expect(k.installedOnTarget).toEqual(['kmod-acme-acmenet']);
    const drop = doc.findings.find((f) => f.code === 'RHDD3_DISK_DROPPED')!;
    expect(drop).toMatchObject({ severity: 'error', subject: K93 });
    expect(drop.message).toContain(`modinfo fails on ${bad}`);
    expect(drop.message).toContain('after writing dd_packages (kmod-acme-acmenet) and copying the repo');
    expect(r.status).toBe(1);
  });
});

/** A one-module kmod made by rpmbuild: `ko` filed under /lib/modules/<kernel>/extra/, kernel-modules = kernel. */
function rpmbuildKmod(name: string, ko: string, kernel: string): string {
  const top = join(dir, `${name}-build`);
  const spec = join(dir, `${name}.spec`);
  writeFileSync(spec, `Name: ${name}\nVersion: 1\nRelease: 1\nSummary: s\nLicense: GPLv2\nAutoReqProv: no\nProvides: kernel-modules = ${kernel}\n%description\nd\n%install\nmkdir -p %{buildroot}/lib/modules/${kernel}/extra\ninstall -m 0644 ${ko} %{buildroot}/lib/modules/${kernel}/extra/acmenet.ko\n%files\n/lib/modules/${kernel}/extra/acmenet.ko\n`);
  expect(run('rpmbuild', ['-bb', '--quiet', '--target', 'x86_64', '--define', `_topdir ${top}`, '--define', '__os_install_post %{nil}', '--define', 'debug_package %{nil}', spec]).status).toBe(0);
  return join(top, `RPMS/x86_64/${name}-1-1.x86_64.rpm`);
}

describe('vermagic: one rule in build and verify, the one the kernel applies (issue 12 item 6)', () => {
  const K94_ = '5.14.0-427.13.1.el9_4.x86_64';
  const warning = `vermagic release ${K93} is not ${K94_}: ${K94_} loads it only if the CRCs of the symbols it imports match its own (kABI), which is not checked`;

  it('modules with symbol versions filed for another release: the same warning in build and verify, exit 0 both', async () => {
    const ko = join(FIXTURES, 'ko', K93, 'acmenet.ko');
    // modprobe --dump-modversions lists the CRCs the loader compares instead of the release
    expect(run('modprobe', ['--dump-modversions', ko]).stdout).toMatch(/^0x[0-9a-f]{8}\t/m);
    writeFileSync(join(dir, 'v.yaml'), `${ACME}sources:\n  - ko: ${ko}\n    kernel: ${K94_}\ntargets:\n  - rhdd3: { out: v, format: directory }\n`);
    const b = dudkit(['build', join(dir, 'v.yaml'), '-o', join(dir, 'v-out')]);
    expect(b.status).toBe(0);
    // kernel/module/main.c check_modinfo() -> kernel/module/version.c same_magic(): with
    // __versions (has_crcs) the release word of both vermagic strings is skipped; the symbol CRCs
    // decide (check_version()), which needs K94's own symbol versions
    expect(b.stderr).toContain(`dudkit: warning: ${ko}: ${warning}`);
    const { r, doc } = verifyJson(join(dir, 'v-out/v'), K94_);
    const v = doc.findings.filter((f) => f.code === 'VERMAGIC_RELEASE');
    expect(v).toEqual([{ code: 'VERMAGIC_RELEASE', severity: 'warning', subject: expect.stringMatching(/^rpms\/x86_64\/kmod-.*\.rpm$/) as unknown as string, message: `/lib/modules/${K94_}/extra/acmenet/acmenet.ko: ${warning}` }]);
    expect(r.status).toBe(0);
  });

  it('without symbol versions (objcopy --remove-section=__versions): build refuses, verify of a disk made by rpmbuild errors, in the same words', () => {
    const ko = join(dir, 'noversions/acmenet.ko');
    mkdirSync(join(dir, 'noversions'), { recursive: true });
    copyFileSync(join(FIXTURES, 'ko', K93, 'acmenet.ko'), ko);
    expect(run('objcopy', ['--remove-section=__versions', ko]).status).toBe(0);
    expect(run('modprobe', ['--dump-modversions', ko]).status).not.toBe(0);
    const error = `vermagic release ${K93} is not ${K94_}, and it has no symbol versions: ${K94_} refuses it`;
    writeFileSync(join(dir, 'nv.yaml'), `${ACME}sources:\n  - ko: ${ko}\n    kernel: ${K94_}\ntargets:\n  - rhdd3: { out: nv, format: directory }\n`);
    const b = dudkit(['build', join(dir, 'nv.yaml'), '-o', join(dir, 'nv-out')]);
    // same_magic() without has_crcs compares the whole strings: K94 refuses the module
    expect(b.status).toBe(2);
    expect(b.stderr.trim()).toBe(`dudkit: ${join(dir, 'nv.yaml')}: sources[0].ko: ${ko}: ${error}${locationOf(readFileSync(join(dir, 'nv.yaml'), 'utf8'), 'ko:')}`);
    expect(existsSync(join(dir, 'nv-out'))).toBe(false);
    // the same module packaged elsewhere (rpmbuild) under K94's folder
    const nv = rpmbuildKmod('kmod-acme-nv', ko, K94_);
    const disk = diskOf('nv-disk', [nv]);
    const { r, doc } = verifyJson(disk, K94_);
    expect(doc.findings.filter((f) => f.code === 'VERMAGIC_RELEASE')).toEqual([{ code: 'VERMAGIC_RELEASE', severity: 'error', subject: 'rpms/x86_64/kmod-acme-nv-1-1.x86_64.rpm', message: `/lib/modules/${K94_}/extra/acmenet.ko: ${error}` }]);
    expect(r.status).toBe(1);
  });

  it('a given kmod RPM (rpmbuild) with such modules: build gives the same warning, or refuses with the same error, naming the package and the path in it', () => {
    const warned = rpmbuildKmod('kmod-acme-w', join(FIXTURES, 'ko', K93, 'acmenet.ko'), K94_);
    writeFileSync(join(dir, 'gw.yaml'), `${ACME}sources:\n  - rpm: ${warned}\ntargets:\n  - rhdd3: { out: gw, format: directory }\n`);
    const w = dudkit(['build', join(dir, 'gw.yaml'), '-o', join(dir, 'gw-out')]);
    expect(w.status, w.stderr).toBe(0);
    expect(w.stderr).toContain(`dudkit: warning: ${warned}: /lib/modules/${K94_}/extra/acmenet.ko: ${warning}`);
    const refused = join(dir, 'kmod-acme-nv-build/RPMS/x86_64/kmod-acme-nv-1-1.x86_64.rpm');
    writeFileSync(join(dir, 'gnv.yaml'), `${ACME}sources:\n  - rpm: ${refused}\ntargets:\n  - rhdd3: { out: gnv, format: directory }\n`);
    const e = dudkit(['build', join(dir, 'gnv.yaml'), '-o', join(dir, 'gnv-out')]);
    expect(e.status).toBe(2);
    expect(e.stderr.trim()).toBe(`dudkit: ${join(dir, 'gnv.yaml')}: sources[0].rpm: ${refused}: /lib/modules/${K94_}/extra/acmenet.ko: vermagic release ${K93} is not ${K94_}, and it has no symbol versions: ${K94_} refuses it${locationOf(readFileSync(join(dir, 'gnv.yaml'), 'utf8'), 'rpm:')}`);
    expect(existsSync(join(dir, 'gnv-out'))).toBe(false);
  });
});

describe('payload compressors: one warning per folder and release, not per package (issue 12 item 3 follow-up)', () => {
  it('a zstd and a bzip2 kmod (rpmbuild, rpm -qp PAYLOADCOMPRESSOR) give one warning naming both and the kernels at risk', () => {
    const zstd = join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm');
    const bz = join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.deb12.x86_64.rpm');
    expect([zstd, bz].map((p) => run('rpm', ['-qp', '--nosignature', '--qf', '%{PAYLOADCOMPRESSOR}', p]).stdout)).toEqual(['zstd', 'bzip2']);
    const disk = diskOf('payloads', [zstd, bz]);
    // anaconda utils/dd/rpmutils.c explodeDDRPM(): Fdopen(fdi, "r.<compressor>dio") for any
    // compressor but gzip/xz hands libarchive the compressed stream: the outcome is the
    // installer's libarchive, i.e. the release's, whichever package it is. 6.1.0-60.el8.x86_64 is
    // a made-up RHEL 8 release that the bzip2 kmod's `kernel-modules >= 6.1.0-56` lists.
    const K8 = '6.1.0-60.el8.x86_64';
    const r = dudkit(['verify', disk, '--kernel', K94, '--kernel', K8, '--json']);
    const doc = JSON.parse(r.stdout) as VerifyJson;
    const w = doc.findings.filter((f) => f.code === 'RHDD_PAYLOAD_COMPRESSOR');
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ severity: 'warning', subject: 'rpms/x86_64' });
    expect(w[0]!.message).toContain('kmod-acme-acmenet-2.4.1-3.deb12.x86_64.rpm: payload compressed with bzip2; kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm: payload compressed with zstd: ');
    expect(w[0]!.message).toContain(`RHEL 7 and 8 only where their libarchive has bzip2, zstd; of the installer kernels checked, ${K8} (RHEL 8) may extract nothing of them`);
    expect(w[0]!.message).not.toContain(`${K94} (RHEL`);
    // both are still listed and extracted for their kernels (the model does not call them unused)
    expect(doc.details.kernels.find((k) => k.kernel === K94)!.loaded).toEqual(['acmenet', 'acmestor']);
    expect(doc.details.kernels.find((k) => k.kernel === K8)!.loaded).toEqual(['acmenet', 'acmestor']);
  });
});
