import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError, UserError } from '../src/errors.js';
import { parseElf, parseModule } from '../src/formats/elf/index.js';
import { readModuleFile } from '../src/inputs/ko.js';
import { dudkit } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const fixtures = join(import.meta.dirname, '..', 'fixtures');

function walk(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
}

const moduleFiles = walk(join(fixtures, 'ko')).filter((f) => /\.ko(\.(xz|gz|zst))?$/.test(f));
const modlike = walk(join(fixtures, 'elf')).filter((f) => f.endsWith('.ko'));
const debianDir = readdirSync(join(fixtures, 'ko')).find((n) => n.endsWith('-amd64'))!;
const plainAcmenet = join(fixtures, 'ko', debianDir, 'acmenet.ko');
const signedAcmenet = join(fixtures, 'ko', debianDir, 'signed', 'acmenet.ko');

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
/**
 * `modinfo -F field file`. Debian 12's kmod reads .ko.xz and .ko.zst but not .ko.gz; for a
 * compressed file it cannot read, modinfo looks at a copy decompressed by the real tool.
 */
function modinfo(field: string, file: string): string[] {
  let target = file;
  try {
    execFileSync('modinfo', [file], { stdio: 'ignore' });
  } catch (err) {
    const tool = { gz: 'gzip', xz: 'xz', zst: 'zstd' }[file.split('.').pop()!];
    if (!tool) throw err;
    target = join(dir, `${file.split('/').slice(-2).join('-')}.ko`);
    writeFileSync(target, execFileSync(tool, ['-dc', file]));
  }
  return run('modinfo', ['-F', field, target]).split('\n').filter((l) => l !== '');
}

function readelfSections(file: string): Map<string, { offset: number; size: number }> {
  const out = new Map<string, { offset: number; size: number }>();
  for (const line of run('readelf', ['-S', '-W', file]).split('\n')) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (m) out.set(m[1]!, { offset: parseInt(m[2]!, 16), size: parseInt(m[3]!, 16) });
  }
  return out;
}

describe('kernel modules agree with modinfo', () => {
  it('finds the fixtures', () => {
    expect(moduleFiles.length).toBeGreaterThanOrEqual(16);
    expect(moduleFiles.some((f) => f.endsWith('.ko.gz'))).toBe(true);
    expect(moduleFiles.some((f) => f.endsWith('.ko.zst'))).toBe(true);
  });

  for (const file of [...moduleFiles, ...modlike]) {
    const label = file.slice(fixtures.length + 1);
    it(`modinfo -F name|vermagic|depends|alias|firmware|license|version|srcversion|parm: ${label}`, async () => {
      const m = await readModuleFile(file);
      const one = (f: string) => modinfo(f, file).join('\n');
      if (one('name')) expect(m.name).toBe(one('name'));
      expect(m.vermagic.trimEnd()).toBe(one('vermagic').trimEnd());
      expect(m.kernelRelease).toBe(one('vermagic').split(' ')[0]);
      expect(m.depends.join(',')).toBe(one('depends'));
      expect([...m.aliases].sort()).toEqual(modinfo('alias', file).sort());
      expect(m.firmware).toEqual(modinfo('firmware', file));
      expect(m.license).toBe(one('license'));
      expect(m.licenses).toEqual(modinfo('license', file));
      expect(m.version ?? '').toBe(one('version'));
      expect(m.srcversion ?? '').toBe(one('srcversion'));
      expect(m.description ?? '').toBe(one('description'));
      const parms = m.parms.map((p) => `${p.name}:${p.description ?? ''}${p.type ? ` (${p.type})` : ''}`);
      expect(parms.sort()).toEqual(modinfo('parm', file).sort());
      expect(m.compression).toBe({ xz: 'xz', gz: 'gzip', zst: 'zstd' }[file.split('.').pop()!] ?? 'none');
    });
  }

  it('acmenet and acmestor carry what the sources declare', async () => {
    const net = await readModuleFile(plainAcmenet);
    const stor = await readModuleFile(join(fixtures, 'ko', debianDir, 'acmestor.ko'));
    expect(net).toMatchObject({ name: 'acmenet', arch: 'x86_64', version: '2.4.1', license: 'GPL', depends: [], firmware: ['acme/acmenet.bin'], signed: false });
    expect(net.aliases).toContain('pci:v0000AC3Ed00001002sv0000AC3Esd0000A001bc*sc*i*');
    expect(net.aliases).toContain('pci:v0000AC3Ed*sv*sd*bc02sc00i*');
    expect(net.parms).toContainEqual({ name: 'rx_ring', description: 'Receive ring entries (default 512)', type: 'int' });
    expect(net.flags).toContain('retpoline');
    expect(stor).toMatchObject({ name: 'acmestor', depends: ['acmenet'], importNs: ['ACME'], softdeps: ['post: nvme_fabrics'] });
    expect(net.modinfo.map(([k]) => k)).toContain('srcversion');
  });

  it('modules stamped with RHEL releases report them (vermagic first token)', async () => {
    for (const rel of ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-427.13.1.el9_4.x86_64']) {
      expect((await readModuleFile(join(fixtures, 'ko', rel, 'acmenet.ko'))).kernelRelease).toBe(rel);
    }
  });
});

describe('ELF classes and byte orders (readelf, modprobe)', () => {
  for (const file of modlike) {
    const label = file.slice(fixtures.length + 1);
    it(`readelf -p .modinfo lists the same strings in order: ${label}`, () => {
      const m = parseModule(readFileSync(file), file);
      const dump = run('readelf', ['-p', '.modinfo', file])
        .split('\n')
        .map((l) => /^\s*\[\s*[0-9a-f]+\]\s\s(.*)$/.exec(l)?.[1])
        .filter((s): s is string => s !== undefined);
      expect(m.modinfo.map(([k, v]) => `${k}=${v}`.trimEnd())).toEqual(dump.map((s) => s.trimEnd()));
    });
  }

  it('reads a 32-bit little-endian i686 object and a 64-bit big-endian s390x one', () => {
    const le32 = parseModule(readFileSync(join(fixtures, 'elf', 'modlike-i686.ko')));
    const be64 = parseModule(readFileSync(join(fixtures, 'elf', 'modlike-s390x.ko')));
    expect(le32).toMatchObject({ name: 'modlike32', arch: 'i686', kernelRelease: '2.6.18-398.el5', elf: { bits: 32, littleEndian: true } });
    // no name= here: the name comes from struct module in .gnu.linkonce.this_module
    expect(be64).toMatchObject({ name: 'modlike_be', arch: 's390x', kernelRelease: '5.14.0-362.8.1.el9_3.s390x', elf: { bits: 64, littleEndian: false } });
    expect(be64.modinfo.some(([k]) => k === 'name')).toBe(false);
  });

  for (const file of [...moduleFiles.filter((f) => f.endsWith('.ko')), ...modlike]) {
    const label = file.slice(fixtures.length + 1);
    it(`modprobe --dump-modversions lists the same CRCs: ${label}`, () => {
      const m = parseModule(readFileSync(file));
      const expected = run('modprobe', ['--dump-modversions', file]).split('\n').filter(Boolean);
      expect(m.versions.map((v) => `0x${v.crc.toString(16).padStart(8, '0')}\t${v.name}`)).toEqual(expected);
      expect(expected.length).toBeGreaterThan(0);
    });

    it(`readelf -S -W offsets and sizes of .modinfo, __versions, .gnu.linkonce.this_module: ${label}`, () => {
      const elf = parseElf(readFileSync(file));
      const theirs = readelfSections(file);
      for (const name of ['.modinfo', '__versions', '.gnu.linkonce.this_module']) {
        const s = elf.sections.find((x) => x.name === name)!;
        expect({ offset: s.offset, size: s.size }, name).toEqual(theirs.get(name));
      }
    });
  }

  it('handles the SHN_XINDEX / e_shnum = 0 escapes (readelf reads the rewritten file too)', () => {
    const bytes = Buffer.from(readFileSync(plainAcmenet));
    const shoff = Number(bytes.readBigUInt64LE(40));
    const shnum = bytes.readUInt16LE(60);
    const shstrndx = bytes.readUInt16LE(62);
    bytes.writeUInt16LE(0, 60);
    bytes.writeUInt16LE(0xffff, 62);
    bytes.writeBigUInt64LE(BigInt(shnum), shoff + 32); // section 0 sh_size = count
    bytes.writeUInt32LE(shstrndx, shoff + 40); // section 0 sh_link = name table index
    const f = join(dir, 'xindex.ko');
    writeFileSync(f, bytes);
    expect(readelfSections(f).get('.modinfo')).toBeDefined();
    const m = parseModule(bytes);
    expect(parseElf(bytes).sections).toHaveLength(shnum);
    expect(m.name).toBe('acmenet');
    expect(m.aliases).toEqual(parseModule(readFileSync(plainAcmenet)).aliases);
  });
});

describe('several license= entries (objcopy-edited module, modinfo)', () => {
  it('keeps every license= entry as modinfo -F license prints them; inspect lists each', async () => {
    const section = join(dir, 'modinfo.bin');
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.modinfo', plainAcmenet, section]);
    const original = readFileSync(section);
    const at = original.indexOf('license=GPL\0');
    expect(at).toBeGreaterThanOrEqual(0);
    // A module linked from objects with their own MODULE_LICENSE carries one entry per object.
    writeFileSync(section, Buffer.concat([original.subarray(0, at), Buffer.from('license=Dual MIT/GPL\0'), original.subarray(at)]));
    const twoLicenses = join(dir, 'two-licenses.ko');
    execFileSync('objcopy', [`--update-section`, `.modinfo=${section}`, plainAcmenet, twoLicenses]);
    expect(modinfo('license', twoLicenses)).toEqual(['Dual MIT/GPL', 'GPL']);
    const m = await readModuleFile(twoLicenses);
    expect(m.licenses).toEqual(modinfo('license', twoLicenses));
    expect(m.license).toBe('Dual MIT/GPL');
    const shown = dudkit(['inspect', twoLicenses]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^ {2}license {9}Dual MIT\/GPL\n {18}GPL$/m);
  });
});

describe('signed modules (modinfo, readelf)', () => {
  for (const file of [signedAcmenet, `${signedAcmenet}.xz`]) {
    it(`recognises the signature like modinfo -F signer|sig_key|sig_hashalgo: ${file.slice(fixtures.length + 1)}`, async () => {
      const m = await readModuleFile(file);
      expect(m.signed).toBe(true);
      expect(m.signature).toMatchObject({
        idType: modinfo('sig_id', file)[0],
        signer: modinfo('signer', file)[0],
        hashAlgorithm: modinfo('sig_hashalgo', file)[0],
      });
      expect(m.signature!.keyId!.replace(/:/g, '')).toBe(modinfo('sig_key', file).join('').replace(/[:\s]/g, ''));
      expect(m.name).toBe('acmenet');
    });
  }

  it('the ELF part is file − 40 − sig_len bytes, equal to the unsigned module, and readelf -h accepts it', () => {
    const signed = readFileSync(signedAcmenet);
    const m = parseModule(signed);
    expect(m.elf.length).toBe(signed.length - 40 - m.signature!.length);
    const stripped = signed.subarray(0, m.elf.length);
    expect(Buffer.compare(stripped, readFileSync(plainAcmenet))).toBe(0);
    const f = join(dir, 'stripped.ko');
    writeFileSync(f, stripped);
    expect(run('readelf', ['-h', f])).toMatch(/REL \(Relocatable file\)/);
    expect(parseModule(readFileSync(plainAcmenet)).signed).toBe(false);
  });
});

describe('bad input fails with a FormatError, never a crash', () => {
  const good = readFileSync(plainAcmenet);
  const expectFormatError = (bytes: Uint8Array, what: string) => {
    try {
      parseModule(bytes, 'bad.ko');
    } catch (err) {
      expect(err, what).toBeInstanceOf(FormatError);
      expect((err as Error).message.length, what).toBeGreaterThan(5);
      return;
    }
    throw new Error(`${what}: parsed without error`);
  };

  it('truncated at every 97th offset and around the section table', () => {
    const shoff = Number(good.readBigUInt64LE(40));
    const cuts = new Set<number>([0, 1, 4, 15, 16, 17, 52, 63, 64, shoff, shoff + 1, shoff + 64, good.length - 64, good.length - 1]);
    for (let n = 0; n < good.length; n += 97) cuts.add(n);
    for (const n of cuts) expectFormatError(good.subarray(0, n), `cut at ${n}`);
  });

  it('bytes flipped in the ELF header and the section table parse or give a FormatError', () => {
    const shoff = Number(good.readBigUInt64LE(40));
    const offsets = [...Array.from({ length: 64 }, (_, i) => i), ...Array.from({ length: 42 * 64 }, (_, i) => shoff + i).filter((_, i) => i % 3 === 0)];
    let failures = 0;
    for (const at of offsets) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0xff;
      try {
        parseModule(bad, 'bad.ko');
      } catch (err) {
        if (!(err instanceof FormatError)) throw new Error(`byte ${at}: ${String(err)}`);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(20);
  });

  it('names the precise problem', () => {
    const badShoff = Buffer.from(good);
    badShoff.writeBigUInt64LE(BigInt(good.length + 100), 40);
    expect(() => parseModule(badShoff)).toThrow(/section header table at e_shoff \d+ lies beyond the end/);
    const exec = Buffer.from(good);
    exec.writeUInt16LE(2, 16);
    expect(() => parseModule(exec)).toThrow(/not a relocatable object/);
    expect(() => parseModule(Buffer.from('hello world, not elf at all'))).toThrow(/bad magic/);
    const renamed = Buffer.from(good);
    renamed.set(Buffer.from('.modinfX'), renamed.indexOf('.modinfo\0'));
    expect(() => parseModule(renamed)).toThrow(/no \.modinfo section/);
  });

  it('readModuleFile turns corrupt xz, cut modules and missing files into UserErrors naming the file', async () => {
    const xz = readFileSync(`${plainAcmenet.replace(debianDir, '5.14.0-362.8.1.el9_3.x86_64')}.xz`);
    const cases: [string, Uint8Array][] = [
      ['cut.ko.xz', xz.subarray(0, xz.length >> 1)],
      ['cut.ko', good.subarray(0, 1000)],
      ['garbage.ko', Buffer.alloc(200, 0x41)],
    ];
    for (const [name, bytes] of cases) {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      await expect(readModuleFile(f)).rejects.toThrow(UserError);
      await expect(readModuleFile(f)).rejects.toThrow(f);
    }
    await expect(readModuleFile(join(dir, 'missing.ko'))).rejects.toThrow(/missing\.ko: no such file/);
  });

  it('warns about a bzip2-compressed module (kmod cannot load .ko.bz2) and reads it or names the file', async () => {
    const f = join(dir, 'acmenet.ko.bz2');
    writeFileSync(f, execFileSync('bzip2', ['-c', plainAcmenet]));
    const warnings: string[] = [];
    // decompressBuffer's bzip2 path currently fails on a single small buffer ("Premature close",
    // src/formats/compress); either outcome must be clean: the module, or a UserError naming it
    const m = await readModuleFile(f, (w) => warnings.push(w)).catch((err: unknown) => err);
    expect(warnings[0]).toMatch(/bzip2.*kmod cannot load/);
    if (m instanceof Error) expect(m).toBeInstanceOf(UserError);
    else expect(m).toMatchObject({ name: 'acmenet', compression: 'bzip2' });
  });
});

/** The module with the .modinfo section's sh_offset pointing past the end of the file. */
function sectionBeyondEnd(good: Buffer): Buffer {
  const bad = Buffer.from(good);
  const elf = parseElf(good);
  const s = elf.sections.find((x) => x.name === '.modinfo')!;
  bad.writeBigUInt64LE(BigInt(good.length + 16), Number(good.readBigUInt64LE(40)) + s.index * 64 + 24);
  return bad;
}

describe('dudkit inspect on kernel modules (the CLI scripts/test.sh builds into dist/)', { timeout: 30_000 }, () => {
  const cli = join(import.meta.dirname, '..', 'dist', 'src', 'cli.js');
  const inspect = (...args: string[]) => spawnSync(process.execPath, [cli, 'inspect', ...args], { encoding: 'utf8' });

  for (const file of [plainAcmenet, `${signedAcmenet}.xz`, join(fixtures, 'ko', '5.14.0-362.8.1.el9_3.x86_64', 'acmestor.ko.zst')]) {
    it(`--json agrees with modinfo: ${file.slice(fixtures.length + 1)}`, () => {
      const r = inspect(file, '--json');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const doc = JSON.parse(r.stdout);
      expect(doc).toMatchObject({ kind: 'kernel-module', name: modinfo('name', file)[0], kernelRelease: modinfo('vermagic', file)[0]!.split(' ')[0] });
      expect([...doc.aliases].sort()).toEqual(modinfo('alias', file).sort());
      expect(doc.depends.join(',')).toBe(modinfo('depends', file).join(''));
      expect(doc.signed).toBe(file.includes('signed'));
    });
  }

  it('prints what a user needs as text', () => {
    const r = inspect(`${signedAcmenet}.xz`);
    expect(r.status).toBe(0);
    for (const want of [/kernel module acmenet/, /kernel release\s+\d/, /arch\s+x86_64/, /version\s+2\.4\.1/, /license\s+GPL/, /compression\s+xz/, /signed\s+yes \(PKCS#7, signer dudkit fixture signing key, sha256\)/, /firmware\s+acme\/acmenet\.bin/, /rx_ring \(int\): Receive ring/, /aliases\s+pci:v0000AC3E/]) {
      expect(r.stdout).toMatch(want);
    }
  });

  it('bad modules exit 2 with one line naming the file, no stack trace', () => {
    const good = readFileSync(plainAcmenet);
    for (const [name, bytes] of [
      ['cut.ko', good.subarray(0, 2000)],
      ['badshoff.ko', Buffer.concat([good.subarray(0, 40), Buffer.alloc(8, 0x7f), good.subarray(48)])],
      ['cut.ko.xz', readFileSync(join(fixtures, 'ko', '5.14.0-362.8.1.el9_3.x86_64', 'acmenet.ko.xz')).subarray(0, 500)],
      ['section-beyond-end.ko', sectionBeyondEnd(good)],
      ['badmagic.ko', Buffer.concat([Buffer.from('\x7fELG'), good.subarray(4)])],
    ] as const) {
      const f = join(dir, `cli-${name}`);
      writeFileSync(f, bytes);
      const r = inspect(f);
      expect(r.status, name).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, name).toHaveLength(1);
      expect(lines[0]).toContain(f);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
