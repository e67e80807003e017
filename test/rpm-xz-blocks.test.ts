/**
 * xz payloads are one stream whose blocks start and end at each large file's data, encoded on
 * several threads and, within one build, once per distinct module: the package bytes must not
 * depend on the thread count nor on what else the build packaged, so a build is the same on any
 * machine and a kernel's package is the same alone or among fifty.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { xzBlockSize } from '../src/formats/compress/index.js';
import { xzBlocks, type BlockCut } from '../src/formats/compress/xz-blocks.js';
import { openRpm, verifyDigests } from '../src/formats/rpm/index.js';
import { writeRpm, type RpmPackage } from '../src/formats/rpm/write.js';
import type { XzCheck } from '../src/formats/xz/container.js';
import { Scratch } from '../src/tree/scratch.js';
import { readSource } from '../src/tree/source.js';
import { buildAloneAndAmongThree, expectUnpacked, KERNELS, modulePackage, payloadOf, scratchTracker } from './helpers/per-file-payload.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-rpm-xz-blocks-');
const freshScratch = scratchTracker();

/**
 * A module-sized file spanning three xz blocks at level 2: one 64 KiB piece of varied bytes
 * repeated with its index stamped in, so it is quick to compress yet no two blocks are alike.
 */
function bigModule(): Buffer {
  let x = 7;
  const piece = Buffer.alloc(64 << 10);
  for (let i = 0; i < piece.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    piece[i] = 0x61 + ((x >>> 0) % 16);
  }
  const count = Math.ceil((2 * xzBlockSize(2) + (1 << 20)) / piece.length);
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => {
      piece.writeUInt32LE(i, (i * 97) % (piece.length - 4));
      return Buffer.from(piece);
    }),
  );
}

const big = bigModule();
/** Exactly the size from which a file gets a block of its own (64 KiB), and a small one that is glue. */
const edge = big.subarray(12345, 12345 + (64 << 10));
const small = Buffer.from('options acme debug=0\n');

const files = { big, edge, small };
const pkgFor = (kernel: string): RpmPackage => modulePackage(kernel, files, 'Spans several xz blocks.');

async function writeTo(pkg: RpmPackage, scratch: Scratch, threads: number | undefined, name: string): Promise<string> {
  const file = join(dir, name);
  writeFileSync(file, await readSource(await writeRpm(pkg, scratch, threads ? { threads } : {})));
  return file;
}

const blockFiles = (s: Scratch): string[] => readdirSync(s.dir).filter((f) => f.endsWith('-xz-block'));

describe('xz payload in per-file blocks', () => {
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

  test('a three-kernel build compresses the shared modules once: one memo block per distinct large-file block', () => {
    // big.ko is 3 blocks, edge.ko 1; the glue (paths differ per kernel) is never kept
    expect(blockFiles(buildScratch)).toHaveLength(4);
  });

  test('xz -t accepts the payload; xz -lvv shows one stream, blocks at the large files, SHA-256 check, sizes in headers', async () => {
    const rpm = await openRpm(inBuild);
    const payload = join(dir, 'payload.xz');
    writeFileSync(payload, readFileSync(inBuild).subarray(rpm.payloadOffset));
    execFileSync('xz', ['-t', payload]);
    const list = execFileSync('xz', ['-lvv', payload], { encoding: 'utf8' });
    expect(list).toMatch(/Streams:\s+1\n/);
    expect(list).toMatch(/Check:\s+SHA-256/);
    expect(list).toMatch(/Sizes in headers:\s+Yes/);
    // file order is path order: glue (the .conf, the folder, the symlink, big.ko's header), big.ko's
    // data in pieces of the fixed block size, glue (edge.ko's header), edge.ko's data, glue (the trailer)
    const sizes = [...list.slice(list.indexOf('  Blocks:\n')).matchAll(/^\s+1\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s/gm)].map((m) => Number(m[1]));
    const block = xzBlockSize(2);
    expect(sizes).toHaveLength(7);
    expect([sizes[1], sizes[2], sizes[3], sizes[5]]).toEqual([block, block, big.length - 2 * block, 64 << 10]);
  });

  test('rpm -K finds every digest OK; rpm -qp lists the files; rpm2cpio | cpio -idm and rpm -i --root write every file byte for byte', () => {
    expect(execFileSync('rpm', ['-K', '--nosignature', inBuild], { encoding: 'utf8' })).toMatch(/digests OK/);
    const extra = `lib/modules/${KERNELS[1]}/extra/big`;
    expect(execFileSync('rpm', ['-qpl', inBuild], { encoding: 'utf8' }).trim().split('\n').sort()).toEqual(
      [`/etc/modprobe.d/acme-${KERNELS[1]}.conf`, `/${extra}`, `/${extra}/alias.ko`, `/${extra}/big.ko`, `/${extra}/edge.ko`].sort(),
    );
    expectUnpacked(inBuild, dir, KERNELS[1]!, files);
  });

  test("dudkit's own streaming reader decodes the multi-block payload and finds every digest OK", async () => {
    const checks = await verifyDigests(await openRpm(inBuild), { payload: true });
    expect(checks.map((c) => c.name)).toContain('Payload SHA256 ALT digest');
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });
});

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

describe('xz container checks', () => {
  const data = Buffer.concat([big.subarray(0, 300_000), Buffer.alloc(5000, 7)]);
  const cuts: BlockCut[] = [
    { size: 1, reusable: false },
    { size: 200_000, reusable: false },
    { size: data.length - 200_001, reusable: false },
  ];
  test.each<[XzCheck, string]>([
    ['crc32', 'CRC32'],
    ['crc64', 'CRC64'],
    ['sha256', 'SHA-256'],
  ])('xz -t, xz -lvv and xz -dc accept a three-block stream with a %s check', async (check, shown) => {
    const chunks: Uint8Array[] = [];
    for await (const c of xzBlocks(once(data), cuts, { level: 1, check, threads: 2 })) chunks.push(c);
    const file = join(dir, `check-${check}.xz`);
    writeFileSync(file, Buffer.concat(chunks));
    execFileSync('xz', ['-t', file]);
    const list = execFileSync('xz', ['-lvv', file], { encoding: 'utf8' });
    expect(list).toMatch(/Blocks:\s+3\n/);
    expect(list).toMatch(new RegExp(`Check:\\s+${shown}`));
    expect(list).toMatch(/--lzma2=dict=1MiB/);
    expect(execFileSync('xz', ['-dc', file], { maxBuffer: 1 << 24 }).equals(data)).toBe(true);
  });
});

describe('dudkit build: a module for three kernels', () => {
  let alone: string;
  let among: string;
  beforeAll(async () => {
    ({ alone, among } = await buildAloneAndAmongThree(dir, big.subarray(0, 300_000), ''));
  });

  test('the kmod RPM for a kernel has a byte-identical payload built alone and among three (its dependencies differ: a multi-kernel build bounds the kernel); rpm -K accepts it', async () => {
    expect((await payloadOf(among)).equals(await payloadOf(alone))).toBe(true);
    expect(execFileSync('rpm', ['-K', '--nosignature', among], { encoding: 'utf8' })).toMatch(/digests OK/);
  });
});
