/**
 * Module trust, part one: symbol versions, exports and imports as the kernel tools read them, the
 * kABI check against a real kernel's Module.symvers (and a stablelist made from it), the
 * kernel(<sym>) Requires of the kmod RPMs, and release names.
 */
import { cpSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACME_FIRMWARE, ACME_FULL } from './helpers/manifest.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const K94 = '5.14.0-427.13.1.el9_4.x86_64';

/** Every module fixture: Debian and RHEL-stamped builds, compressed, signed, module-like ELF variety. */
function moduleFixtures(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ko(\.(xz|gz|zst))?$/.test(e.name)) out.push(p);
    }
  };
  for (const d of ['ko', 'ko-signed', 'elf']) walk(join(FIXTURES, d));
  return out.sort();
}

const json = (args: string[]) => {
  const r = dudkit(args);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('symbol versions and exports, as the kernel tools read them', () => {
  it.each(moduleFixtures().map((p) => [p.slice(FIXTURES.length + 1), p]))('modprobe --dump-modversions lists the same CRCs and names as inspect --json: %s', (_name, path) => {
    // Debian's kmod reads xz and zstd modules, not gzip ones
    let plain = path;
    if (path.endsWith('.gz')) writeFileSync((plain = join(dir, 'plain.ko')), gunzipSync(readFileSync(path)));
    const dump = run('modprobe', ['--dump-modversions', plain]);
    expect(dump.status, dump.stderr).toBe(0);
    const expected = dump.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [crc, symbol] = l.split('\t');
        return { symbol, crc: `0x${Number.parseInt(crc!, 16).toString(16).padStart(8, '0')}` };
      });
    expect(json(['inspect', path, '--json']).versions).toEqual(expected);
  });

  it('exports equal what modpost wrote to Module.symvers (the dkms fixture build), namespace included', () => {
    const symvers = readFileSync(join(FIXTURES, 'dkms/acmenet/2.4.1/5.14.0-362.8.1.el9_3.x86_64/x86_64/module/Module.symvers'), 'utf8');
    const expected = symvers
      .trim()
      .split('\n')
      .map((l) => {
        const [crc, symbol, , type, namespace] = l.split('\t');
        return { symbol, crc, type, ...(namespace ? { namespace } : {}) };
      })
      .sort((a, b) => (a.symbol! < b.symbol! ? -1 : 1));
    const ko = join(FIXTURES, 'ko/5.14.0-362.8.1.el9_3.x86_64/acmenet.ko.xz');
    expect(json(['inspect', ko, '--json']).exports).toEqual(expected);
  });

  it('imports equal nm -u', () => {
    const ko = join(FIXTURES, 'ko/5.14.0-362.8.1.el9_3.x86_64/acmestor.ko');
    const nm = run('nm', ['-u', ko]).stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).pop()).sort();
    expect(json(['inspect', ko, '--json']).imports).toEqual(nm);
  });
});

describe('kABI against a real kernel: modules built with gcc against Debian linux-headers, checked against its Module.symvers', () => {
  let headers = '';
  let symvers = '';
  let disk = '';
  let built = '';

  beforeAll(() => {
    headers = readdirSync('/usr/src').filter((d) => /^linux-headers-.*-amd64$/.test(d)).map((d) => join('/usr/src', d)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop() ?? '';
    expect(headers, 'linux-headers-amd64 is installed (scripts/test.sh installs it)').not.toBe('');
    symvers = join(headers, 'Module.symvers');
    built = join(dir, 'build');
    cpSync(join(FIXTURES, 'src/acme'), built, { recursive: true });
    // as fixtures/scripts/modules.sh does: a copy of the headers whose release files say K94, so
    // vermagic names the kernel the modules are filed for (the CRCs stay Debian's)
    const stamped = join(dir, 'headers');
    cpSync(headers, stamped, { recursive: true, verbatimSymlinks: true });
    for (const e of readdirSync(headers, { withFileTypes: true })) {
      if (e.isSymbolicLink()) {
        rmSync(join(stamped, e.name));
        symlinkSync(realpathSync(join(headers, e.name)), join(stamped, e.name));
      }
    }
    writeFileSync(join(stamped, 'include/generated/utsrelease.h'), `#define UTS_RELEASE "${K94}"\n`);
    writeFileSync(join(stamped, 'include/config/kernel.release'), `${K94}\n`);
    const make = run('make', ['-s', '-C', stamped, `M=${built}`, 'modules']);
    expect(make.status, make.stderr).toBe(0);
    writeFileSync(
      join(dir, 'kabi.yaml'),
      `${ACME_FULL}${ACME_FIRMWARE}sources:
  - ko: ${built}/*.ko
targets:
  - rhdd3: { out: dd.iso, kernelModules: exact }
`,
    );
    const b = dudkit(['build', join(dir, 'kabi.yaml'), '-o', join(dir, 'out')], { env: EPOCH });
    expect(b.status, b.stderr).toBe(0);
    disk = join(dir, 'out/dd.iso');
  }, 120_000);

  it('verify --kabi <the kernel’s Module.symvers>: every module passes', () => {
    const r = dudkit(['verify', disk, '--kabi', symvers]);
    expect(r.status, r.stdout).toBe(0);
  });

  it('a symbol removed from Module.symvers: exit 1 naming the module and the symbol', () => {
    const cut = join(dir, 'no-pci.symvers');
    writeFileSync(cut, readFileSync(symvers, 'utf8').split('\n').filter((l) => l.split('\t')[1] !== '__pci_register_driver').join('\n'));
    const r = dudkit(['verify', disk, '--kabi', cut, '--json']);
    expect(r.status).toBe(1);
    const found = JSON.parse(r.stdout).findings.filter((f: { code: string }) => f.code === 'KABI_MISSING');
    expect(found.map((f: { message: string }) => f.message.split(',')[0]).sort()).toEqual(
      ['acmenet', 'acmestor'].map((m) => `kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64.rpm: ${m} needs __pci_register_driver`),
    );
  });

  it('a CRC changed in Module.symvers: exit 1 naming the symbol and both CRCs', () => {
    const lines = readFileSync(symvers, 'utf8').split('\n');
    const changed = lines.map((l) => (l.split('\t')[1] === '_printk' ? l.replace(/^0x[0-9a-f]+/, '0x12345678') : l));
    const file = join(dir, 'crc.symvers');
    writeFileSync(file, changed.join('\n'));
    const real = lines.find((l) => l.split('\t')[1] === '_printk')!.split('\t')[0];
    const r = dudkit(['verify', disk, '--kabi', file]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`acmenet needs _printk with CRC ${real}, but ${file} has 0x12345678`);
  });

  it('a stablelist made from Module.symvers passes; without pci_unregister_driver it fails naming it', () => {
    const names = readFileSync(symvers, 'utf8').trim().split('\n').map((l) => l.split('\t')[1]);
    const list = join(dir, 'kabi_stablelist_x86_64');
    writeFileSync(list, `[rhel9_x86_64_stablelist]\n${names.map((n) => `\t${n}`).join('\n')}\n`);
    expect(dudkit(['verify', disk, '--kabi', list]).status).toBe(0);
    const short = join(dir, 'short_stablelist');
    writeFileSync(short, `[rhel9_x86_64_stablelist]\n${names.filter((n) => n !== 'pci_unregister_driver').map((n) => `\t${n}`).join('\n')}\n`);
    const r = dudkit(['verify', disk, '--kabi', short]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('needs pci_unregister_driver, which is not in the kABI stablelist');
    // a stablelist of another arch says nothing about x86_64 modules
    const arm = join(dir, 'arm_stablelist');
    writeFileSync(arm, '[rhel9_aarch64_stablelist]\n\t_printk\n');
    expect(dudkit(['verify', disk, '--kabi', arm]).status).toBe(0);
  });

  it('a manifest kabi: key: the build passes with the real file and refuses (exit 2, nothing written) with a broken one', () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, `${readFileSync(join(dir, 'kabi.yaml'), 'utf8')}kabi: ${symvers}\n`);
    expect(dudkit(['build', good, '-o', join(dir, 'good-out')], { env: EPOCH }).status).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `${readFileSync(join(dir, 'kabi.yaml'), 'utf8')}kabi: [${join(dir, 'no-pci.symvers')}]\n`);
    const r = dudkit(['build', bad, '-o', join(dir, 'bad-out')], { env: EPOCH });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^dudkit: ${bad}: kabi: .*acmenet\\.ko: acmenet needs __pci_register_driver`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(run('ls', [join(dir, 'bad-out')]).stdout).toBe('');
  });

  it('a module filed for another release (kernel:) warns that its CRCs are not checked, unless kabi: gives a Module.symvers, which checks them (rpm -qp reads the kernel it is filed for)', () => {
    const other = '5.14.0-427.18.1.el9_4.x86_64';
    const manifest = (kabi: string) => `${ACME_FULL}${ACME_FIRMWARE}sources:\n  - ko: ${built}/*.ko\n    kernel: ${other}\ntargets:\n  - rhdd3: { out: dd.iso }\n${kabi}`;
    const names = readFileSync(symvers, 'utf8').trim().split('\n').map((l) => l.split('\t')[1]);
    const list = join(dir, 'other_stablelist');
    writeFileSync(list, `[rhel9_x86_64_stablelist]\n${names.map((n) => `\t${n}`).join('\n')}\n`);
    const cases: [string, string, boolean][] = [
      ['none', '', true],
      ['stablelist', `kabi: ${list}\n`, true],
      ['symvers', `kabi: ${symvers}\n`, false],
    ];
    for (const [name, kabi, warns] of cases) {
      const m = join(dir, `other-${name}.yaml`);
      writeFileSync(m, manifest(kabi));
      const r = dudkit(['build', m, '-o', join(dir, `other-${name}`)], { env: EPOCH });
      expect(r.status, r.stderr).toBe(0);
      const warning = `vermagic release ${K94} is not ${other}: ${other} loads it only if the CRCs of the symbols it imports match its own (kABI), which is not checked`;
      if (warns) expect(r.stderr, name).toContain(warning);
      else expect(r.stderr, name).not.toContain('vermagic release');
      run('bsdtar', ['-xf', join(dir, `other-${name}/dd.iso`), '-C', join(dir, `other-${name}`), 'rpms']);
      const kmod = readdirSync(join(dir, `other-${name}/rpms/x86_64`)).find((f) => f.startsWith('kmod-'))!;
      expect(run('rpm', ['-qp', '--nosignature', '--qf', '%{RELEASE}', join(dir, `other-${name}/rpms/x86_64`, kmod)]).stdout).toContain('427.18.1');
    }
  });

  it('rpm -qp --requires: kernel(<sym>) = <crc> for each __versions entry no module of the package exports; --provides: ksym() of its exports', () => {
    const rpms = join(dir, 'rpms');
    run('bsdtar', ['-xf', disk, '-C', dir, 'rpms']);
    const kmod = readdirSync(join(rpms, 'x86_64')).find((f) => f.startsWith('kmod-'))!;
    const requires = run('rpm', ['-qp', '--nosignature', '--requires', join(rpms, 'x86_64', kmod)]).stdout.split('\n').filter((l) => l.startsWith('kernel('));
    const own = new Set(readFileSync(join(built, 'Module.symvers'), 'utf8').trim().split('\n').map((l) => l.split('\t')[1]));
    const expected = new Set<string>();
    for (const m of ['acmenet', 'acmestor']) {
      for (const l of run('modprobe', ['--dump-modversions', join(built, `${m}.ko`)]).stdout.trim().split('\n')) {
        const [crc, sym] = l.split('\t');
        if (!own.has(sym!)) expected.add(`kernel(${sym}) = 0x${Number.parseInt(crc!, 16).toString(16).padStart(8, '0')}`);
      }
    }
    expect(requires.sort()).toEqual([...expected].sort());
    const provides = run('rpm', ['-qp', '--nosignature', '--provides', join(rpms, 'x86_64', kmod)]).stdout.split('\n').filter((l) => l.startsWith('ksym('));
    expect(provides.sort()).toEqual(readFileSync(join(built, 'Module.symvers'), 'utf8').trim().split('\n').map((l) => `ksym(${l.split('\t')[1]}) = ${l.split('\t')[0]}`).sort());
  });
});

describe('release names', () => {
  it('verify --release rhel-9.4 gives the same result as --kernel 5.14.0-427.13.1.el9_4.x86_64', () => {
    const m = join(dir, 'rel.yaml');
    writeFileSync(m, `${ACME_FULL}sources:\n  - ko: ${FIXTURES}/ko/${K94}/*.ko\ntargets:\n  - rhdd3: { out: dd.iso, kernels: [rhel-9.4] }\n`);
    expect(dudkit(['build', m, '-o', join(dir, 'rel')], { env: EPOCH }).status).toBe(0);
    const byName = dudkit(['verify', join(dir, 'rel/dd.iso'), '--release', 'rhel-9.4', '--json']);
    const byKernel = dudkit(['verify', join(dir, 'rel/dd.iso'), '--kernel', K94, '--json']);
    expect(byName.status).toBe(0);
    expect(byName.stdout).toBe(byKernel.stdout);
    expect(JSON.parse(byName.stdout).details.kernels.map((k: { kernel: string }) => k.kernel)).toEqual([K94]);
  });

  it('an unknown release name: exit 2 listing the known ones', () => {
    const r = dudkit(['verify', join(FIXTURES, 'installer/test-9.4-boot.iso'), '--release', 'rhel-9.9']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dudkit: --kernel: unknown release "rhel-9\.9" \(known: rhel-7\.0, .*rhel-9\.6, rhel-10\.0, sles-12-sp5, .*\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an unknown release in the manifest: exit 2 at its key', () => {
    const m = join(dir, 'badrel.yaml');
    writeFileSync(m, `${ACME_FULL}sources:\n  - ko: ${FIXTURES}/ko/${K94}/*.ko\n    kernel: rhel-9.42\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
    const r = dudkit(['build', m, '-o', join(dir, 'badrel')], { env: EPOCH });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^dudkit: ${m}: sources\\[0\\]\\.kernel: kernel: unknown release "rhel-9\\.42"`));
  });
});
