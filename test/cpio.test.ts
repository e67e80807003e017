import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../src/errors.js';
import { decompress } from '../src/formats/compress/index.js';
import { displayName, readCpio, readInitrd, safeMemberPath, writeCpio, type CpioEntry, type CpioMember } from '../src/formats/cpio/index.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-cpio-');
const EPOCH = 1700000000;

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function* chunked(buf: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

interface Read { entry: CpioEntry; bytes: Buffer }
async function readAll(buf: Uint8Array, chunk = 65536): Promise<Read[]> {
  const out: Read[] = [];
  for await (const { entry, data } of readCpio(chunked(buf, chunk))) out.push({ entry, bytes: await collect(data) });
  return out;
}

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

const iso = pattern(100_001, 1);
const conf = Buffer.from('options acmenet debug=0\n');
const script = Buffer.from('#!/bin/sh\necho hi\n');
const cafe = Buffer.from('crème brûlée\n');

function members(): CpioMember[] {
  return [
    { name: 'dd.iso', mode: 0o100644, mtime: EPOCH, size: iso.length, data: chunked(iso, 4099) },
    { name: 'etc', mode: 0o40755, mtime: EPOCH, size: 0 },
    { name: 'etc/café.txt', mode: 0o100644, mtime: EPOCH, size: cafe.length, data: cafe },
    { name: 'etc/foo.conf', mode: 0o100600, mtime: EPOCH - 86400, size: conf.length, data: conf },
    { name: 'etc/link', mode: 0o120777, mtime: EPOCH, size: 8, linkTarget: 'foo.conf' },
    { name: 'etc/run.sh', mode: 0o100755, mtime: EPOCH, size: script.length, data: script },
    { name: 'etc/empty', mode: 0o100644, mtime: EPOCH, size: 0 },
  ];
}

async function written(format: 'newc' | 'crc' = 'newc', blockSize?: number): Promise<Buffer> {
  const ms = members().map((m) => (format === 'crc' && m.name === 'dd.iso' ? { ...m, data: iso } : m));
  return collect(writeCpio(ms, { format, ...(blockSize ? { blockSize } : {}) }));
}

function sh(cmd: string, cwd = dir): string {
  return execFileSync('bash', ['-c', cmd], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function checkExtracted(root: string): void {
  expect(readFileSync(join(root, 'dd.iso')).equals(iso)).toBe(true);
  expect(readFileSync(join(root, 'etc/café.txt')).equals(cafe)).toBe(true);
  expect(readFileSync(join(root, 'etc/foo.conf')).equals(conf)).toBe(true);
  expect(readFileSync(join(root, 'etc/empty')).length).toBe(0);
  expect(readlinkSync(join(root, 'etc/link'))).toBe('foo.conf');
  expect(lstatSync(join(root, 'etc/run.sh')).mode).toBe(0o100755);
  expect(lstatSync(join(root, 'etc/foo.conf')).mode).toBe(0o100600);
  expect(lstatSync(join(root, 'dd.iso')).mtimeMs / 1000).toBe(EPOCH);
  expect(lstatSync(join(root, 'etc/foo.conf')).mtimeMs / 1000).toBe(EPOCH - 86400);
}

describe('cpio writer', () => {
  it('writes the byte layout of cpio.md (110-byte header, lowercase hex, padding, trailer, length ≡ 0 mod 4)', async () => {
    const out = await collect(writeCpio([{ name: 'a', mode: 0o100644, mtime: 0x5f5e100, size: 5, data: Buffer.from('hello') }]));
    const head = out.subarray(0, 110).toString('latin1');
    expect(head).toBe('070701' + '00000001' + '000081a4' + '00000000' + '00000000' + '00000001' + '05f5e100' + '00000005' + '00000000'.repeat(4) + '00000002' + '00000000');
    expect(out.subarray(110, 112).toString('latin1')).toBe('a\0');
    expect(out.subarray(112, 117).toString()).toBe('hello');
    expect(out.subarray(117, 120)).toEqual(Buffer.alloc(3));
    const trailer = out.subarray(120);
    expect(trailer.length).toBe(124);
    expect(trailer.subarray(0, 110).toString('latin1')).toBe('070701' + '00000000'.repeat(4) + '00000001' + '00000000'.repeat(6) + '0000000b' + '00000000');
    expect(trailer.subarray(110).toString('latin1')).toBe('TRAILER!!!\0\0\0\0');
  });

  it('GNU cpio -itv and cpio -idm read what it writes (names, bytes, modes, symlinks, mtimes)', async () => {
    const buf = await written();
    expect(buf.length % 4).toBe(0);
    const file = join(dir, 'ours.cpio');
    writeFileSync(file, buf);
    const names = sh(`cpio -it --quiet < ${file}`).trim().split('\n');
    expect(names).toEqual(['dd.iso', 'etc', 'etc/café.txt', 'etc/foo.conf', 'etc/link', 'etc/run.sh', 'etc/empty']);
    const long = sh(`TZ=UTC cpio -itv --quiet < ${file}`);
    expect(long).toMatch(/^-rw-r--r-- +1 root +root +100001 Nov 14 +2023 dd\.iso$/m);
    expect(long).toMatch(/^lrwxrwxrwx .* etc\/link -> foo\.conf$/m);
    const x = join(dir, 'gnu-x');
    mkdirSync(x);
    sh(`cpio -idm --quiet --no-absolute-filenames < ${file}`, x);
    checkExtracted(x);
  });

  it('GNU cpio -idm verifies and extracts the crc variant', async () => {
    const buf = await written('crc');
    expect(buf.subarray(0, 6).toString()).toBe('070702');
    const file = join(dir, 'ours-crc.cpio');
    writeFileSync(file, buf);
    const x = join(dir, 'gnu-crc-x');
    mkdirSync(x);
    const err = execFileSync('bash', ['-c', `cpio -idm --no-absolute-filenames < ${file} 2>&1`], { cwd: x, encoding: 'utf8' });
    expect(err).not.toMatch(/checksum/i);
    checkExtracted(x);
  });

  it('bsdtar -tvf and bsdcpio -i read what it writes', async () => {
    const file = join(dir, 'ours.cpio');
    writeFileSync(file, await written());
    expect(sh(`bsdtar -tf ${file}`).trim().split('\n')).toEqual(['dd.iso', 'etc', 'etc/café.txt', 'etc/foo.conf', 'etc/link', 'etc/run.sh', 'etc/empty']);
    const x = join(dir, 'bsd-x');
    mkdirSync(x);
    sh(`bsdcpio -idm --quiet < ${file}`, x);
    checkExtracted(x);
  });

  it('equals GNU cpio -o -H newc byte for byte after normalising hex case, inodes and the 512-byte end padding', async () => {
    const src = join(dir, 'gnu-src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.bin'), pattern(1001, 2));
    writeFileSync(join(src, 'b.txt'), 'b\n');
    chmodSync(join(src, 'a.bin'), 0o644);
    chmodSync(join(src, 'b.txt'), 0o644);
    for (const f of ['a.bin', 'b.txt']) utimesSync(join(src, f), EPOCH, EPOCH);
    const gnu = execFileSync('bash', ['-c', `printf 'a.bin\\nb.txt\\n' | cpio -o -H newc --quiet -R 0:0 --reproducible`], { cwd: src });
    const ours = await collect(
      writeCpio(
        ['a.bin', 'b.txt'].map((name, ino) => {
          const data = readFileSync(join(src, name));
          return { name, ino, mode: 0o100644, mtime: EPOCH, size: data.length, data };
        }),
        { blockSize: 512 },
      ),
    );
    // GNU --reproducible numbers inodes from 0 (given explicitly above), so only the hex case differs
    const upper = (b: Buffer) => {
      const c = Buffer.from(b);
      let off = 0;
      for (const size of [1001, 2, 0]) {
        for (let i = off; i < off + 110; i++) if (c[i]! >= 0x61 && c[i]! <= 0x66) c[i] = c[i]! - 0x20;
        const namesize = parseInt(c.subarray(off + 94, off + 102).toString(), 16);
        off += 110 + namesize + ((4 - ((110 + namesize) % 4)) % 4) + size + ((4 - (size % 4)) % 4);
      }
      return c;
    };
    expect(ours.length).toBe(gnu.length);
    expect(upper(ours).equals(gnu)).toBe(true);
  });

  it('is deterministic', async () => {
    expect((await written()).equals(await written())).toBe(true);
  });

  it('refuses members of 4 GiB - 1 or more without reading their data (and accepts 4 GiB - 2)', async () => {
    let pulled = false;
    const never: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        pulled = true;
        yield new Uint8Array(1);
      },
    };
    const huge = (size: number): CpioMember[] => [{ name: 'big.iso', mode: 0o100644, mtime: EPOCH, size, data: never }];
    await expect(collect(writeCpio(huge(0xffffffff)))).rejects.toThrow(/big\.iso is 4294967295 bytes: newc cannot store members of 4 GiB - 1 or more/);
    await expect(collect(writeCpio(huge(5 * 2 ** 30)))).rejects.toThrow(RangeError);
    expect(pulled).toBe(false);
    const it2 = writeCpio(huge(0xfffffffe))[Symbol.asyncIterator]();
    const first = (await it2.next()).value as Uint8Array;
    expect(Buffer.from(first.subarray(54, 62)).toString()).toBe('fffffffe');
    await it2.return(undefined);
  });

  it('refuses bad names and inconsistent sizes', async () => {
    const one = (m: Partial<CpioMember>) => collect(writeCpio([{ name: 'x', mode: 0o100644, mtime: 0, size: 0, ...m }]));
    await expect(one({ name: 'a\0b' })).rejects.toThrow(/NUL/);
    await expect(one({ name: '/etc/x' })).rejects.toThrow(/absolute/);
    await expect(one({ name: './a/../../x' })).rejects.toThrow(/contains "\.\."/);
    await expect(one({ name: 'bad\ud800name' })).rejects.toThrow(/not valid Unicode/);
    await expect(one({ name: 'TRAILER!!!' })).rejects.toThrow(/reserved/);
    await expect(one({ name: 'x'.repeat(4096) })).rejects.toThrow(/longer/);
    await expect(one({ size: 3, data: Buffer.from('ab') })).rejects.toThrow(/size 3 but 2/);
    await expect(one({ size: 3, data: chunked(Buffer.from('ab'), 1) })).rejects.toThrow(/shorter/);
    await expect(one({ size: 1, data: chunked(Buffer.from('ab'), 1) })).rejects.toThrow(/longer/);
    await expect(collect(writeCpio([{ name: 'x', mode: 0o100644, mtime: 0, size: 2, data: chunked(Buffer.from('ab'), 1) }], { format: 'crc' }))).rejects.toThrow(/crc format needs the data as bytes/);
    await expect(one({ mode: 0o40755, size: 1, data: Buffer.from('a') })).rejects.toThrow(/only regular files/);
  });
});

describe('cpio reader', () => {
  const src = join(dir, 'tool-src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'hello'), 'hello\n');
  writeFileSync(join(src, 'sub/data.bin'), pattern(70_003, 3));
  symlinkSync('../hello', join(src, 'sub/ln'));
  for (const p of ['hello', 'sub/data.bin', 'sub']) utimesSync(join(src, p), EPOCH, EPOCH);
  const list = 'printf "hello\\nsub\\nsub/data.bin\\nsub/ln\\n"';

  async function checkToolArchive(buf: Buffer, format: string) {
    for (const chunk of [1, 7, 65536]) {
      const got = await readAll(buf, chunk);
      expect(got.map((g) => g.entry.name)).toEqual(['hello', 'sub', 'sub/data.bin', 'sub/ln']);
      expect(got.every((g) => g.entry.format === format)).toBe(true);
      const [hello, sub, data, ln] = got as [Read, Read, Read, Read];
      expect(hello.bytes.toString()).toBe('hello\n');
      expect(hello.entry.mode).toBe(lstatSync(join(src, 'hello')).mode);
      expect(hello.entry.mtime).toBe(EPOCH);
      expect(sub.entry.mode & 0o170000).toBe(0o040000);
      expect(data.bytes.equals(pattern(70_003, 3))).toBe(true);
      expect(data.entry.size).toBe(70_003);
      expect(ln.entry.linkTarget).toBe('../hello');
      expect(ln.entry.mode & 0o170000).toBe(0o120000);
    }
  }

  it('reads GNU cpio -o -H newc archives exactly', async () => {
    await checkToolArchive(execFileSync('bash', ['-c', `${list} | cpio -o -H newc --quiet`], { cwd: src }), 'newc');
  });

  it('reads GNU cpio -o -H crc archives and verifies the sum (hello\\n sums to 0000021E)', async () => {
    const buf = execFileSync('bash', ['-c', `${list} | cpio -o -H crc --quiet`], { cwd: src });
    await checkToolArchive(buf, 'crc');
    expect((await readAll(buf))[0]!.entry.check).toBe(0x21e);
  });

  it('reads GNU cpio -o -H odc archives exactly', async () => {
    await checkToolArchive(execFileSync('bash', ['-c', `${list} | cpio -o -H odc --quiet`], { cwd: src }), 'odc');
  });

  it('reads bsdcpio -o (newc and odc) and bsdtar --format newc archives exactly', async () => {
    await checkToolArchive(execFileSync('bash', ['-c', `${list} | bsdcpio -o -H newc --quiet`], { cwd: src }), 'newc');
    await checkToolArchive(execFileSync('bash', ['-c', `${list} | bsdcpio -o -H odc --quiet`], { cwd: src }), 'odc');
    await checkToolArchive(execFileSync('bash', ['-c', `bsdtar --format newc -cf - -n hello sub sub/data.bin sub/ln`], { cwd: src }), 'newc');
  });

  it('skips data the consumer leaves unread, and reports the end offset', async () => {
    const buf = await written();
    const gen = readCpio(chunked(buf, 333));
    const names: string[] = [];
    let r = await gen.next();
    while (!r.done) {
      names.push(r.value.entry.name);
      if (r.value.entry.name === 'etc/foo.conf') {
        // read only the first chunk
        for await (const c of r.value.data) {
          expect(c.length).toBeGreaterThan(0);
          break;
        }
      }
      r = await gen.next();
    }
    expect(names).toHaveLength(7);
    expect(r.value.end).toBe(buf.length);
  });

  it('lists a kernel-style concatenation: GNU cpio archive padded to 512, our archive, then a gzip segment', async () => {
    const first = execFileSync('bash', ['-c', `printf "hello\\n" | cpio -o -H newc --quiet`], { cwd: src });
    expect(first.length % 512).toBe(0);
    const second = await written();
    const third = await collect(writeCpio([{ name: 'dd.iso', mode: 0o100644, mtime: EPOCH, size: 3, data: Buffer.from('iso') }]));
    const gz = gzipSync(third);
    const initrd = Buffer.concat([first, second, Buffer.alloc(8), gz]);
    const gen = readInitrd(chunked(initrd, 1000));
    const seen: [number, string][] = [];
    let r = await gen.next();
    while (!r.done) {
      seen.push([r.value.archiveOffset, r.value.entry.name]);
      r = await gen.next();
    }
    expect(seen[0]).toEqual([0, 'hello']);
    expect(seen.slice(1).every(([off]) => off === first.length)).toBe(true);
    expect(seen).toHaveLength(8);
    const end = r.value;
    expect(end.compressed?.compression).toBe('gzip');
    expect(end.compressed?.offset).toBe(first.length + second.length + 8);
    const inner: string[] = [];
    for await (const m of readInitrd(decompress(end.compressed!.rest))) inner.push(m.entry.name);
    expect(inner).toEqual(['dd.iso']);
  });

  it('readInitrd rejects an uncompressed archive that is not 4-byte aligned ("broken padding")', async () => {
    const a = await written();
    const bad = Buffer.concat([a, Buffer.alloc(2), a]);
    const run = async () => {
      for await (const m of readInitrd(chunked(bad, 4096))) void m;
    };
    await expect(run()).rejects.toThrow(new RegExp(`broken padding: cpio archive at offset ${a.length + 2}`));
  });

  it('readInitrd rejects an odc archive made by GNU cpio -H odc, as the kernel does', async () => {
    const odc = execFileSync('bash', ['-c', `printf "hello\\n" | cpio -o -H odc --quiet`], { cwd: src });
    const run = async () => {
      for await (const m of readInitrd(chunked(odc, 4096))) void m;
    };
    await expect(run()).rejects.toThrow(/odc cpio archive at offset 0: the kernel rejects it/);
  });

  it('gives FormatError naming the offset for truncation and corruption', async () => {
    const buf = await written('crc');
    const fails = async (b: Uint8Array, re: RegExp) => {
      const err = await readAll(b).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(FormatError);
      expect(String((err as Error).message)).toMatch(re);
    };
    // truncated inside the big member's data, inside a header, before the trailer
    await fails(buf.subarray(0, 5000), /truncated cpio archive: input ends at offset 5000 inside data of dd\.iso/);
    await fails(buf.subarray(0, buf.length - 124 - 50), /truncated/);
    await fails(buf.subarray(0, buf.length - 124), /truncated cpio archive: input ends at offset \d+, before TRAILER!!!/);
    await fails(new Uint8Array(0), /truncated/);
    // non-hex digit in the mode of the first header
    const nonHex = Buffer.from(buf);
    nonHex[16] = 0x67; // 'g'
    await fails(nonHex, /bad cpio header at offset 0: field mode has non-hex digit "g"/);
    // one data byte changed: crc mismatch
    const flipped = Buffer.from(buf);
    flipped[200] = flipped[200]! ^ 1;
    await fails(flipped, /bad data checksum for dd\.iso \(header at offset 0\)/);
    // absurd name size
    const bigName = Buffer.from(buf);
    bigName.write('00010000', 94, 'latin1');
    await fails(bigName, /name size 65536 outside/);
    // unknown magics
    await fails(Buffer.from('07070X00000001'), /stripped/);
    await fails(Buffer.from([0xc7, 0x71, 0, 0, 0, 0, 0, 0]), /old binary cpio/);
    await fails(Buffer.from('PK\x03\x04 not cpio'), /no cpio magic at offset 0/);
    // a huge declared size with little data is truncation, never an allocation
    const huge = Buffer.from(await collect(writeCpio([{ name: 'x', mode: 0o100644, mtime: 0, size: 4, data: Buffer.from('abcd') }])));
    huge.write('ffffffff', 54, 'latin1');
    await fails(huge, /truncated cpio archive: input ends at offset \d+ inside data of x/);
  });
});

describe('cpio member names', () => {
  it('safeMemberPath strips ./ and /, drops ., refuses ..', () => {
    expect(safeMemberPath('./lib/modules/x.ko')).toBe('lib/modules/x.ko');
    expect(safeMemberPath('/etc//foo/./bar')).toBe('etc/foo/bar');
    expect(safeMemberPath('.')).toBe('');
    expect(() => safeMemberPath('a/../../etc/passwd')).toThrow(FormatError);
    expect(() => safeMemberPath('..')).toThrow(/contains "\.\."/);
  });
});

describe('names GNU cpio stores as bytes, and a member named TRAILER!!!', () => {
  const sh = (cmd: string, cwd: string) => execFileSync('sh', ['-c', cmd], { cwd, maxBuffer: 1 << 24 });

  it('keeps names that are not UTF-8 (GNU cpio -t lists their bytes) and shows them escaped as bsdtar -t does', async () => {
    const tree = join(dir, 'latin1');
    mkdirSync(tree);
    const names = [Buffer.from('caf\xe9', 'latin1'), Buffer.from('x\x01y', 'latin1'), Buffer.from('back\\slash'), Buffer.from('crème')];
    // file names as bytes: node takes a Buffer path as it is
    const at = (n: Buffer) => Buffer.concat([Buffer.from(`${tree}/`), n]);
    for (const n of names) writeFileSync(at(n), 'x');
    names.push(Buffer.from('to-caf\xe9', 'latin1'));
    symlinkSync(Buffer.from('caf\xe9', 'latin1'), at(names.at(-1)!));
    writeFileSync(join(dir, 'latin1.list'), Buffer.concat(names.flatMap((n) => [n, Buffer.from('\n')])));
    const archive = join(dir, 'latin1.cpio');
    sh(`cpio -o -H newc --quiet < ${join(dir, 'latin1.list')} > ${archive}`, tree);
    const read = await readAll(readFileSync(archive));
    // GNU cpio -t prints each name's bytes as stored
    const listed = sh(`cpio -t --quiet < ${archive}`, tree);
    expect(Buffer.concat(read.flatMap((r) => [Buffer.from(r.entry.nameBytes), Buffer.from('\n')]))).toEqual(listed);
    expect(Buffer.from(read.at(-1)!.entry.linkTargetBytes!)).toEqual(Buffer.from('caf\xe9', 'latin1'));
    // bsdtar -t escapes what is not printable UTF-8 (caf\351, x\001y, back\\slash)
    const shown = sh(`bsdtar -tf ${archive}`, tree).toString('utf8').trim().split('\n');
    expect(read.map((r) => displayName(r.entry.nameBytes))).toEqual(shown);
    const { inspect } = await import('../src/readers/index.js');
    const r = await inspect(archive);
    expect(r.text).toContain('caf\\351');
    expect((r.facts as { segments: { members: { name: string }[] }[] }).segments[0]!.members.map((m) => m.name)).toEqual(shown);
  });

  it('a symlink named TRAILER!!! ends the archive, as for GNU cpio -t and bsdtar -t (libarchive symlink_trailer.cpio); the kernel skips its body and reads on', async () => {
    const tree = join(dir, 'trailer');
    mkdirSync(tree);
    writeFileSync(join(tree, 'a'), 'a\n');
    writeFileSync(join(tree, 'b'), 'b\n');
    symlinkSync('x'.repeat(4000), join(tree, 'TRAILER!!!'));
    const archive = join(dir, 'trailer.cpio');
    sh(`printf 'a\\nTRAILER!!!\\nb\\n' | cpio -o -H newc --quiet > ${archive}`, tree);
    const listed = sh(`cpio -t --quiet < ${archive}`, tree).toString().trim().split('\n');
    expect(listed).toEqual(['a']);
    expect(sh(`bsdtar -tf ${archive}`, tree).toString().trim().split('\n')).toEqual(listed);
    const bytes = readFileSync(archive);
    expect((await readAll(bytes)).map((r) => r.entry.name)).toEqual(listed);
    // init/initramfs.c do_name: TRAILER!!! → SkipIt (its 4000-byte body) → Reset: b's header starts a new archive
    const walked: string[] = [];
    for await (const { entry } of readInitrd(chunked(bytes, 4096))) walked.push(entry.name);
    expect(walked).toEqual(['a', 'b']);
    // alone, as in libarchive's specimen: an empty archive, not junk after its name
    const lone = join(dir, 'lone-trailer.cpio');
    sh(`echo 'TRAILER!!!' | cpio -o -H newc --quiet > ${lone}`, tree);
    expect(sh(`cpio -t --quiet < ${lone}`, tree).toString()).toBe('');
    const { inspect } = await import('../src/readers/index.js');
    const r = await inspect(lone);
    expect((r.facts as { segments: { members: unknown[] }[] }).segments.flatMap((s) => s.members)).toEqual([]);
  });
});
