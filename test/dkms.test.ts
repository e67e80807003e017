import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { interpretDkmsConf, parseDkmsConf } from '../src/formats/dkms/conf.js';
import { chooseBuilds, readDkms, readDkmsTarball, readDkmsTree } from '../src/inputs/dkms.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const fixtureTree = join(fixtures, 'dkms', 'acmenet');
const debianRelease = readdirSync(join(fixtures, 'ko')).find((n) => n.endsWith('-amd64'))!;

const EM = { x86_64: 62, aarch64: 183 } as const;

/** A minimal ELF64 little-endian relocatable object with a .modinfo section: enough for modinfo. */
function fakeModule(name: string, vermagic: string, arch: keyof typeof EM = 'x86_64'): Buffer {
  const modinfo = Buffer.from(`name=${name}\0vermagic=${vermagic}\0license=GPL\0version=1.0\0alias=pci:v0000AC3Ed0000${name.length.toString().padStart(4, '0')}sv*sd*bc*sc*i*\0depends=\0`);
  const shstrtab = Buffer.from('\0.modinfo\0.shstrtab\0');
  const modinfoAt = 64;
  const strAt = modinfoAt + modinfo.length;
  const shoff = (strAt + shstrtab.length + 7) & ~7;
  const out = Buffer.alloc(shoff + 3 * 64);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  out.writeUInt16LE(1, 16); // ET_REL
  out.writeUInt16LE(EM[arch], 18);
  out.writeUInt32LE(1, 20);
  out.writeBigUInt64LE(BigInt(shoff), 40);
  out.writeUInt16LE(64, 52);
  out.writeUInt16LE(64, 58);
  out.writeUInt16LE(3, 60);
  out.writeUInt16LE(2, 62);
  modinfo.copy(out, modinfoAt);
  shstrtab.copy(out, strAt);
  const section = (i: number, nameOff: number, type: number, offset: number, size: number) => {
    const at = shoff + i * 64;
    out.writeUInt32LE(nameOff, at);
    out.writeUInt32LE(type, at + 4);
    out.writeBigUInt64LE(BigInt(offset), at + 24);
    out.writeBigUInt64LE(BigInt(size), at + 32);
    out.writeBigUInt64LE(1n, at + 48);
  };
  section(1, 1, 1, modinfoAt, modinfo.length);
  section(2, 10, 3, strAt, shstrtab.length);
  return out;
}

const compressors = { '': undefined, '.gz': ['gzip', '-n', '-c'], '.xz': ['xz', '--check=crc32', '-c'], '.zst': ['zstd', '-q', '-c'] } as const;

function writeModule(path: string, bytes: Buffer, suffix: keyof typeof compressors): void {
  const cmd = compressors[suffix];
  writeFileSync(path, cmd ? execFileSync(cmd[0], cmd.slice(1), { input: bytes }) : bytes);
}

function conf(module: string, version: string, names: string[]): string {
  return [`PACKAGE_NAME="${module}"`, `PACKAGE_VERSION=${version}`, ...names.flatMap((n, i) => [`BUILT_MODULE_NAME[${i}]=${n}`, `DEST_MODULE_LOCATION[${i}]="/updates/dkms"`]), ''].join('\n');
}

describe('dkms tree fixture (made by copying real modules into dkms layout)', () => {
  it('lists built, installed and not-built kernels with their modules', async () => {
    const tree = await readDkmsTree(fixtureTree);
    const states = tree.builds.map((b) => `${b.kernelRelease} ${b.arch} ${b.installed ? 'installed' : 'built'}`).sort();
    expect(states).toEqual(
      [`5.14.0-362.8.1.el9_3.x86_64 x86_64 built`, `5.14.0-427.13.1.el9_4.x86_64 x86_64 installed`, `${debianRelease} x86_64 built`].sort(),
    );
    expect(tree.notBuilt.map((n) => n.kernelRelease)).toEqual(['4.18.0-513.5.1.el8_9.x86_64']);
    for (const b of tree.builds) {
      expect(b.modules.map((m) => m.name)).toEqual(['acmenet', 'acmestor']); // Module.symvers is not a module
      expect(b.modules.every((m) => m.destLocation === '/extra')).toBe(true);
      expect(b.modules[1]!.depends).toEqual(['acmenet']);
      expect(b.conf).toMatchObject({ packageName: 'acmenet', packageVersion: '2.4.1' });
      expect(b.modules[0]!.compression).toBe(b.kernelRelease === debianRelease ? 'none' : 'xz');
    }
  });

  it('reads the same from the tree root, the module folder and the version folder', async () => {
    const key = (t: Awaited<ReturnType<typeof readDkmsTree>>) => t.builds.map((b) => `${b.module}/${b.version}/${b.kernelRelease}/${b.arch}/${b.modules.map((m) => m.name)}`);
    const fromModule = key(await readDkmsTree(fixtureTree));
    expect(key(await readDkmsTree(join(fixtures, 'dkms')))).toEqual(fromModule);
    expect(key(await readDkmsTree(join(fixtureTree, '2.4.1')))).toEqual(fromModule);
  });

  it('modinfo -F vermagic of each module starts with its kernel folder; xz -d gives its plain source', async () => {
    for (const b of (await readDkmsTree(fixtureTree)).builds) {
      for (const m of b.modules) {
        expect(execFileSync('modinfo', ['-F', 'vermagic', m.path], { encoding: 'utf8' }).startsWith(`${b.kernelRelease} `)).toBe(true);
        const plain: Uint8Array[] = [];
        for await (const c of m.plain.open()) plain.push(c);
        expect(Buffer.concat(plain).length).toBe(m.plain.size);
        expect(Buffer.concat(plain).equals(m.compression === 'xz' ? execFileSync('xz', ['-dc', m.path]) : readFileSync(m.path))).toBe(true);
      }
    }
  });
});

describe('dkms status agrees', { timeout: 30_000 }, () => {
  it('dkms status --dkmstree lists the same (module, version, kernel, arch, built/installed)', async () => {
    // dkms status takes the module suffix from the host's /lib/modules/<kernel>/modules.dep, so
    // for kernels this host lacks it only sees plain .ko files: compare on a decompressed copy.
    const copy = join(dir, 'status-tree');
    cpSync(join(fixtures, 'dkms'), copy, { recursive: true, verbatimSymlinks: true });
    for (const b of (await readDkmsTree(copy)).builds) {
      for (const m of b.modules) if (m.compression === 'xz') execFileSync('xz', ['-d', m.path]);
    }
    const theirs = execFileSync('dkms', ['status', '--dkmstree', copy], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/ \(WARNING![^)]*\)/g, ''))
      .sort();
    const ours = (await readDkmsTree(copy)).builds.map((b) => `${b.module}/${b.version}, ${b.kernelRelease}, ${b.arch}: ${b.installed ? 'installed' : 'built'}`).sort();
    expect(ours).toEqual(theirs);
    expect(ours).toHaveLength(3);
  });
});

describe('dkms tree enumeration (fake trees, modules checked with modinfo)', () => {
  const kernels = ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-427.13.1.el9_4.x86_64', '6.1.0-18-amd64'];
  const root = join(dir, 'var-lib-dkms');
  for (const module of ['foo', 'bar']) {
    for (const version of ['1.0', '2.0']) {
      const vdir = join(root, module, version);
      mkdirSync(join(vdir, 'source'), { recursive: true });
      writeFileSync(join(vdir, 'source', 'dkms.conf'), conf(module, version, [module]));
      mkdirSync(join(vdir, 'build'), { recursive: true });
      writeModule(join(vdir, 'build', `${module}.ko`), fakeModule(module, `${kernels[0]} SMP mod_unload `), '');
      for (const [ki, kernel] of kernels.entries()) {
        for (const arch of ['x86_64', 'aarch64'] as const) {
          const mdir = join(vdir, kernel, arch, 'module');
          mkdirSync(mdir, { recursive: true });
          const suffix = (['', '.gz', '.xz', '.zst'] as const)[(ki + (arch === 'x86_64' ? 0 : 1)) % 4]!;
          writeModule(join(mdir, `${module}.ko${suffix}`), fakeModule(module, `${kernel} SMP mod_unload modversions `, arch), suffix);
          mkdirSync(join(vdir, kernel, arch, 'log'), { recursive: true });
          writeFileSync(join(vdir, kernel, arch, 'log', 'make.log'), 'ok\n');
        }
        // dkms's transient build folder, renamed away when a build finishes
        const tmp = join(vdir, kernel, '.tmp_x86_64_abc123', 'module');
        mkdirSync(tmp, { recursive: true });
        writeModule(join(tmp, `${module}.ko`), fakeModule(module, 'not-this-kernel SMP '), '');
      }
    }
    mkdirSync(join(root, module, 'original_module', kernels[0]!, 'x86_64'), { recursive: true });
    for (const kernel of kernels) symlinkSync(`2.0/${kernel}/x86_64`, join(root, module, `kernel-${kernel}-x86_64`));
  }
  // a kernel that failed to build: log only
  mkdirSync(join(root, 'foo', '2.0', '4.18.0-513.5.1.el8_9.x86_64', 'x86_64', 'log'), { recursive: true });
  writeFileSync(join(root, 'foo', '2.0', '4.18.0-513.5.1.el8_9.x86_64', 'x86_64', 'log', 'make.log'), 'error\n');

  it('modinfo reads the fake modules', () => {
    const f = join(root, 'foo', '1.0', kernels[0]!, 'x86_64', 'module', 'foo.ko');
    expect(execFileSync('modinfo', ['-F', 'vermagic', f], { encoding: 'utf8' })).toBe(`${kernels[0]} SMP mod_unload modversions \n`);
  });

  it('2 modules × 2 versions × 3 kernels × 2 arches, nothing from .tmp_*, build/, original_module/ or kernel-* links', async () => {
    const tree = await readDkmsTree(root);
    expect(tree.builds).toHaveLength(24);
    const keys = tree.builds.map((b) => `${b.module}/${b.version}/${b.kernelRelease}/${b.arch}`);
    expect(new Set(keys).size).toBe(24);
    for (const b of tree.builds) {
      expect(b.modules.map((m) => m.name)).toEqual([b.module]);
      expect(b.modules[0]!.destLocation).toBe('/updates/dkms');
      expect(b.modules[0]!.path).toContain(`/${b.kernelRelease}/${b.arch}/module/`);
      expect(b.installed).toBe(b.version === '2.0' && b.arch === 'x86_64');
    }
    expect(new Set(tree.builds.flatMap((b) => b.modules.map((m) => m.compression)))).toEqual(new Set(['none', 'gzip', 'xz', 'zstd']));
  });

  it('.ko, .ko.gz, .ko.xz and .ko.zst are handed on byte-identical (cmp)', async () => {
    const seen = new Set<string>();
    for (const b of (await readDkmsTree(join(root, 'foo'))).builds) {
      const m = b.modules[0]!;
      if (seen.has(m.compression)) continue;
      seen.add(m.compression);
      const chunks: Uint8Array[] = [];
      for await (const c of m.source.open()) chunks.push(c);
      const copy = join(dir, `copy-${m.compression}`);
      writeFileSync(copy, Buffer.concat(chunks));
      execFileSync('cmp', [copy, m.path]);
    }
    expect(seen.size).toBe(4);
  });

  it('a kernel folder without module/ is reported as not built', async () => {
    const tree = await readDkmsTree(join(root, 'foo', '2.0'));
    expect(tree.notBuilt).toEqual([expect.objectContaining({ module: 'foo', version: '2.0', kernelRelease: '4.18.0-513.5.1.el8_9.x86_64', arch: 'x86_64' })]);
  });

  it('chooses the installed version by default, an explicit version otherwise', async () => {
    const tree = await readDkmsTree(root);
    const x86 = chooseBuilds({ ...tree, builds: tree.builds.filter((b) => b.arch === 'x86_64') });
    expect(x86).toHaveLength(6);
    expect(x86.every((b) => b.version === '2.0')).toBe(true);
    expect(chooseBuilds(tree, '1.0').every((b) => b.version === '1.0')).toBe(true);
    expect(() => chooseBuilds(tree, '3.0')).toThrow(/no build of version 3\.0 \(built: 1\.0, 2\.0\)/);
    // aarch64 has two versions and no kernel-…-aarch64 link
    expect(() => chooseBuilds(tree)).toThrow(/versions 1\.0, 2\.0 built for .* aarch64 and none is installed/);
  });
});

describe('dkms mktarball archives (made with GNU tar in the §2 member layout)', { timeout: 30_000 }, () => {
  const key = (t: Awaited<ReturnType<typeof readDkmsTree>>) =>
    t.builds.map((b) => `${b.module}/${b.version}/${b.kernelRelease}/${b.arch}: ${b.modules.map((m) => `${m.name} ${m.compression} ${m.destLocation ?? '-'} ${m.vermagic}`).join('; ')}`).sort();

  /** Stage the fixture tree's builds as dkms mktarball lays them out, then tar it. */
  function mktarball(name: string, binariesOnly: boolean, format: 'gnu' | 'pax' = 'gnu'): string {
    const stage = join(dir, `stage-${name}`);
    const version = join(fixtureTree, '2.4.1');
    for (const kernel of readdirSync(version).filter((k) => k !== 'source')) {
      cpSync(join(version, kernel), join(stage, 'dkms_main_tree', kernel), { recursive: true });
    }
    if (binariesOnly) {
      mkdirSync(join(stage, 'dkms_binaries_only'), { recursive: true });
      writeFileSync(join(stage, 'dkms_binaries_only', 'PACKAGE_NAME'), 'acmenet\n');
      writeFileSync(join(stage, 'dkms_binaries_only', 'PACKAGE_VERSION'), '2.4.1\n');
      cpSync(join(version, 'source', 'dkms.conf'), join(stage, 'dkms_binaries_only', 'dkms.conf'));
    } else {
      cpSync(join(version, 'source'), join(stage, 'dkms_source_tree'), { recursive: true });
    }
    const out = join(dir, `acmenet-2.4.1-${name}.dkms.tar.gz`);
    execFileSync('tar', ['-C', stage, `--format=${format}`, '-czf', out, '.']);
    return out;
  }

  for (const [name, binariesOnly, format] of [['source', false, 'gnu'], ['binaries', true, 'gnu'], ['pax', false, 'pax']] as const) {
    it(`${name === 'pax' ? 'a pax-format archive' : `with dkms_${binariesOnly ? 'binaries_only' : 'source_tree'}/`} gives the same module list as the tree`, async () => {
      const archive = mktarball(name, binariesOnly, format);
      const fromTar = await readDkmsTarball(archive);
      const fromTree = await readDkmsTree(fixtureTree);
      expect(key(fromTar)).toEqual(key(fromTree));
      expect(fromTar.notBuilt.map((n) => n.kernelRelease)).toEqual(['4.18.0-513.5.1.el8_9.x86_64']);
      // the module bytes are handed on unchanged
      const m = fromTar.builds[0]!.modules[0]!;
      const chunks: Uint8Array[] = [];
      for await (const c of m.source.open()) chunks.push(c);
      expect(Buffer.concat(chunks).equals(readFileSync(m.path.slice(archive.length + 1).replace('dkms_main_tree', join(fixtureTree, '2.4.1'))))).toBe(true);
      expect((await readDkms(archive)).builds).toHaveLength(3);
      // and the plain module is the xz -d of it
      const plain: Uint8Array[] = [];
      for await (const c of m.plain.open()) plain.push(c);
      expect(Buffer.concat(plain).equals(execFileSync('xz', ['-dc'], { input: Buffer.concat(chunks) }))).toBe(true);
    });
  }

  it('long member names (GNU long-name records) and cut archives', async () => {
    const kernel = `5.14.0-${'9'.repeat(90)}.el9.x86_64`;
    const stage = join(dir, 'stage-long');
    const mdir = join(stage, 'dkms_main_tree', kernel, 'x86_64', 'module');
    mkdirSync(mdir, { recursive: true });
    writeFileSync(join(mdir, 'longdrv.ko'), fakeModule('longdrv', `${kernel} SMP `));
    const out = join(dir, 'longdrv-1.0-kernel-long.dkms.tar.gz');
    execFileSync('tar', ['-C', stage, '--format=gnu', '-czf', out, '.']);
    const t = await readDkmsTarball(out);
    expect(t.builds.map((b) => [b.module, b.version, b.kernelRelease, b.modules.map((m) => m.name)])).toEqual([['longdrv', '1.0', kernel, ['longdrv']]]);
    const raw = execFileSync('gzip', ['-dc', out]);
    const cut = join(dir, 'cut-1.0-kernel-x.dkms.tar.gz');
    writeFileSync(cut, execFileSync('gzip', ['-c'], { input: raw.subarray(0, 1800) }));
    await expect(readDkmsTarball(cut)).rejects.toThrow(/cut-1\.0-kernel-x\.dkms\.tar\.gz: truncated tar archive/);
  });
});

describe('dkms tree checks', () => {
  const kernel = '5.14.0-362.8.1.el9_3.x86_64';
  function tree(name: string, files: Record<string, Buffer | string>, confText?: string): string {
    const vdir = join(dir, name, 'drv', '1.0');
    const mdir = join(vdir, kernel, 'x86_64', 'module');
    mkdirSync(mdir, { recursive: true });
    if (confText !== undefined) {
      mkdirSync(join(vdir, 'source'), { recursive: true });
      writeFileSync(join(vdir, 'source', 'dkms.conf'), confText);
    }
    for (const [file, bytes] of Object.entries(files)) writeFileSync(join(mdir, file), bytes);
    return vdir;
  }
  const good = fakeModule('drv', `${kernel} SMP mod_unload `);

  it('.ko.xz holding gzip data is an error naming the file', async () => {
    const t = tree('mismatch', { 'drv.ko.xz': execFileSync('gzip', ['-c'], { input: good }) });
    await expect(readDkmsTree(t)).rejects.toThrow(UserError);
    await expect(readDkmsTree(t)).rejects.toThrow(/drv\.ko\.xz: file name says xz but the content is gzip/);
  });

  it('a vermagic for another kernel is rejected with both values', async () => {
    const t = tree('vermagic', { 'drv.ko': fakeModule('drv', '6.1.0-18-amd64 SMP mod_unload ') });
    await expect(readDkmsTree(t)).rejects.toThrow(/drv\.ko: vermagic "6\.1\.0-18-amd64 SMP mod_unload " does not match the dkms kernel folder 5\.14\.0-362\.8\.1\.el9_3\.x86_64/);
  });

  it('a module for another architecture is rejected', async () => {
    const t = tree('arch', { 'drv.ko': fakeModule('drv', `${kernel} SMP `, 'aarch64') });
    await expect(readDkmsTree(t)).rejects.toThrow(/module is for aarch64 but sits in the dkms x86_64 folder/);
  });

  it('DEST_MODULE_NAME differing from BUILT_MODULE_NAME: the module is found under the destination name', async () => {
    const t = tree('destname', { 'acme_drv.ko': fakeModule('acme_drv', `${kernel} SMP `) }, 'PACKAGE_NAME=drv\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=drv\nDEST_MODULE_NAME[0]=acme_drv\nDEST_MODULE_LOCATION[0]=/extra/acme\n');
    const [b] = (await readDkmsTree(t)).builds;
    expect(b!.modules.map((m) => [m.name, m.destLocation])).toEqual([['acme_drv', '/extra/acme']]);
    expect(b!.missing).toEqual([]);
  });

  it('modules dkms.conf names but the build lacks are reported as missing', async () => {
    const t = tree('missing', { 'drv.ko': good }, 'PACKAGE_NAME=drv\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=drv\nBUILT_MODULE_NAME[1]=drv_extra\n');
    expect((await readDkmsTree(t)).builds[0]!.missing).toEqual(['drv_extra']);
  });

  it('a dkms.conf with $(…) is never executed: warning, names from module/', async () => {
    const marker = join(dir, 'marker-created');
    const t = tree('unsafe', { 'drv.ko': good }, `PACKAGE_NAME=drv\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]="drv$(touch ${marker})"\nDEST_MODULE_LOCATION[0]=/extra\n`);
    const warnings: string[] = [];
    const [b] = (await readDkmsTree(t, { warn: (w) => warnings.push(w) })).builds;
    expect(existsSync(marker)).toBe(false);
    expect(warnings.some((w) => /dkms\.conf: not read \(line 3: command substitution/.test(w))).toBe(true);
    expect(b!.modules.map((m) => m.name)).toEqual(['drv']);
    expect(b!.modules[0]!.destLocation).toBeUndefined();
    expect(b!.conf).toMatchObject({ packageName: 'drv', packageVersion: '1.0', modules: [] });
  });

  it('a missing dkms.conf (dangling source link) falls back to module/ with a warning', async () => {
    const t = tree('dangling', { 'drv.ko': good });
    symlinkSync('/nonexistent/usr/src/drv-1.0', join(t, 'source'));
    const warnings: string[] = [];
    const [b] = (await readDkmsTree(t, { warn: (w) => warnings.push(w) })).builds;
    expect(b!.modules.map((m) => m.name)).toEqual(['drv']);
    expect(warnings[0]).toMatch(/source\/dkms\.conf: missing/);
  });

  it('per-module overrides in /etc/dkms apply after dkms.conf, later files winning', async () => {
    const t = tree('overrides', { 'drv.ko': good }, 'PACKAGE_NAME=drv\nPACKAGE_VERSION=1.0\nBUILT_MODULE_NAME[0]=drv\nDEST_MODULE_LOCATION[0]=/extra\n');
    const etc = join(dir, 'etc-dkms');
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, 'drv.conf'), 'DEST_MODULE_LOCATION[0]=/updates\n');
    writeFileSync(join(etc, `drv-1.0-${kernel}.conf`), 'DEST_MODULE_LOCATION[0]="/updates/$kernelver"\n');
    const [b] = (await readDkmsTree(t, { etcDkms: etc })).builds;
    expect(b!.modules[0]!.destLocation).toBe(`/updates/${kernel}`);
    expect((await readDkmsTree(t)).builds[0]!.modules[0]!.destLocation).toBe('/extra'); // a copy of a tree: no /etc/dkms
  });

  it('a folder that is not a dkms tree is a UserError', async () => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    await expect(readDkmsTree(join(dir, 'empty'))).rejects.toThrow(/empty: not a dkms tree/);
    await expect(readDkmsTree(join(dir, 'nope'))).rejects.toThrow(/nope: no such file/);
  });
});

describe('dkms.conf safe subset', () => {
  const vars = { module: 'acme', module_version: '3.1', kernelver: '6.1.0-18-amd64', arch: 'x86_64' };

  it('literal, quoted, ${PACKAGE_NAME}-expanded and sparse-array values', () => {
    const text = [
      '# comment',
      'PACKAGE_NAME="acme"',
      "PACKAGE_VERSION='3.1'",
      '',
      'BUILT_MODULE_NAME[0]=${PACKAGE_NAME}_core',
      'DEST_MODULE_LOCATION[0]="/kernel/drivers/net/$PACKAGE_NAME"   # trailing comment',
      'export BUILT_MODULE_NAME[2]="${PACKAGE_NAME}"_"n\\"et"',
      "DEST_MODULE_LOCATION[2]='/updates/$kernelver'",
      'MAKE[0]="make -C ${kernel_source_dir} M=${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build"',
      'AUTOINSTALL=yes',
    ].join('\n');
    const c = interpretDkmsConf(text, vars);
    expect(c).toMatchObject({ packageName: 'acme', packageVersion: '3.1', warnings: [] });
    expect(c.modules).toEqual([
      { index: 0, builtName: 'acme_core', destName: 'acme_core', destLocation: '/kernel/drivers/net/acme' },
      { index: 2, builtName: 'acme_n"et', destName: 'acme_n"et', destLocation: '/updates/$kernelver' },
    ]);
  });

  it('NAME=value sets element 0 of an array, as in bash', () => {
    const c = interpretDkmsConf('PACKAGE_NAME=acme\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME=acme_core\nDEST_MODULE_LOCATION=/updates\n', vars);
    expect(c.modules).toEqual([{ index: 0, builtName: 'acme_core', destName: 'acme_core', destLocation: '/updates' }]);
  });

  it('expands $kernelver and $arch per kernel, and defaults one unnamed module to PACKAGE_NAME', () => {
    const c = interpretDkmsConf('PACKAGE_NAME=acme\nPACKAGE_VERSION=1\nDEST_MODULE_LOCATION[0]="/extra/$kernelver/${arch}"\n', vars);
    expect(c.modules).toEqual([{ index: 0, builtName: 'acme', destName: 'acme', destLocation: '/extra/6.1.0-18-amd64/x86_64' }]);
  });

  it('anything beyond plain assignments makes the file unsafe', () => {
    for (const line of ['BUILT_MODULE_NAME[0]=`uname -r`', 'if [ -n "$x" ]; then', 'X=${PACKAGE_NAME//a/b}', 'X="unterminated', 'X=a b', 'X=a;rm -rf /', 'X=a\\', 'make() { :; }', 'X=$1']) {
      expect(parseDkmsConf(`PACKAGE_NAME=a\n${line}\n`).unsafe, line).toMatch(/^line 2/);
    }
  });

  it('warns about install-time behaviour the packaged driver will not run; unknown variables in names fall back', () => {
    expect(interpretDkmsConf('PACKAGE_NAME=a\nPACKAGE_VERSION=1\nPOST_INSTALL=post.sh\n', vars).warnings[0]).toMatch(/POST_INSTALL script will not run/);
    const c = interpretDkmsConf('PACKAGE_NAME=a\nPACKAGE_VERSION=1\nBUILT_MODULE_NAME[0]=$mystery\n', vars);
    expect(c.modules).toEqual([]);
    expect(c.warnings[0]).toMatch(/BUILT_MODULE_NAME\[0\] use variables dudkit does not expand/);
  });
});

describe('dudkit inspect on dkms trees (the CLI scripts/test.sh builds into dist/)', { timeout: 30_000 }, () => {
  const cli = join(import.meta.dirname, '..', 'dist', 'src', 'cli.js');
  const inspect = (...args: string[]) => spawnSync(process.execPath, [cli, 'inspect', ...args], { encoding: 'utf8' });

  it('--json lists builds like `dkms status` would, with their modules', () => {
    const r = inspect(fixtureTree, '--json');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.kind).toBe('dkms-tree');
    expect(doc.builds.map((b: { kernelRelease: string; state: string }) => `${b.kernelRelease}: ${b.state}`)).toContain('5.14.0-427.13.1.el9_4.x86_64: installed');
    expect(doc.builds[0].modules.map((m: { name: string }) => m.name)).toEqual(['acmenet', 'acmestor']);
    expect(doc.notBuilt).toHaveLength(1);
  });

  it('text output, and exit 2 with one line for a broken tree', () => {
    const r = inspect(join(fixtureTree, '2.4.1'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/acmenet\/2\.4\.1, 5\.14\.0-427\.13\.1\.el9_4\.x86_64, x86_64: installed/);
    expect(r.stdout).toMatch(/4\.18\.0-513\.5\.1\.el8_9\.x86_64, x86_64: not built/);
    const bad = join(dir, 'mismatch', 'drv', '1.0');
    const r2 = inspect(bad);
    expect(r2.status).toBe(2);
    // (that tree has no dkms.conf, which is a warning line of its own)
    const errors = r2.stderr.trimEnd().split('\n').filter((l) => !l.startsWith('dudkit: warning:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^dudkit: .*drv\.ko\.xz: file name says xz but the content is gzip$/);
    expect(r2.stderr).not.toMatch(/\n\s+at /);
  });
});
