import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, run, rpmVercmp } from './helpers/run.js';
import { ACME_FULL } from './helpers/manifest.js';

const dir = tempDir();
const EPOCH = '1700000000';
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const K94 = '5.14.0-427.13.1.el9_4.x86_64';

function manifest(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `${ACME_FULL}${body}`);
  return p;
}

async function buildQuiet(path: string, out: string, only?: string[]) {
  const warnings: string[] = [];
  const ctx = createContext({ epoch: Number(EPOCH), onWarn: (m) => warnings.push(m) });
  const result = await build(path, { outDir: out, ctx, ...(only ? { only } : {}) });
  return { result, warnings };
}

/** Package-level data of a primary.xml.gz: href → [pkgid, size, name]. */
function primary(repo: string): Map<string, string[]> {
  const repodata = join(repo, 'repodata');
  const file = readdirSync(repodata).find((f) => f.endsWith('primary.xml.gz'))!;
  const xml = run('zcat', [join(repodata, file)]).stdout;
  const out = new Map<string, string[]>();
  for (const pkg of xml.split('<package ').slice(1)) {
    const href = /<location href="([^"]+)"/.exec(pkg)![1]!;
    out.set(href, [/<checksum type="sha256" pkgid="YES">([0-9a-f]+)</.exec(pkg)![1]!, /<size package="(\d+)"/.exec(pkg)![1]!, /<name>([^<]+)</.exec(pkg)![1]!]);
  }
  return out;
}

describe('rhdd3: two el9 minors from modules + firmware (the example disk)', () => {
  const out = join(dir, 'two-minors');
  let warnings: string[] = [];
  beforeAll(async () => {
    const m = manifest(
      'two.yaml',
      `sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko.xz
  - ko: ${FIXTURES}/ko/${K94}/*.ko
firmware:
  - file: ${FIXTURES}/firmware/acmenet.bin
    dest: acme/acmenet.bin
targets:
  - rhdd3: { out: dd.iso, checksums: [md5, sha256] }
  - rhdd3: { out: dd, format: directory }
`,
    );
    ({ warnings } = await buildQuiet(m, out));
  });

  it('isoinfo and blkid see an OEMDRV volume with Rock Ridge names', () => {
    const d = run('isoinfo', ['-d', '-i', join(out, 'dd.iso')]).stdout;
    expect(d).toMatch(/Volume id: OEMDRV/);
    expect(d).toMatch(/Rock Ridge signatures version 1 found/);
    expect(run('blkid', ['-p', join(out, 'dd.iso')]).stdout).toMatch(/LABEL="OEMDRV".*TYPE="iso9660"/);
    const names = run('isoinfo', ['-R', '-f', '-i', join(out, 'dd.iso')]).stdout.split('\n');
    expect(names).toContain('/rhdd3');
    expect(names).toContain(`/rpms/x86_64/kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm`);
    expect(names).toContain(`/rpms/x86_64/acme-acmenet-firmware-2.4.1-3.noarch.rpm`);
    expect(names.some((n) => /^\/rpms\/x86_64\/repodata\/[0-9a-f]{64}-primary\.xml\.gz$/.test(n))).toBe(true);
    expect(names).not.toContain('/ks.cfg');
  });

  it('bsdtar extracts the same tree as the directory target; md5sum/sha256sum -c accept the sidecars', () => {
    const t = join(dir, 'extracted');
    mkdirSync(t);
    expect(run('bsdtar', ['-xf', join(out, 'dd.iso'), '-C', t]).status).toBe(0);
    expect(readFileSync(join(t, 'rhdd3'), 'utf8')).toBe('Driver Update Disk version 3');
    expect(run('diff', ['-r', t, join(out, 'dd')]).status).toBe(0);
    expect(run('md5sum', ['-c', 'dd.iso.md5'], { cwd: out }).status).toBe(0);
    expect(run('sha256sum', ['-c', 'dd.iso.sha256'], { cwd: out }).status).toBe(0);
  });

  it('rpm -K accepts every package; rpm -qp shows one kernel-modules = K per kmod and the firmware Requires', () => {
    const repo = join(out, 'dd/rpms/x86_64');
    for (const f of readdirSync(repo).filter((n) => n.endsWith('.rpm'))) {
      expect(run('rpm', ['-K', '--nosignature', join(repo, f)]).stdout).toMatch(/digests OK/);
      const q = run('rpm', ['-qp', '--nosignature', '--qf', '%{ARCH}|%{PAYLOADFORMAT}|%{PAYLOADCOMPRESSOR}', join(repo, f)]).stdout;
      expect(q).toMatch(/^(x86_64|noarch)\|cpio\|xz$/);
    }
    const k93 = join(repo, 'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm');
    const provides = run('rpm', ['-qp', '--nosignature', '--provides', k93]).stdout;
    expect(provides).toContain(`kernel-modules = ${K93}`);
    expect(provides).toContain('kmod-acmenet = 2.4.1-3.362.8.1.el9_3');
    expect(run('rpm', ['-qp', '--nosignature', '--requires', k93]).stdout).toContain('acme-acmenet-firmware');
    // the 9.3 modules were given as .ko.xz: the disk carries plain .ko (installers before 9.6)
    const files = run('rpm', ['-qp', '--nosignature', '-l', k93]).stdout;
    expect(files).toContain(`/lib/modules/${K93}/extra/acmenet/acmenet.ko\n`);
    expect(warnings).toEqual([]);
  });

  it('rpm -i --root installs the modules and the firmware where expected, byte-equal', () => {
    const root = join(dir, 'root');
    const repo = join(out, 'dd/rpms/x86_64');
    const r = run('rpm', ['-i', '--root', root, '--nodeps', '--noscripts', '--nosignature', join(repo, 'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm'), join(repo, 'acme-acmenet-firmware-2.4.1-3.noarch.rpm')]);
    expect(r.status).toBe(0);
    // Debian's rpm prints a notice about not managing Debian's own packages; anything else is a failure
    expect(r.stderr.split('\n').filter((l) => l && !/^rpm: (RPM should not be used directly|However assuming you know)/.test(l))).toEqual([]);
    expect(readFileSync(join(root, `lib/modules/${K93}/extra/acmenet/acmenet.ko`)).equals(readFileSync(join(FIXTURES, 'ko', K93, 'acmenet.ko')))).toBe(true);
    expect(readFileSync(join(root, 'lib/firmware/acme/acmenet.bin')).equals(readFileSync(join(FIXTURES, 'firmware/acmenet.bin')))).toBe(true);
    expect(existsSync(join(root, 'etc/depmod.d/acmenet.conf'))).toBe(true);
  });

  it("rpm's own vercmp: exactly one kmod matches each installer kernel", () => {
    const repo = join(out, 'dd/rpms/x86_64');
    const kmods = readdirSync(repo).filter((n) => n.startsWith('kmod-'));
    for (const K of [K93, K94]) {
      const matching = kmods.filter((f) => {
        const lines = run('rpm', ['-qp', '--nosignature', '--qf', '[%{PROVIDENAME}|%{PROVIDEFLAGS}|%{PROVIDEVERSION}\n]', join(repo, f)]).stdout.trim().split('\n');
        return lines.some((l) => {
          const [name, flags, version] = l.split('|');
          if (name !== 'kernel-modules' || !version) return false;
          const c = rpmVercmp([[K, version]])[0]!;
          const f = Number(flags);
          return (c < 0 && (f & 2) !== 0) || (c === 0 && (f & 8) !== 0) || (c > 0 && (f & 4) !== 0);
        });
      });
      expect(matching).toHaveLength(1);
    }
  });

  it('dnf repoquery reads the repodata; createrepo_c gives the same packages, checksums and sizes', () => {
    const repo = join(out, 'dd/rpms/x86_64');
    const d = join(dir, 'dnf');
    const q = run('dnf', ['-q', `--installroot=${d}/root`, '--releasever=9', '--setopt=reposdir=/nonexistent', `--setopt=cachedir=${d}/cache`, '--setopt=skip_if_unavailable=False', `--repofrompath=dd,file://${repo}`, '--repo=dd', 'repoquery', '--qf', '%{name}-%{evr}.%{arch}']);
    expect(q.status).toBe(0);
    expect(q.stdout.trim().split('\n').sort()).toEqual([
      'acme-acmenet-firmware-2.4.1-3.noarch',
      'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64',
      'kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64',
    ]);
    const copy = join(dir, 'createrepo');
    cpSync(repo, copy, { recursive: true });
    rmSync(join(copy, 'repodata'), { recursive: true });
    expect(run('createrepo_c', ['--no-database', '--general-compress-type=gz', copy]).status).toBe(0);
    expect(primary(repo)).toEqual(primary(copy));
  });

  it('two builds with the same SOURCE_DATE_EPOCH are byte-identical', async () => {
    const again = join(dir, 'again');
    await buildQuiet(join(dir, 'two.yaml'), again, ['rhdd3:dd.iso']);
    expect(readFileSync(join(again, 'dd.iso')).equals(readFileSync(join(out, 'dd.iso')))).toBe(true);
  });
});

describe('rhdd3: given RPMs', () => {
  it('a zstd-payload kmod for another minor builds with a warning naming the releases; noarch and source RPMs are placed', async () => {
    const m = manifest(
      'given.yaml',
      `sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
  - rpm: ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm
  - rpm: [${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm, ${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.src.rpm]
targets:
  - rhdd3: { out: given, format: directory }
`,
    );
    const out = join(dir, 'given-out');
    const { warnings } = await buildQuiet(m, out);
    expect(warnings.join('\n')).toMatch(/kmod-acme-acmenet-2\.4\.1-3\.el9_4\.x86_64\.rpm: payload compressed with zstd: .*RHEL 6–10/);
    const repo = join(out, 'given/rpms/x86_64');
    expect(readdirSync(repo).sort()).toEqual([
      'acme-acmenet-firmware-2.4.1-1.noarch.rpm',
      'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm',
      'kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm',
      'repodata',
    ]);
    expect(readdirSync(join(out, 'given/src'))).toEqual(['acme-acmenet-firmware-2.4.1-1.src.rpm']);
    // our 9.3 package must not use >= (it would also match the 9.4 kernel the given RPM serves)
    expect(run('rpm', ['-qp', '--nosignature', '--provides', join(repo, 'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm')]).stdout).toContain(`kernel-modules = ${K93}`);
  });

  it('refuses (exit 2, one line, nothing written) two packages that match the same kernel', () => {
    const m = manifest(
      'clash.yaml',
      `sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
  - rpm: ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm
  - rpm: ${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm
targets:
  - rhdd3: { out: clash.iso }
`,
    );
    const r = dudkit(['build', m, '-o', join(dir, 'clash-out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`for installer kernel ${K93.replace(/\./g, '\\.')} both .* carry module acmenet`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'clash-out/clash.iso'))).toBe(false);
  });

  it('refuses a description line `---` and a manifest typo, naming the file', () => {
    const bad = manifest('dash.yaml', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhdd3: { out: d.iso }\n`.replace('sources', 'license: GPL-2.0-only\nsources'));
    writeFileSync(bad, readFileSync(bad, 'utf8').replace(/^description: .*$/m, 'description: "first\\n---\\nlast"'));
    const r = dudkit(['build', bad, '-o', join(dir, 'dash-out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/description line 2 is "---"/);
    const typo = manifest('typo.yaml', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhdd3: { out: d.iso, volumeID: X }\n`);
    const t = dudkit(['build', typo]);
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/typo\.yaml: unknown key `targets\[0\]\.rhdd3\.volumeID`: did you mean `volumeId`\?/);
    const missing = manifest('missing.yaml', `sources:\n  - ko: ${dir}/nothing/*.ko\ntargets:\n  - rhdd3: {}\n`);
    const u = dudkit(['build', missing]);
    expect(u.status).toBe(2);
    expect(u.stderr).toMatch(/missing\.yaml: sources\[0\]\.ko: ".*nothing\/\*\.ko" matches no file/);
    expect(t.stderr + u.stderr).not.toMatch(/\n\s+at /);
  });

  it('a dkms build tree is a source too: its built modules for the chosen kernel become the kmod', async () => {
    const m = manifest(
      'dkms.yaml',
      `sources:
  - dkms: ${FIXTURES}/dkms/acmenet/2.4.1
    kernel: ${K94}
targets:
  - rhdd3: { out: dkms, format: directory }
`,
    );
    const out = join(dir, 'dkms-out');
    await buildQuiet(m, out);
    const kmod = join(out, 'dkms/rpms/x86_64/kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64.rpm');
    expect(run('rpm', ['-qp', '--nosignature', '-l', kmod]).stdout).toContain(`/lib/modules/${K94}/extra/acmenet/acmestor.ko`);
    expect(run('rpm', ['-K', '--nosignature', kmod]).stdout).toMatch(/digests OK/);
  });

  it("a single-stream disk uses >= K: rpm's vercmp matches the later z-stream kernels of that minor, not older ones", async () => {
    const m = manifest('single.yaml', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhdd3: { out: single, format: directory }\n`);
    const out = join(dir, 'single-out');
    await buildQuiet(m, out);
    const kmod = join(out, 'single/rpms/x86_64/kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm');
    const lines = run('rpm', ['-qp', '--nosignature', '--qf', '[%{PROVIDENAME}|%{PROVIDEFLAGS}|%{PROVIDEVERSION}\n]', kmod]).stdout.trim().split('\n');
    const km = lines.filter((l) => l.startsWith('kernel-modules|')).map((l) => l.split('|'));
    expect(km).toEqual([['kernel-modules', '12', K93]]); // 12 = GREATER | EQUAL
    const later = ['5.14.0-362.13.1.el9_3.x86_64', '5.14.0-362.24.1.el9_3.x86_64', K93];
    expect(rpmVercmp(later.map((k) => [k, K93]))).toEqual([1, 1, 0]);
    expect(rpmVercmp([['5.14.0-284.30.1.el9_2.x86_64', K93]])).toEqual([-1]);
    // and dudkit's own verify agrees: those kernels load this package
    const v = dudkit(['verify', join(out, 'single'), ...later.flatMap((k) => ['--kernel', k])]);
    expect(v.status).toBe(0);
    for (const k of later) expect(v.stdout).toContain(`installer kernel ${k}: uses kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm`);
  });

  it('kernels: lists installer kernels the disk must serve; one nothing matches is refused (exit 2)', () => {
    const ok = manifest('kernels-ok.yaml', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhdd3: { out: k, format: directory, kernels: [${K93}, 5.14.0-362.24.1.el9_3.x86_64] }\n`);
    expect(dudkit(['build', ok, '-o', join(dir, 'kernels-ok')]).status).toBe(0);
    const bad = manifest('kernels-bad.yaml', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhdd3: { out: k, format: directory, kernelModules: exact, kernels: [5.14.0-362.24.1.el9_3.x86_64] }\n`);
    const r = dudkit(['build', bad, '-o', join(dir, 'kernels-bad')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/kernels: no package on the disk gives installer kernel 5\.14\.0-362\.24\.1\.el9_3\.x86_64 \(x86_64\) its modules/);
    expect(existsSync(join(dir, 'kernels-bad/k'))).toBe(false);
  });

  it('a given kmod with kernel-modules >= K is checked against K, and verify sees K load it; its firmware RPM (no kernel-modules Provides, rpm -qp) is never extracted: a warning says so (issue 19 conv2 item 3)', async () => {
    // with the firmware package its module names (/lib/firmware/acme/acmenet.bin)
    const fw = `${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm`;
    const m = manifest('ge.yaml', `sources:\n  - rpm: ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm\n  - rpm: ${fw}\ntargets:\n  - rhdd3: { out: ge, format: directory }\n`);
    const out = join(dir, 'ge-out');
    const { warnings } = await buildQuiet(m, out);
    expect(run('rpm', ['-qp', '--nosignature', '--provides', fw]).stdout).not.toContain('kernel-modules');
    expect(warnings).toEqual([
      'acme-acmenet-firmware-2.4.1-1.noarch.rpm: no installer kernel of the disk extracts its firmware /lib/firmware/acme/acmenet-2.4.1.bin, /lib/firmware/acme/acmenet.bin, /lib/firmware/acme/acmenet.state: it has no kernel-modules Provides, and the installer (dd_list/dd_extract) extracts only packages whose kernel-modules Provides match its kernel; a module needing it finds none in the installer: ship the files with firmware: (dudkit\'s firmware package matches the kmods\' kernels)',
    ]);
    const v = dudkit(['verify', join(out, 'ge')]);
    expect(v.status).toBe(0);
    expect(v.stdout).toContain('installer kernel 4.18.0-513.5.1.el8_9.x86_64: uses kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm');
  });
});

describe('rhdd3: firmware: entries beside given kmod RPMs only (issue 19 conv2 item 3)', () => {
  it('the firmware package takes the given kmods’ kernel-modules Provides (rpm -qp reads them on both), so the installer extracts it: no warning', async () => {
    const kmod = `${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm`;
    const m = manifest('fw-given.yaml', `firmware:\n  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }\nsources:\n  - rpm: ${kmod}\ntargets:\n  - rhdd3: { out: fwg, format: directory }\n`);
    const out = join(dir, 'fw-given-out');
    const { warnings } = await buildQuiet(m, out);
    expect(warnings).toEqual([]);
    const repo = join(out, 'fwg/rpms/x86_64');
    const fw = readdirSync(repo).find((f) => f.includes('-firmware-'))!;
    const km = (rpm: string) => run('rpm', ['-qp', '--nosignature', '--provides', rpm]).stdout.split('\n').filter((p) => p.startsWith('kernel-modules '));
    expect(km(kmod)).toHaveLength(1);
    expect(km(join(repo, fw))).toEqual(km(kmod));
  });
});
