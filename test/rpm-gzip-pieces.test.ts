/**
 * gzip payloads are one member whose deflate stream is made of pieces cut at each large file's
 * data (pigz's way), deflated on several threads and, within one build, once per distinct module:
 * the package bytes must not depend on the thread count nor on what else the build packaged.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { GZIP_PIECE_SIZE, gzipPieces, gzipStream } from '../src/formats/compress/gzip-pieces.js';
import type { BlockCut } from '../src/formats/compress/pieces.js';
import { openRpm, verifyDigests } from '../src/formats/rpm/index.js';
import { writeRpm, type RpmPackage } from '../src/formats/rpm/write.js';
import { Scratch } from '../src/tree/scratch.js';
import { readSource } from '../src/tree/source.js';
import { buildAloneAndAmongThree, expectUnpacked, KERNELS, modulePackage, payloadOf, scratchTracker } from './helpers/per-file-payload.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-rpm-gzip-pieces-');
const freshScratch = scratchTracker();

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

const files = { big, edge, small };
const pkgFor = (kernel: string): RpmPackage => modulePackage(kernel, files, 'Spans several gzip pieces.');

async function writeTo(pkg: RpmPackage, scratch: Scratch, threads: number, name: string): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, await readSource(await writeRpm(pkg, scratch, { compressor: 'gzip', threads })));
  return file;
}

const pieceFiles = (s: Scratch): string[] => readdirSync(s.dir).filter((f) => f.endsWith('-gzip-piece'));

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
    expectUnpacked(inBuild, dir, KERNELS[1]!, files);
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
  let alone: string;
  let among: string;
  beforeAll(async () => {
    ({ alone, among } = await buildAloneAndAmongThree(dir, big.subarray(0, 300_000), ', payload: gzip'));
  });

  test('the kmod RPM for a kernel has a byte-identical payload built alone and among three; rpm -K accepts it', async () => {
    expect((await payloadOf(among)).equals(await payloadOf(alone))).toBe(true);
    expect(execFileSync('rpm', ['-K', '--nosignature', among], { encoding: 'utf8' })).toMatch(/digests OK/);
  });
});
