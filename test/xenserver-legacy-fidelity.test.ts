/**
 * Legacy packs against what the XenServer ≤ 7.0 consumers do (issue 12, items 8, 10 and 11): the
 * packs are built from the real Debian-built modules in fixtures/ko, read back with rpm, xorriso and
 * xmllint, and installed with their own `install` script on a stand-in host; each expectation names
 * the consumer code it comes from.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { installScript } from '../src/formats/xenserver/install.js';
import { classifyRpm } from '../src/formats/xenserver/rules.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import { ACME_FULL } from './helpers/manifest.js';

const dir = tempDir();
const DEB = readdirSync(join(FIXTURES, 'ko')).find((k) => k.endsWith('-amd64'))!;
/** XenServer 6.0's dom0 kernel (its installer's LINUX_KABI_VERSION). */
const XS60 = '2.6.32.12-0.7.1.xs6.0.0.529.170661xen';

function manifest(name: string, target: string, version = '2.4.1'): string {
  const p = join(dir, name);
  writeFileSync(p, `${ACME_FULL.replace('version: 2.4.1', `version: ${version}`)}sources:\n  - ko: ${FIXTURES}/ko/${DEB}/*.ko\n    kernel: ${DEB}\ntargets:\n  - xenserver-legacy: ${target}\n`);
  return p;
}

async function buildPack(name: string, target: string): Promise<{ out: string; tree: string; warnings: string[] }> {
  const out = join(dir, name);
  const warnings: string[] = [];
  await build(manifest(`${name}.yaml`, target), { outDir: out, ctx: createContext({ epoch: 1700000000, onWarn: (w) => warnings.push(w) }) });
  const iso = readdirSync(out).find((f) => f.endsWith('.iso'))!;
  const tree = join(dir, `${name}-tree`);
  const x = run('xorriso', ['-osirrox', 'on', '-indev', join(out, iso), '-extract', '/', tree]);
  expect(x.status, x.stderr).toBe(0);
  run('chmod', ['-R', 'u+w', tree]);
  return { out: join(out, iso), tree, warnings };
}

/** A stand-in XenServer host: its inventory, and an `rpm` that logs what it would install. */
function fakeHost(name: string, productVersion: string): { env: NodeJS.ProcessEnv; log: string } {
  const root = join(dir, name);
  const bin = join(root, 'bin');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(bin, { recursive: true });
  const log = join(root, 'rpm.log');
  writeFileSync(join(bin, 'rpm'), `#!/bin/sh\ncase " $* " in *" -qp "*) echo "$4"; exit 0 ;; *" -q "*) exit 1 ;; esac\necho "$*" >> ${log}\n`, { mode: 0o755 });
  writeFileSync(join(root, 'etc/xensource-inventory'), `PRODUCT_BRAND='XenServer'\nPRODUCT_VERSION='${productVersion}'\nBUILD_NUMBER='125380c'\nINSTALLATION_UUID='x'\n`);
  return { env: { XS_ROOT: root, PATH: `${bin}:${process.env.PATH}` }, log };
}

const attr = (xml: string, name: string) => new RegExp(`<repository[^>]* ${name}="([^"]*)"`).exec(xml)?.[1];

describe('item 10: versions the legacy installer compares (xcp.version arcs, no padding)', () => {
  let short: Awaited<ReturnType<typeof buildPack>>;
  beforeAll(async () => {
    short = await buildPack('short', `{ text: ACME acmenet, requires: "xs:main eq 7.0", kernels: { ${DEB}: 3.10.0+10 } }`);
  });

  it('requires "xs:main eq 7.0" is written 7.0.0, and the pack installs on a PRODUCT_VERSION 7.0.0 host', () => {
    // host-installer repository.py before 1c4605a, LegacyRepository.check_requires with python-libs
    // xcp/version.py Version.ver_cmp: equal common arcs, then the longer version is greater, so
    // "eq 7.0" fails on 7.0.0 ("Repository dependency error"); "eq 7.0.0" passes
    const xml = readFileSync(join(short.tree, 'XS-REPOSITORY'), 'utf8');
    expect(run('xmllint', ['--xpath', 'string(/repository/requires/@version)', join(short.tree, 'XS-REPOSITORY')]).stdout.trim()).toBe('7.0.0');
    expect(xml).toContain('<requires name="main" originator="xs" product="XenServer" test="eq" version="7.0.0"/>');
    const host = fakeHost('host-700', '7.0.0');
    const r = run('sh', [join(short.tree, 'install'), '--batch'], { env: host.env });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(host.log, 'utf8')).toMatch(/-Uhv acmenet-3\.10\.0\+10-modules-2\.4\.1-3\.x86_64\.rpm/);
    expect(dudkit(['verify', short.out]).status).toBe(0);
  });

  it('a pack whose XS-REPOSITORY says version="7.0" (edited after the build) fails verify, and its install script stops as the installer does', () => {
    const edited = join(dir, 'short-edited');
    cpSync(short.tree, edited, { recursive: true });
    const repo = join(edited, 'XS-REPOSITORY');
    writeFileSync(repo, readFileSync(repo, 'utf8').replace('version="7.0.0"/>', 'version="7.0"/>'));
    const v = dudkit(['verify', edited, '--json']);
    expect(v.status).toBe(1);
    expect(JSON.parse(v.stdout).findings).toContainEqual(expect.objectContaining({ code: 'XS_LEGACY_MAIN_ARCS', severity: 'error' }));
    // the install script's own copy of the requirement compares like the installer: 7.0 is not 7.0.0
    const s = installScript({ originator: 'acme', name: 'acmenet', product: 'XenServer', version: '2.4.1', requires: [{ originator: 'xs', name: 'main', test: 'eq', version: '7.0' }], packages: [] });
    writeFileSync(join(edited, 'install'), s);
    const r = run('sh', [join(edited, 'install'), '--batch'], { env: fakeHost('host-700b', '7.0.0').env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/requires xs:main eq 7\.0, found 7\.0\.0/);
  });

  it('the install script drops a build part as the installers do (eq 7.0.0-125380c is met by 7.0.0), and ge compares arcs as numbers', () => {
    // python-libs xcp/version.py Version.from_string: the text after "-" is the build, and
    // ver_cmp compares only the arcs; the arcs are numbers (7.0.10 > 7.0.9)
    const script = (requires: Parameters<typeof installScript>[0]['requires']) => {
      const name = `req-${requires.map((q) => q.version).join('_')}`;
      const pack = join(dir, name);
      mkdirSync(pack);
      for (const f of ['XS-REPOSITORY', 'XS-PACKAGES']) writeFileSync(join(pack, f), '');
      writeFileSync(join(pack, 'install'), installScript({ originator: 'acme', name, product: 'XenServer', version: '1', requires, packages: [] }));
      return join(pack, 'install');
    };
    const host = fakeHost('host-build', '7.0.0');
    expect(run('sh', [script([{ originator: 'xs', name: 'main', test: 'eq', version: '7.0.0-125380c' }])], { env: host.env }).status).toBe(0);
    expect(run('sh', [script([{ originator: 'xs', name: 'main', test: 'ge', version: '6.5.0' }])], { env: host.env }).status).toBe(0);
    const tenth = fakeHost('host-7010', '7.0.10');
    expect(run('sh', [script([{ originator: 'xs', name: 'main', test: 'gt', version: '7.0.9' }])], { env: tenth.env }).status).toBe(0);
  });

  const refusals: [string, string, string, RegExp][] = [
    ['a requirement with a build part', `{ text: ACME, requires: "xs:main eq 7.0.0-125380c" }`, '2.4.1', /requires.*"7\.0\.0-125380c" has a build part.*write 7\.0\.0/],
    ['version "2.4 beta" (the installer raises TypeError comparing "4 beta")', `{ text: ACME, version: "2.4 beta" }`, '2.4.1', /version.*"2\.4 beta" is not dot-separated numbers/],
    ['a manifest version the installer cannot compare', `{ text: ACME }`, '2.4.1~rc1', /version: defaults to the manifest's version, and "2\.4\.1~rc1" is not dot-separated numbers/],
    ['a build ending in a word (int("bet") raises ValueError in Version.from_string)', `{ text: ACME, version: 2.4.1-beta }`, '2.4.1', /build "beta" ends in a letter/],
    ['a version with a build and a build option', `{ text: ACME, version: 2.4.1-7, build: 8 }`, '2.4.1', /carries the build "7" and build: gives "8"/],
  ];
  for (const [what, target, version, message] of refusals) {
    it(`dudkit build refuses ${what} (exit 2, nothing written)`, () => {
      const out = join(dir, `refused-${what.replace(/\W+/g, '-')}`);
      const r = dudkit(['build', manifest(`refuse-${what.replace(/\W+/g, '-')}.yaml`, target, version), '-o', out]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

  it('version 2.4.1-7 is written as version 2.4.1 build 7; a pack edited to version "2.4 beta" fails verify', async () => {
    const p = await buildPack('split', `{ text: ACME, version: 2.4.1-7, kernels: { ${DEB}: 3.10.0+10 } }`);
    const xml = readFileSync(join(p.tree, 'XS-REPOSITORY'), 'utf8');
    expect([attr(xml, 'version'), attr(xml, 'build')]).toEqual(['2.4.1', '7']);
    writeFileSync(join(p.tree, 'XS-REPOSITORY'), xml.replace('version="2.4.1"', 'version="2.4 beta"'));
    const v = dudkit(['verify', p.tree, '--json']);
    expect(v.status).toBe(1);
    expect(JSON.parse(v.stdout).findings).toContainEqual(expect.objectContaining({ code: 'XS_LEGACY_VERSION', severity: 'error' }));
  });
});

describe('item 8: verify --kernel K on a legacy pack (the installer loads a driver-rpm only for its own kernel)', () => {
  it('a pack for 3.10.0+10 verifies for 3.10.0+10 and fails for 4.19.0+1, naming the skipped driver', async () => {
    // host-installer repository.py before 1c4605a, DriverRPMPackage.load / is_loadable: kernel
    // "any" or == version.LINUX_KABI_VERSION, else "Skipping driver …, version mismatch"
    const p = await buildPack('xs70', `{ text: ACME, requires: "xs:main eq 7.0.0", kernels: { ${DEB}: 3.10.0+10 } }`);
    expect(run('xmllint', ['--xpath', 'string(/packages/package[@type="driver-rpm"]/@kernel)', join(p.tree, 'XS-PACKAGES')]).stdout.trim()).toBe('3.10.0+10');
    expect(dudkit(['verify', p.out, '--kernel', '3.10.0+10']).status).toBe(0);
    const other = dudkit(['verify', p.out, '--kernel', '4.19.0+1', '--json']);
    expect(other.status).toBe(1);
    const finding = (JSON.parse(other.stdout) as { findings: { code: string; severity: string; message: string }[] }).findings.find((f) => f.code === 'XS_LEGACY_NO_DRIVER_FOR_KERNEL');
    expect(finding).toMatchObject({ severity: 'error' });
    expect(finding!.message).toMatch(/loads no driver on kernel 4\.19\.0\+1: it skips acmenet-3\.10\.0\+10-modules-2\.4\.1-3\.x86_64\.rpm \(kernel 3\.10\.0\+10\)/);
  });
});

describe('item 11: XenServer 5.6–6.2 dom0 kernels with "-"', () => {
  let p: Awaited<ReturnType<typeof buildPack>>;
  beforeAll(async () => {
    p = await buildPack('xs60', `{ text: ACME, xenserver: 6.0.0, kernels: { ${DEB}: ${XS60} } }`);
  });

  it('the driver RPM takes the 6.0–6.2 builder\'s name form and puts the modules under the full uname -r (rpm -qp)', () => {
    const rpm = join(p.tree, 'acmenet-modules-xen-2.6.32.12-0.7.1.xs6.0.0.529.170661-2.4.1-3.x86_64.rpm');
    expect(existsSync(rpm)).toBe(true);
    expect(run('rpm', ['-qp', '--qf', '%{NAME}|%{GROUP}|%{PAYLOADCOMPRESSOR}', rpm]).stdout).toBe('acmenet-modules-xen-2.6.32.12-0.7.1.xs6.0.0.529.170661|System Environment/Kernel|gzip');
    expect(run('rpm', ['-qpl', rpm]).stdout.trim().split('\n')).toEqual([`/lib/modules/${XS60}/extra/acmenet.ko`, `/lib/modules/${XS60}/extra/acmestor.ko`]);
    expect(run('rpm', ['-qp', '--scripts', rpm]).stdout).toContain(`depmod -a '${XS60}'`);
    expect(p.warnings.filter((w) => /runs /.test(w))).toEqual([]);
  });

  it('XS-PACKAGES names the full kernel, which the installer compares as one string: verify --kernel passes for it', () => {
    // host-installer repository.py before 1c4605a, DriverRPMPackage.is_loadable: kernel_version ==
    // LINUX_KABI_VERSION as strings; supp-pack-build supplementalpack.py (76fe23f) Package.__init__
    // reads label and kernel from (.*)-modules-([^-]*)-(.*) as group 1 and group 3 + group 2
    expect(run('xmllint', ['--xpath', 'string(/packages/package[@type="driver-rpm"]/@kernel)', join(p.tree, 'XS-PACKAGES')]).stdout.trim()).toBe(XS60);
    expect(classifyRpm({ name: 'acmenet-modules-xen-2.6.32.12-0.7.1.xs6.0.0.529.170661', group: 'System Environment/Kernel', files: [`/lib/modules/${XS60}/extra/acmenet.ko`] })).toMatchObject({ type: 'driver-rpm', label: 'acmenet', kernel: XS60, problems: [] });
    const v = dudkit(['verify', p.out, '--kernel', XS60]);
    expect(v.status, v.stdout).toBe(0);
    expect(dudkit(['verify', p.out, '--kernel', '3.10.0+2']).status).toBe(1);
  });

  it('a driver kernel that is not the target release\'s dom0 kernel is a build warning; a dashed kernel for 7.0 stays refused', async () => {
    const wrong = await buildPack('xs70-419', `{ text: ACME, xenserver: 7.0.0, kernels: { ${DEB}: 4.19.0+1 } }`);
    expect(wrong.warnings).toContainEqual(expect.stringMatching(/acmenet-4\.19\.0\+1-modules-2\.4\.1-3\.x86_64\.rpm is for kernel 4\.19\.0\+1, but XenServer 7\.0\.0 runs 3\.10\.0\+10/));
    const out = join(dir, 'xs70-dashed');
    const r = dudkit(['build', manifest('xs70-dashed.yaml', `{ text: ACME, xenserver: 7.0.0, kernels: { ${DEB}: ${XS60} } }`), '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/kernels with "-" exist only on XenServer 5\.6–6\.2/);
  });
});
