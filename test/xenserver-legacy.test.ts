import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { installScript } from '../src/formats/xenserver/install.js';
import { xsPackages, xsRepository } from '../src/formats/xenserver/legacy.js';
import { classifyRpm, installOrder } from '../src/formats/xenserver/rules.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import { ACME_FULL } from './helpers/manifest.js';

const dir = tempDir();
const EPOCH = '1700000000';
const DEB = readdirSync(join(FIXTURES, 'ko')).find((k) => k.endsWith('-amd64'))!;

/** The reference bytes of `xenserver.md` §3.2 and §3.3. */
const SPEC_REPOSITORY = `<repository build="42" enforce-homogeneity="true" memory-requirement-mb="64" name="foo-pack" originator="acme" product="XenServer" version="1.2.3">
  <description>ACME foo driver pack</description>
  <requires name="main" originator="xs" product="XenServer" test="eq" version="6.5.0"/>
</repository>
`;
const SPEC_PACKAGES = `<packages>
  <package label="foo-utils" md5="5167d067a122f333e32edf34e39b7765" size="6110" type="rpm">foo-utils-1.0-1.noarch.rpm</package>
  <package kernel="4.19.0+1" label="foo" md5="f36a6e77e3f2baf60d2418f0eb324708" size="6177" type="driver-rpm">foo-4.19.0+1-modules-1.2.3-1.x86_64.rpm</package>
</packages>
`;

function manifest(name: string, targets: string): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `${ACME_FULL}sources:
  - ko: ${FIXTURES}/ko/${DEB}/*.ko
    kernel: 3.10.0+2
firmware:
  - file: ${FIXTURES}/firmware/acmenet.bin
    dest: acme/acmenet.bin
targets:
${targets}`,
  );
  return p;
}

async function buildQuiet(path: string, out: string) {
  const ctx = createContext({ epoch: Number(EPOCH), onWarn: () => {} });
  return build(path, { outDir: out, ctx });
}

function extract(iso: string, to: string): string {
  const r = run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', to]);
  expect(r.status, r.stderr).toBe(0);
  return to;
}

describe('legacy metadata bytes (xenserver.md §3.2, §3.3)', () => {
  const repository = xsRepository({
    originator: 'acme',
    name: 'foo-pack',
    product: 'XenServer',
    version: '1.2.3',
    build: '42',
    description: 'ACME foo driver pack',
    requires: [{ originator: 'xs', name: 'main', test: 'eq', version: '6.5.0' }],
    enforceHomogeneity: true,
    memoryRequirementMb: 64,
  });
  const packages = xsPackages([
    { type: 'rpm', label: 'foo-utils', md5: '5167d067a122f333e32edf34e39b7765', size: 6110, file: 'foo-utils-1.0-1.noarch.rpm' },
    { type: 'driver-rpm', label: 'foo', kernel: '4.19.0+1', md5: 'f36a6e77e3f2baf60d2418f0eb324708', size: 6177, file: 'foo-4.19.0+1-modules-1.2.3-1.x86_64.rpm' },
  ]);

  it('equal the reference bytes for the spec example inputs', () => {
    expect(repository).toBe(SPEC_REPOSITORY);
    expect(packages).toBe(SPEC_PACKAGES);
  });

  it('xmllint --noout parses them; the description is the first child', () => {
    const r = join(dir, 'XS-REPOSITORY'), p = join(dir, 'XS-PACKAGES');
    writeFileSync(r, repository);
    writeFileSync(p, packages);
    expect(run('xmllint', ['--noout', r, p]).status).toBe(0);
    expect(run('xmllint', ['--xpath', 'name(/repository/*[1])', r]).stdout.trim()).toBe('description');
  });

  it('escapes & < " > only, and xmllint reads the text back', () => {
    const xml = xsRepository({ originator: 'acme', name: 'foo', product: 'XenServer', version: '1', description: `Foo & <bar> "pack" it's`, requires: [] });
    expect(xml).toBe(`<repository name="foo" originator="acme" product="XenServer" version="1">\n  <description>Foo &amp; &lt;bar&gt; &quot;pack&quot; it's</description>\n</repository>\n`);
    const f = join(dir, 'escaped');
    writeFileSync(f, xml);
    expect(run('xmllint', ['--xpath', 'string(/repository/description)', f]).stdout.trimEnd()).toBe(`Foo & <bar> "pack" it's`);
  });

  it('refuses an empty description, a bad test and non-ASCII', () => {
    const base = { originator: 'acme', name: 'foo', product: 'XenServer', version: '1', requires: [] };
    expect(() => xsRepository({ ...base, description: ' ' })).toThrow(/empty/);
    expect(() => xsRepository({ ...base, description: 'x', requires: [{ originator: 'xs', name: 'main', test: 'is' as 'eq', version: '7' }] })).toThrow(/test "is"/);
    expect(() => xsRepository({ ...base, description: 'Pilote réseau' })).toThrow(/U\+00E9/);
  });
});

describe('classification and order (xenserver.md §3.3, §3.4)', () => {
  it('classifies as the reference builder: greedy label, kernel any, kernel packages', () => {
    expect(classifyRpm({ name: 'foo-4.19.0+1-modules', group: 'System Environment/Kernel', files: ['/lib/modules/4.19.0+1/updates/foo.ko'] })).toMatchObject({ type: 'driver-rpm', label: 'foo', kernel: '4.19.0+1', problems: [] });
    expect(classifyRpm({ name: 'a-b-3.10.0-1-modules', group: 'System Environment/Kernel', files: [] })).toMatchObject({ label: 'a-b-3.10.0', kernel: '1' });
    expect(classifyRpm({ name: 'foo-module', group: 'System Environment/Kernel', files: ['/lib/modules/x/extra/foo.ko'] }).problems).toHaveLength(1);
    expect(classifyRpm({ name: 'kernel', group: 'System Environment/Kernel', files: [] })).toMatchObject({ type: 'rpm', options: '-i' });
    expect(classifyRpm({ name: 'foo-4.19.0+1-modules', group: 'System Environment/Kernel', files: ['/lib/modules/4.19.0+1/kernel/foo.ko'] }).problems).toHaveLength(1);
    expect(classifyRpm({ name: 'tools', group: 'Applications/System', files: ['/boot/vmlinuz-1'] }).problems).toHaveLength(1);
  });

  it('sorts by Requires, keeping ties in input order, and refuses cycles', () => {
    const p = (id: string, provides: string[], requires: string[]) => ({ id, provides: provides.map((name) => ({ name })), requires: requires.map((name) => ({ name })), files: [] });
    expect(installOrder([p('a', ['a'], ['c']), p('b', ['b'], []), p('c', ['c'], [])]).map((x) => x.id)).toEqual(['b', 'c', 'a']);
    expect(() => installOrder([p('a', ['a'], ['b']), p('b', ['b'], ['a'])])).toThrow(/cycle/);
  });
});

describe('xenserver-legacy: XenServer 6.5 and 7.0 packs from modules + firmware', () => {
  const out = join(dir, 'out');
  const out2 = join(dir, 'out2');
  beforeAll(async () => {
    const m = manifest(
      'packs.yaml',
      `  - xenserver-legacy: { text: ACME acmenet driver, xenserver: 6.5.0, PACK_BUILD: 42, modprobe: [options acmenet rx_ring=1024] }
  - xenserver-legacy: { out: acmenet-xs70.iso, LABEL: acmenet70, TEXT: 'ACME & <acmenet> "7.0"', PACK_VERSION: 2.4.1.7, RPM_RELEASE: 4, requires: "xs:main ge 7.0.0", moduleDir: updates, kernels: { 3.10.0+2: 3.10.0+10 } }
`,
    );
    await buildQuiet(m, out);
    await buildQuiet(m, out2);
  });

  it('isoinfo: volume id = TEXT, application id = vendor name, Rock Ridge and Joliet; file -s says ISO 9660', () => {
    const d = run('isoinfo', ['-d', '-i', join(out, 'acmenet.iso')]).stdout;
    expect(d).toMatch(/Volume id: ACME acmenet driver\n/);
    expect(d).toMatch(/Application id: ACME Networks/);
    expect(d).toMatch(/Rock Ridge signatures/);
    expect(d).toMatch(/Joliet with UCS level/);
    expect(run('file', ['-s', join(out, 'acmenet.iso')]).stdout).toMatch(/ISO 9660 CD-ROM filesystem data/);
    expect(run('isoinfo', ['-d', '-i', join(out, 'acmenet-xs70.iso')]).stdout).toMatch(/Volume id: ACME & <acmenet> "7.0"\n/);
  });

  it('isoinfo -R -l: the flat layout, install r-xr-xr-x; Joliet names are the same', () => {
    const l = run('isoinfo', ['-R', '-l', '-i', join(out, 'acmenet.iso')]).stdout;
    expect(l).toMatch(/-r-xr-xr-x .* install \n/);
    expect(l).toMatch(/dr-xr-xr-x .* \. \n/);
    const names = (opt: string) => run('isoinfo', [opt, '-f', '-i', join(out, 'acmenet.iso')]).stdout.trim().split('\n').sort();
    const want = ['/XS-PACKAGES', '/XS-REPOSITORY', '/acmenet-3.10.0+2-modules-2.4.1-3.x86_64.rpm', '/acmenet-data-2.4.1-3.noarch.rpm', '/install'];
    expect(names('-R')).toEqual(want);
    expect(names('-J')).toEqual(want);
  });

  it('xmllint parses the metadata; reference form; packages listed in order with md5sum sizes and digests', () => {
    const t = extract(join(out, 'acmenet.iso'), join(dir, 't65'));
    expect(run('xmllint', ['--noout', join(t, 'XS-REPOSITORY'), join(t, 'XS-PACKAGES')]).status).toBe(0);
    const repo = readFileSync(join(t, 'XS-REPOSITORY'), 'utf8');
    expect(repo).toBe(`<repository build="42" name="acmenet" originator="acme" product="XenServer" version="2.4.1">
  <description>ACME acmenet driver</description>
  <requires name="main" originator="xs" product="XenServer" test="eq" version="6.5.0"/>
</repository>
`);
    const pkgs = readFileSync(join(t, 'XS-PACKAGES'), 'utf8');
    const listed = [...pkgs.matchAll(/<package (.*?)>(.*?)<\/package>/g)].map((m) => ({ attrs: m[1]!, file: m[2]! }));
    // the data RPM is required by the driver RPM: it comes first
    expect(listed.map((p) => p.file)).toEqual(['acmenet-data-2.4.1-3.noarch.rpm', 'acmenet-3.10.0+2-modules-2.4.1-3.x86_64.rpm']);
    expect(listed[1]!.attrs).toMatch(/^kernel="3\.10\.0\+2" label="acmenet" md5="[0-9a-f]{32}" size="\d+" type="driver-rpm"$/);
    expect(listed[0]!.attrs).toMatch(/^label="acmenet-data" md5="[0-9a-f]{32}" size="\d+" type="rpm"$/);
    for (const p of listed) {
      expect(p.attrs).toContain(`md5="${run('md5sum', [join(t, p.file)]).stdout.slice(0, 32)}"`);
      expect(p.attrs).toContain(`size="${run('stat', ['-c', '%s', join(t, p.file)]).stdout.trim()}"`);
    }
  });

  it('<name>.metadata.md5 and <name>.iso.md5 equal the md5sum-computed values byte for byte', () => {
    const t = join(dir, 't65');
    const meta = run('sh', ['-c', `cat XS-REPOSITORY XS-PACKAGES | md5sum | cut -c1-32`], { cwd: t }).stdout;
    expect(meta).toHaveLength(33);
    expect(readFileSync(join(out, 'acmenet.metadata.md5'), 'utf8')).toBe(meta);
    expect(readFileSync(join(out, 'acmenet.iso.md5'), 'utf8')).toBe(run('md5sum', ['acmenet.iso'], { cwd: out }).stdout);
    expect(existsSync(join(out, 'acmenet-xs70.metadata.md5'))).toBe(true);
  });

  it('rpm -qp: names, groups, files, gzip + MD5 digests for 6.5, xz + SHA-256 for 7.0, depmod scriptlets', () => {
    const t = join(dir, 't65');
    const q = (f: string) => run('rpm', ['-qp', '--qf', '%{NAME}|%{GROUP}|%{PAYLOADCOMPRESSOR}|%{FILEDIGESTALGO}|%{VERSION}-%{RELEASE}', f]).stdout;
    const drv = join(t, 'acmenet-3.10.0+2-modules-2.4.1-3.x86_64.rpm');
    expect(q(drv)).toBe('acmenet-3.10.0+2-modules|System Environment/Kernel|gzip|(none)|2.4.1-3');
    expect(run('rpm', ['-qpl', drv]).stdout.trim().split('\n')).toEqual(['/lib/modules/3.10.0+2/extra/acmenet.ko', '/lib/modules/3.10.0+2/extra/acmestor.ko']);
    expect(run('rpm', ['-qp', '--scripts', drv]).stdout).toMatch(/postinstall scriptlet[^\n]*\ndepmod -a '3\.10\.0\+2'/);
    expect(run('rpm', ['-qp', '--requires', drv]).stdout).toMatch(/^acmenet-data = 2\.4\.1-3$/m);
    expect(run('rpm', ['-qp', '--requires', drv]).stdout).not.toMatch(/FileDigests/);
    const data = join(t, 'acmenet-data-2.4.1-3.noarch.rpm');
    expect(q(data)).toBe('acmenet-data|System Environment/Base|gzip|(none)|2.4.1-3');
    expect(run('rpm', ['-qpl', data]).stdout.trim().split('\n')).toEqual(['/etc/modprobe.d/acmenet.conf', '/lib/firmware/acme', '/lib/firmware/acme/acmenet.bin']);
    expect(run('rpm2cpio', [data]).status).toBe(0);

    const t70 = extract(join(out, 'acmenet-xs70.iso'), join(dir, 't70'));
    const drv70 = join(t70, 'acmenet70-3.10.0+10-modules-2.4.1-4.x86_64.rpm');
    expect(q(drv70)).toBe('acmenet70-3.10.0+10-modules|System Environment/Kernel|xz|8|2.4.1-4');
    expect(run('rpm', ['-qpl', drv70]).stdout.trim().split('\n')).toEqual(['/lib/modules/3.10.0+10/updates/acmenet.ko', '/lib/modules/3.10.0+10/updates/acmestor.ko']);
    expect(run('rpm', ['-K', drv70]).stdout).toMatch(/digests OK/);
  });

  it('rpm -i --root installs the 6.5 pack in XS-PACKAGES order; rpm -V --root checks the MD5 file digests', () => {
    const t = join(dir, 't65');
    const root = join(dir, 'rpmroot');
    const r = run('rpm', ['-i', '--root', root, '--noscripts', '--nosignature', '--nodeps', join(t, 'acmenet-data-2.4.1-3.noarch.rpm'), join(t, 'acmenet-3.10.0+2-modules-2.4.1-3.x86_64.rpm')]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(root, 'lib/modules/3.10.0+2/extra/acmenet.ko')).equals(readFileSync(join(FIXTURES, 'ko', DEB, 'acmenet.ko')))).toBe(true);
    expect(readFileSync(join(root, 'etc/modprobe.d/acmenet.conf'), 'utf8')).toBe('options acmenet rx_ring=1024\n');
    const v = run('rpm', ['-V', '--root', root, '--nodeps', '--noscripts', 'acmenet-3.10.0+2-modules', 'acmenet-data']);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(run('rpm', ['-K', '--nosignature', join(t, 'acmenet-3.10.0+2-modules-2.4.1-3.x86_64.rpm')]).stdout).toMatch(/digests OK/);
  });

  it('DDK names: LABEL, TEXT (escaped), PACK_VERSION, requires ge', () => {
    const repo = readFileSync(join(dir, 't70', 'XS-REPOSITORY'), 'utf8');
    expect(repo).toBe(`<repository name="acmenet70" originator="acme" product="XenServer" version="2.4.1.7">
  <description>ACME &amp; &lt;acmenet&gt; &quot;7.0&quot;</description>
  <requires name="main" originator="xs" product="XenServer" test="ge" version="7.0.0"/>
</repository>
`);
    expect(run('xmllint', ['--xpath', 'string(/repository/description)', join(dir, 't70', 'XS-REPOSITORY')]).stdout.trimEnd()).toBe('ACME & <acmenet> "7.0"');
  });

  it('two builds are byte-identical', () => {
    for (const f of ['acmenet.iso', 'acmenet.iso.md5', 'acmenet.metadata.md5', 'acmenet-xs70.iso']) expect(run('cmp', [join(out, f), join(out2, f)]).status, f).toBe(0);
  });

  it('dudkit verify accepts the packs and fails a pack whose RPM was altered', () => {
    const ok = dudkit(['verify', join(out, 'acmenet.iso'), '--json']);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'xenserver-legacy', ok: true });
    expect(dudkit(['verify', join(out, 'acmenet-xs70.iso')]).status).toBe(0);
    const inspected = dudkit(['inspect', join(out, 'acmenet.iso')]);
    expect(inspected.status).toBe(0);
    expect(inspected.stdout).toMatch(/XenServer legacy supplemental pack acme:acmenet 2\.4\.1 build 42 \(XenServer\)/);
    expect(inspected.stdout).toContain(`metadata MD5: ${readFileSync(join(out, 'acmenet.metadata.md5'), 'utf8').trim()}`);
    // a folder copy with one package byte changed and a stale metadata list
    const bad = join(dir, 'bad');
    run('cp', ['-r', join(dir, 't65'), bad]);
    const rpm = join(bad, 'acmenet-data-2.4.1-3.noarch.rpm');
    chmodSync(rpm, 0o644);
    const bytes = readFileSync(rpm);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(rpm, bytes);
    const r = dudkit(['verify', bad]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/MD5 mismatch/);
    // xapi's rule: <description> must be the first child; a declaration is not the reference form
    const repo = join(bad, 'XS-REPOSITORY');
    chmodSync(repo, 0o644);
    const lines = readFileSync(repo, 'utf8').split('\n');
    writeFileSync(repo, `<?xml version="1.0"?>\n${[lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n')}`);
    const r2 = dudkit(['verify', bad, '--json']);
    expect(r2.status).toBe(1);
    const messages = (JSON.parse(r2.stdout) as { findings: { message: string }[] }).findings.map((f) => f.message).join('\n');
    expect(messages).toMatch(/first child of <repository> is not a non-empty <description>/);
    expect(messages).toMatch(/does not start with <repository/);
  });

  it('the install script (sh) checks product, requirements, sizes and MD5s, installs in order and records the pack', () => {
    const t = join(dir, 't65');
    const root = join(dir, 'root');
    const bin = join(dir, 'bin');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'rpm.log');
    writeFileSync(join(bin, 'rpm'), `#!/bin/sh\ncase " $* " in *" -qp "*) echo "$4"; exit 0 ;; *" -q "*) exit 1 ;; esac\necho "$*" >> ${log}\n`, { mode: 0o755 });
    const env = { XS_ROOT: root, PATH: `${bin}:${process.env.PATH}` };
    writeFileSync(join(root, 'etc/xensource-inventory'), `PRODUCT_BRAND='XenServer'\nPRODUCT_VERSION='6.5.0'\nINSTALLATION_UUID='x'\n`);
    const r = run('sh', [join(t, 'install'), '--batch'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`--root ${root} -Uhv acmenet-data-2.4.1-3.noarch.rpm\n--root ${root} -Uhv acmenet-3.10.0+2-modules-2.4.1-3.x86_64.rpm\n`);
    expect(readFileSync(join(root, 'etc/xensource/installed-repos/acme:acmenet/XS-REPOSITORY'), 'utf8')).toBe(readFileSync(join(t, 'XS-REPOSITORY'), 'utf8'));
    // installed already; wrong release
    expect(run('sh', [join(t, 'install')], { env }).stderr).toMatch(/installed already/);
    writeFileSync(join(root, 'etc/xensource-inventory'), `PRODUCT_BRAND='XenServer'\nPRODUCT_VERSION='6.2.0'\n`);
    const wrong = run('sh', [join(t, 'install'), '--upgrade'], { env });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/requires xs:main eq 6\.5\.0, found 6\.2\.0/);
    const s = installScript({ originator: 'a', name: 'b', product: 'XenServer', version: '1', requires: [], packages: [{ file: "it's.rpm", size: 1, md5: '0'.repeat(32), options: '-i' }] });
    expect(s).toContain(`add 'it'\\''s.rpm' -ihv`);
    expect(run('sh', ['-n'], { input: s }).status).toBe(0);
  });
});

describe('xenserver-legacy with given RPMs', () => {
  it('lists a given firmware RPM as type rpm and warns that XenServer 6.5 cannot read its payload', async () => {
    const out = join(dir, 'given');
    const warnings: string[] = [];
    const m = manifest('given.yaml', `  - xenserver-legacy: { text: ACME, xenserver: 6.5.0 }\n`);
    writeFileSync(m, readFileSync(m, 'utf8').replace('firmware:\n', `  - rpm: ${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm\nfirmware:\n`));
    await build(m, { outDir: out, ctx: createContext({ epoch: Number(EPOCH), onWarn: (w) => warnings.push(w) }) });
    const t = extract(join(out, 'acmenet.iso'), join(dir, 'given-t'));
    expect(readFileSync(join(t, 'XS-PACKAGES'), 'utf8')).toMatch(/<package label="acme-acmenet-firmware" md5="[0-9a-f]{32}" size="\d+" type="rpm">acme-acmenet-firmware-2\.4\.1-1\.noarch\.rpm<\/package>/);
    expect(warnings.some((w) => /acme-acmenet-firmware-2\.4\.1-1\.noarch\.rpm: \w+ payload.*cannot install it/.test(w))).toBe(true);
    expect(dudkit(['verify', join(out, 'acmenet.iso')]).status).toBe(0);
  });

  it('dudkit build refuses a given RHEL kmod RPM (Kernel group, not <label>-<kver>-modules) naming the file', () => {
    const m = manifest('kmod.yaml', `  - xenserver-legacy: { text: ACME }\n`);
    writeFileSync(m, readFileSync(m, 'utf8').replace('firmware:\n', `  - rpm: ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm\nfirmware:\n`));
    const out = join(dir, 'kmod-out');
    const r = dudkit(['build', m, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/kmod-acme-acmenet-2\.4\.1-3\.el9_3\.x86_64\.rpm.*kernel="any"/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});

describe('xenserver-legacy refusals (exit 2, nothing written)', () => {
  const cases: [string, string, RegExp][] = [
    ['text of 33 characters', `  - xenserver-legacy: { text: ${'x'.repeat(33)} }\n`, /text: is 33 characters.*volume id/],
    ['a UUID (legacy packs have none)', `  - xenserver-legacy: { UUID: 6854ab19-f807-4444-b94f-3ce7d64efe50 }\n`, /UUID: legacy packs .* have no UUID/],
    ['LABEL given twice', `  - xenserver-legacy: { LABEL: a, label: b }\n`, /given twice/],
    ['a bad requires test', `  - xenserver-legacy: { requires: "xs:main is 6.5.0" }\n`, /originator:name test version/],
    ['xz for XenServer 6.5', `  - xenserver-legacy: { xenserver: 6.5.0, payload: xz }\n`, /reads gzip payloads only/],
  ];
  for (const [what, target, message] of cases) {
    it(`dudkit build refuses ${what}`, () => {
      const out = join(dir, `refused-${what.replace(/\W+/g, '-')}`);
      const r = dudkit(['build', manifest(`refuse-${what.replace(/\W+/g, '-')}.yaml`, target), '-o', out]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

  it('dudkit build refuses a kernel release with "-" in a driver RPM name (the builders split there)', () => {
    const p = join(dir, 'el9.yaml');
    writeFileSync(p, `name: acmenet\nversion: 2.4.1\nvendor: acme\nsummary: ACME driver\nsources:\n  - ko: ${FIXTURES}/ko/5.14.0-362.8.1.el9_3.x86_64/*.ko\ntargets:\n  - xenserver-legacy: {}\n`);
    const out = join(dir, 'el9-out');
    const r = dudkit(['build', p, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/contains "-".*kernels: \{ 5\.14\.0-362\.8\.1\.el9_3\.x86_64: <dom0 uname -r> \}/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});

describe('xenserver-legacy: build -v names the dom0 kernel each RPM is for (issue 19 conv2 item 1)', () => {
  it('kernels: maps the build to 3.10.0+10: the decision says so, XS-PACKAGES (xorriso) and rpm -qlp read that kernel', () => {
    const m = manifest('v.yaml', `  - xenserver-legacy: { out: v.iso, xenserver: 7.0.0, kernels: { 3.10.0+2: 3.10.0+10 } }\n`);
    const v = dudkit(['build', '-v', m, '-o', join(dir, 'v-out')], { env: { SOURCE_DATE_EPOCH: EPOCH } });
    expect(v.status, v.stderr).toBe(0);
    const line = v.stderr.split('\n').find((l) => /^dudkit: xenserver-legacy: \S+-modules-\S+\.rpm: /.test(l))!;
    expect(line).toContain('for dom0 kernel 3.10.0+10: kernels: maps build kernel 3.10.0+2 to it');
    const rpm = line.split(': ')[2]!;
    const to = extract(join(dir, 'v-out/v.iso'), join(dir, 'v-x'));
    expect(readFileSync(join(to, 'XS-PACKAGES'), 'utf8')).toMatch(new RegExp(`kernel="3\\.10\\.0\\+10"[^>]*>${rpm.replace(/[.+]/g, '\\$&')}<`));
    for (const f of run('rpm', ['-qlp', '--nosignature', join(to, rpm)]).stdout.split('\n').filter(Boolean)) expect(f.startsWith('/lib/modules/3.10.0+10/')).toBe(true);
  });
});
