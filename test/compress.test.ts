import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decompress, decompressBuffer, xzEncoder, type CompressOptions } from '../src/formats/compress/index.js';
import { detectCompression } from '../src/formats/compress/magic.js';
import { ReadBudget } from '../src/tree/bounded.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const plain = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}\n`).join(''));
writeFileSync(join(dir, 'data'), plain);

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

function chunked(buf: Buffer, size = 4096): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  })();
}

describe('decompress', () => {
  const cases: [string, string[]][] = [
    ['gzip', ['gzip', '-n', '-c']],
    ['xz', ['xz', '-c', '--check=sha256']], // rpm payloads carry SHA-256 checks
    ['xz', ['xz', '-c', '--check=crc32', '--lzma2=dict=1MiB']], // kernel module style
    ['zstd', ['zstd', '-q', '-c']],
    ['bzip2', ['bzip2', '-c']],
  ];
  for (const [kind, cmd] of cases) {
    it(`reads what ${cmd.join(' ')} wrote, detected by magic`, async () => {
      const packed = execFileSync(cmd[0]!, [...cmd.slice(1), join(dir, 'data')], { maxBuffer: 1 << 28 });
      expect(detectCompression(packed)).toBe(kind);
      expect((await collect(decompress(chunked(packed, 3)))).equals(plain)).toBe(true);
    });
  }

  it('reads a small bzip2 file whole (what bzip2 -c wrote)', async () => {
    const small = Buffer.from('a small module\n');
    writeFileSync(join(dir, 'small'), small);
    const packed = execFileSync('bzip2', ['-c', join(dir, 'small')]);
    expect((await decompressBuffer(packed, new ReadBudget())).data.equals(small)).toBe(true);
  });

  it('reads concatenated xz streams like xz -d does', async () => {
    const a = execFileSync('xz', ['-c', join(dir, 'data')]);
    expect((await collect(decompress([a, a]))).equals(Buffer.concat([plain, plain]))).toBe(true);
  });

  it('skips xz block checks only when asked (ignoreCheck: xz -c --check=sha256, a byte of the check flipped), and stops early without hanging', async () => {
    const packed = execFileSync('xz', ['-c', '--check=sha256', join(dir, 'data')]);
    // the last block's SHA-256 lies just before the index, whose size the footer gives
    const indexStart = packed.length - 12 - (packed.readUInt32LE(packed.length - 8) + 1) * 4;
    packed[indexStart - 1]! ^= 0xff;
    await expect(collect(decompress([packed]))).rejects.toThrow(/corrupt xz data/);
    expect((await collect(decompress([packed], 'xz', { ignoreCheck: true }))).equals(plain)).toBe(true);
    for await (const chunk of decompress(chunked(packed), 'xz', { ignoreCheck: true })) {
      expect(plain.subarray(0, chunk.length).equals(chunk)).toBe(true);
      break;
    }
  });

  it('passes uncompressed data through and reports corrupt data as a FormatError', async () => {
    expect((await decompressBuffer(plain, new ReadBudget())).compression).toBe('none');
    const bad = execFileSync('xz', ['-c', join(dir, 'data')]);
    bad[bad.length >> 1] ^= 0xff;
    await expect(collect(decompress([bad]))).rejects.toThrow(/corrupt xz data/);
    const badGz = execFileSync('gzip', ['-c', join(dir, 'data')]).subarray(0, 1000);
    await expect(collect(decompress([badGz]))).rejects.toThrow(/corrupt gzip data/);
  });
});

/** What `xzEncoder` writes for `input`, fed in chunks. */
async function xzOf(input: AsyncIterable<Uint8Array>, opts: CompressOptions): Promise<Buffer> {
  const encoder = await xzEncoder(opts);
  const source = Readable.from(input, { objectMode: false });
  source.pipe(encoder);
  return collect(encoder);
}

describe('xzEncoder', () => {
  it('its output is read back by xz -t and -d, and is deterministic', async () => {
    const out = await xzOf(chunked(plain), { check: 'crc32' });
    const f = join(dir, 'out.xz');
    writeFileSync(f, out);
    execFileSync('xz', ['-t', f]);
    expect(execFileSync('xz', ['-dc', f], { maxBuffer: 1 << 28 }).equals(plain)).toBe(true);
    expect((await xzOf(chunked(plain), { check: 'crc32' })).equals(out)).toBe(true);
  });
  it('xz check type is what was asked (xz -lvv)', async () => {
    const f = join(dir, 'sha.xz');
    writeFileSync(f, await xzOf(chunked(plain), { check: 'sha256' }));
    expect(execFileSync('xz', ['-lvv', f], { encoding: 'utf8' })).toMatch(/Check:\s+SHA-256/);
  });
});
