/**
 * gzip payloads are one member whose deflate stream is made of pieces cut at each large file's
 * data (pigz's way), deflated on several threads and, within one build, once per distinct module:
 * the package bytes must not depend on the thread count nor on what else the build packaged.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { build, createContext } from '../src/api.js';
import { GZIP_PIECE_SIZE, gzipPieces, gzipStream } from '../src/formats/compress/gzip-pieces.js';
import type { BlockCut } from '../src/formats/compress/pieces.js';
import { openRpm, verifyDigests } from '../src/formats/rpm/index.js';
import { writeRpm, type RpmPackage } from '../src/formats/rpm/write.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource, readSource } from '../src/tree/source.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';
import { FIXTURES } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-rpm-gzip-pieces-');
const scratches: Scratch[] = [];
async function freshScratch(): Promise<Scratch> {
  const s = await Scratch.create();
  scratches.push(s);
  return s;
}
afterAll(async () => {
  for (const s of scratches) await s.dispose();
});

/** A module-sized file of three pieces: varied bytes from a small alphabet, so it compresses but no two pieces are alike. */
function bigModule(): Buffer {
  let x = 11;
  const out = Buffer.alloc(2 * GZIP_PIECE_SIZE + 200_000);
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = 0x61 + ((x >>> 0) % 16);
  }
  return out;
}

const big = bigModule();
/** Exactly the size from which a file gets pieces of its own (64 KiB), and a small one that is glue. */
const edge = big.subarray(12345, 12345 + (64 << 10));
const small = Buffer.from('options acme debug=0\n');
const KERNELS = ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-427.13.1.el9_4.x86_64', '5.14.0-503.11.1.el9_5.x86_64'];

function pkgFor(kernel: string): RpmPackage {
  const extra = `/lib/modules/${kernel}/extra/big`;
  return {
    name: 'kmod-acme-big',
    version: '1.0',
    release: `1.${kernel.split('-')[1]!.split('.')[0]}`,
    arch: 'x86_64',
    summary: 'A big module',
    description: 'Spans several gzip pieces.',
    license: 'GPLv2',
    buildTime: 1700000000,
    files: [
      { type: 'dir', path: extra },
      { type: 'file', path: `${extra}/big.ko`, content: bytesSource(big) },
      { type: 'file', path: `${extra}/edge.ko`, content: bytesSource(edge) },
      { type: 'file', path: `/etc/modprobe.d/acme-${kernel}.conf`, content: bytesSource(small) },
      { type: 'symlink', path: `${extra}/alias.ko`, target: 'big.ko' },
    ],
  };
}

async function writeTo(pkg: RpmPackage, scratch: Scratch, threads: number, name: string): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, await readSource(await writeRpm(pkg, scratch, { compressor: 'gzip', threads })));
  return file;
}

const pieceFiles = (s: Scratch): string[] => readdirSync(s.dir).filter((f) => f.endsWith('-gzip-piece'));
const payloadOf = async (file: string): Promise<Buffer> => readFileSync(file).subarray((await openRpm(file)).payloadOffset);

describe('gzip payload in per-file pieces', () => {
  const target = pkgFor(KERNELS[1]!);
  let alone1: string;
  let alone4: string;
  let inBuild: string;
  let buildScratch: Scratch;
  beforeAll(async () => {
    alone1 = await writeTo(target, await freshScratch(), 1, 'alone-t1.rpm');
    alone4 = await writeTo(target, await freshScratch(), 4, 'alone-t4.rpm');
    // one build for three kernels: the target is written after another kernel's package
    buildScratch = await freshScratch();
    for (const k of KERNELS) {
      const file = await writeTo(pkgFor(k), buildScratch, 2, `build-${k}.rpm`);
      if (k === KERNELS[1]) inBuild = file;
    }
  });

  test('the package is byte-identical alone on 1 or 4 threads and inside a three-kernel build on 2', () => {
    expect(readFileSync(alone4).equals(readFileSync(alone1))).toBe(true);
    expect(readFileSync(inBuild).equals(readFileSync(alone1))).toBe(true);
  });

  test('a three-kernel build deflates the shared modules once: one memo piece per distinct large-file piece, each found in the payload', async () => {
    // big.ko is 3 pieces, edge.ko 1; the glue (paths differ per kernel) is never kept
    const files = pieceFiles(buildScratch);
    expect(files).toHaveLength(4);
    const payload = await payloadOf(inBuild);
    for (const f of files) expect(payload.includes(readFileSync(join(buildScratch.dir, f)))).toBe(true);
  });

  test('gzip -t accepts the payload; gzip -dc gives what rpm2cpio does; one member: its trailer covers the whole archive; within 0.5% of one zlib -9 stream', async () => {
    const payload = await payloadOf(inBuild);
    const file = join(dir, 'payload.gz');
    writeFileSync(file, payload);
    execFileSync('gzip', ['-t', file]);
    const cpio = execFileSync('rpm2cpio', [inBuild], { maxBuffer: 1 << 26 });
    expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 26 }).equals(cpio)).toBe(true);
    expect(payload.readUInt32LE(payload.length - 8)).toBe(crc32(cpio));
    expect(payload.readUInt32LE(payload.length - 4)).toBe(cpio.length);
    expect(payload.length / gzipSync(cpio, { level: 9 }).length).toBeLessThan(1.005);
  });

  test('rpm -K finds every digest OK; rpm2cpio | cpio -idm and rpm -i --root write every file byte for byte', () => {
    expect(execFileSync('rpm', ['-K', '--nosignature', inBuild], { encoding: 'utf8' })).toMatch(/digests OK/);
    const extra = `lib/modules/${KERNELS[1]}/extra/big`;
    const expectFiles = (root: string): void => {
      expect(readFileSync(join(root, extra, 'big.ko')).equals(big)).toBe(true);
      expect(readFileSync(join(root, extra, 'edge.ko')).equals(edge)).toBe(true);
      expect(readFileSync(join(root, `etc/modprobe.d/acme-${KERNELS[1]}.conf`)).equals(small)).toBe(true);
      expect(readFileSync(join(root, extra, 'alias.ko')).equals(big)).toBe(true);
    };
    const out = join(dir, 'x');
    mkdirSync(out);
    const cpio = execFileSync('rpm2cpio', [inBuild], { maxBuffer: 1 << 26 });
    execFileSync('cpio', ['-idm', '--quiet'], { cwd: out, input: cpio });
    expectFiles(out);
    const root = join(dir, 'root');
    mkdirSync(root);
    execFileSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
    execFileSync('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', inBuild]);
    expectFiles(root);
  });

  test("dudkit's own streaming reader decodes the pieced payload and finds every digest OK", async () => {
    const checks = await verifyDigests(await openRpm(inBuild), { payload: true });
    expect(checks.map((c) => c.name)).toContain('Payload SHA256 ALT digest');
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });
});

describe('gzip pieces at their edges', () => {
  async function gz(data: Uint8Array, cuts: BlockCut[], level = 9): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    for await (const c of gzipPieces((async function* () { yield data; })(), cuts, { level, threads: 2 })) chunks.push(c);
    return Buffer.concat(chunks);
  }
  test.each([1, 6, 9])('gzip -t and gzip -dc accept pieces of 1 byte, a fresh start and a long run at level %i', async (level) => {
    const data = big.subarray(0, 300_000);
    const file = join(dir, `edges-${level}.gz`);
    writeFileSync(file, await gz(data, [{ size: 1, reusable: false }, { size: 100_000, reusable: true, fileStart: true }, { size: 10, reusable: false }, { size: data.length - 100_011, reusable: false }], level));
    execFileSync('gzip', ['-t', file]);
    expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 24 }).equals(data)).toBe(true);
  });
  test('a stream of unknown length (the emit stage): the same bytes on 1 or 3 threads however it is chunked; gzip -t and gzip -dc accept it', async () => {
    const data = Buffer.concat([big, big.subarray(0, 99_999)]);
    const chunked = async function* (size: number): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
    };
    const collect = async (it: AsyncIterable<Uint8Array>): Promise<Buffer> => {
      const parts: Uint8Array[] = [];
      for await (const c of it) parts.push(c);
      return Buffer.concat(parts);
    };
    const one = await collect(gzipStream(chunked(data.length), { level: 9, threads: 1 }));
    expect((await collect(gzipStream(chunked(4093), { level: 9, threads: 3 }))).equals(one)).toBe(true);
    const file = join(dir, 'stream.gz');
    writeFileSync(file, one);
    execFileSync('gzip', ['-t', file]);
    expect(execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 24 }).equals(data)).toBe(true);
  });
  test('gzip -dc reads the empty input as empty', async () => {
    const file = join(dir, 'empty.gz');
    writeFileSync(file, await gz(new Uint8Array(0), []));
    expect(execFileSync('gzip', ['-dc', file]).length).toBe(0);
  });
});

describe('dudkit build: a gzip-payload module for three kernels', () => {
  const kernelRpm = (out: string, k: string): string => {
    const rpms = join(out, 'dd', 'rpms', 'x86_64');
    return join(rpms, readdirSync(rpms).find((f) => f.startsWith('kmod-') && f.includes(k.split('-')[1]!.replace(/\.el9.*/, '')))!);
  };
  async function buildFor(kernels: string[], out: string): Promise<void> {
    const sources = kernels.map((k) => `  - ko: ${ko}\n    kernel: ${k}\n`).join('');
    const m = join(dir, `${kernels.length}.yaml`);
    writeFileSync(m, `${ACME}${ACME_FIRMWARE}sources:\n${sources}targets:\n  - rhdd3: { out: dd, format: directory, payload: gzip }\n`);
    await build(m, { outDir: out, ctx: createContext({ epoch: 1700000000, onWarn: () => undefined }) });
  }
  // the fixture module grown past the own-piece threshold by an ELF section (objcopy), so it is shared
  const ko = join(dir, 'acmenet.ko');
  beforeAll(async () => {
    writeFileSync(join(dir, 'pad'), big.subarray(0, 300_000));
    execFileSync('objcopy', ['--add-section', `.dudkit_pad=${join(dir, 'pad')}`, '--set-section-flags', '.dudkit_pad=contents,readonly', join(FIXTURES, 'ko', KERNELS[0]!, 'acmenet.ko'), ko]);
    await buildFor([KERNELS[1]!], join(dir, 'one'));
    await buildFor(KERNELS, join(dir, 'three'));
  });

  test('the kmod RPM for a kernel has a byte-identical payload built alone and among three; rpm -K accepts it', async () => {
    const alone = kernelRpm(join(dir, 'one'), KERNELS[1]!);
    const among = kernelRpm(join(dir, 'three'), KERNELS[1]!);
    expect((await payloadOf(among)).equals(await payloadOf(alone))).toBe(true);
    expect(execFileSync('rpm', ['-K', '--nosignature', among], { encoding: 'utf8' })).toMatch(/digests OK/);
  });
});
