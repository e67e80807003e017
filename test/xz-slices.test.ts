/**
 * xzSlices: the pieces an .xz stream is fed to liblzma in. Streams made by the real xz (zeros,
 * random bytes, BCJ and delta filters, several blocks, the checks, lzma_alone, concatenated
 * streams, a filter liblzma 5.2 does not know); each piece is fed alone to lzma-native and what it decompresses to is counted: at
 * most the limit, while whole reads pass in one piece where the limit allows.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import lzma from 'lzma-native';
import { describe, expect, it } from 'vitest';
import { decompress } from '../src/formats/compress/index.js';
import { xzSlices } from '../src/formats/xz/slices.js';

const LIMIT = 4 << 20;
const BLIND = 2048;
const xz = (args: string[], input: Uint8Array): Buffer => execFileSync('xz', ['-c', ...args], { input, maxBuffer: 1 << 28 });
const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}\n`).join(''));

function reads(buf: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  })();
}

/** Each piece fed to lzma-native on its own: what each decompressed to, and all of the output. */
async function feed(pieces: Uint8Array[]): Promise<{ perPiece: number[]; output: Buffer }> {
  const decoder = lzma.createStream('autoDecoder', { flags: lzma.CONCATENATED, synchronous: false });
  const out: Buffer[] = [];
  let produced = 0;
  decoder.on('data', (c: Buffer) => {
    out.push(c);
    produced += c.length;
  });
  const ended = new Promise((resolve, reject) => decoder.on('end', resolve).on('error', reject));
  const perPiece: number[] = [];
  for (const piece of pieces) {
    const before = produced;
    // the write's callback comes after the output of its piece has been pushed
    await new Promise<void>((resolve, reject) => decoder.write(piece, (err) => (err ? reject(err) : resolve())));
    perPiece.push(produced - before);
  }
  decoder.end();
  await ended;
  return { perPiece, output: Buffer.concat(out) };
}

async function slices(packed: Uint8Array, readSize: number): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  for await (const p of xzSlices(reads(packed, readSize), LIMIT, BLIND)) pieces.push(p);
  expect(Buffer.concat(pieces).equals(packed)).toBe(true);
  return pieces;
}

describe('xzSlices (pieces of what the real xz wrote, decoded one by one by liblzma)', { timeout: 120_000 }, () => {
  const walked: [string, () => Uint8Array, string[], number][] = [
    ['48 MiB of zeros, read whole (2 MiB LZMA2 chunks from a few bytes each)', () => Buffer.alloc(48 << 20), ['-1'], 1 << 30],
    ['random bytes (uncompressed LZMA2 chunks), 64 KiB reads', () => randomBytes(3 << 20), ['-6'], 64 << 10],
    ['text through the x86 BCJ filter, 1 MiB reads, SHA-256 check', () => text, ['--x86', '--lzma2=preset=6', '--check=sha256'], 1 << 20],
    ['text through the delta filter, no check, 3-byte reads', () => text.subarray(0, 200_000), ['--delta=dist=4', '--lzma2=preset=1', '--check=none'], 3],
    ['several blocks (xz -T2 --block-size=1MiB), CRC32 check', () => Buffer.concat([text, Buffer.alloc(8 << 20)]), ['-T2', '--block-size=1MiB', '--check=crc32'], 1 << 20],
  ];
  for (const [what, data, args, readSize] of walked) {
    it(`${what}: xz ${args.join(' ')}`, async () => {
      const plain = data();
      const packed = xz(args, plain);
      const pieces = await slices(packed, readSize);
      const { perPiece, output } = await feed(pieces);
      expect(output.equals(plain)).toBe(true);
      expect(Math.max(...perPiece)).toBeLessThanOrEqual(LIMIT);
      // whole reads, cut only where the limit needs it
      expect(pieces.length).toBeLessThanOrEqual(Math.ceil(packed.length / readSize) + Math.ceil(plain.length / (LIMIT / 2)));
      expect((await collect(decompress(reads(packed, readSize)))).equals(plain)).toBe(true);
    });
  }

  it('a filter the walk does not know (xz --arm64): blind slices from its block on', async () => {
    const pieces = await slices(xz(['--arm64', '--lzma2=preset=1'], text), 1 << 20);
    expect(pieces.slice(1).every((p) => p.length <= BLIND)).toBe(true);
    expect(pieces.length).toBeGreaterThan(10);
  });

  it('lzma_alone (xz --format=lzma): blind slices, decoded like xz -dc', async () => {
    const packed = xz(['--format=lzma', '-1'], Buffer.alloc(8 << 20));
    const pieces = await slices(packed, 1 << 20);
    expect(pieces.every((p) => p.length <= BLIND)).toBe(true);
    const { output } = await feed(pieces);
    expect(output.equals(execFileSync('xz', ['-dc'], { input: packed, maxBuffer: 1 << 28 }))).toBe(true);
  });

  it('concatenated streams with stream padding: each walked, all decoded like xz -dc', async () => {
    const packed = Buffer.concat([xz(['-1'], Buffer.alloc(16 << 20)), Buffer.alloc(8), xz(['-1'], text), xz(['-1'], Buffer.alloc(6 << 20))]);
    const pieces = await slices(packed, 1 << 20);
    const { perPiece, output } = await feed(pieces);
    expect(Math.max(...perPiece)).toBeLessThanOrEqual(LIMIT);
    expect(pieces.length).toBeLessThanOrEqual(Math.ceil(packed.length / (1 << 20)) + Math.ceil(output.length / (LIMIT / 2)));
    expect(output.equals(execFileSync('xz', ['-dc'], { input: packed, maxBuffer: 1 << 28 }))).toBe(true);
  });
});

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}
