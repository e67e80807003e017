/**
 * Whole-stream compressors recognised by magic bytes (never by file name): what kernel modules,
 * RPM payloads and initrd segments use. Everything streams; `decompressBuffer` is for small
 * inputs such as a single kernel module.
 */
import { PassThrough, Readable, type Transform } from 'node:stream';
import { createGunzip, createGzip, constants as zc } from 'node:zlib';
import { FormatError } from '../../errors.js';
import { peek } from '../../tree/peek.js';

export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

const MAGICS: [Compression, number[]][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** The compression of a stream from its first bytes (6 are enough); 'none' if no magic matches. */
export function detectCompression(head: Uint8Array): Compression {
  for (const [kind, magic] of MAGICS) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  }
  return 'none';
}

/** Decompress a stream; detect the kind from its first bytes unless given. */
export async function* decompress(input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, kind?: Compression): AsyncGenerator<Uint8Array> {
  const { head, stream } = await peek(input, kind === undefined ? 6 : 0);
  const detected = kind ?? detectCompression(head);
  if (detected === 'none') {
    yield* stream;
    return;
  }
  if (detected === 'zstd') {
    yield* zstdDecode(stream);
    return;
  }
  const transform = await decoderFor(detected);
  const source = Readable.from(stream, { objectMode: false });
  source.on('error', (e) => transform.destroy(e));
  source.pipe(transform);
  // old-style streams (unbzip2-stream) are not async-iterable: pipe them into a real one,
  // passing their errors on (Readable.wrap loses the end of small streams)
  let readable: Readable = transform;
  if (typeof (transform as Readable)[Symbol.asyncIterator] !== 'function') {
    const pass = new PassThrough();
    transform.on('error', (e) => pass.destroy(e));
    readable = transform.pipe(pass);
  }
  try {
    for await (const chunk of readable) yield chunk as Uint8Array;
  } catch (err) {
    throw err instanceof FormatError ? err : new FormatError(`corrupt ${detected} data: ${(err as Error).message}`);
  }
}

// Codecs other than gzip are loaded on first use: most runs need one of them, or none.
async function decoderFor(kind: 'gzip' | 'xz' | 'bzip2'): Promise<Transform> {
  switch (kind) {
    case 'gzip':
      return createGunzip();
    case 'xz': {
      const { default: lzma } = await import('lzma-native');
      // CONCATENATED: an xz file may hold several streams, like gzip members
      return lzma.createStream('autoDecoder', { flags: lzma.CONCATENATED });
    }
    case 'bzip2': {
      const { default: unbzip2 } = await import('unbzip2-stream');
      return unbzip2() as unknown as Transform;
    }
  }
}

async function* zstdDecode(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const { Decompress: ZstdDecompress } = await import('fzstd');
  const out: Uint8Array[] = [];
  const d = new ZstdDecompress((chunk) => out.push(chunk));
  try {
    for await (const chunk of input) {
      d.push(chunk);
      while (out.length) yield out.shift()!;
    }
    d.push(new Uint8Array(0), true);
  } catch (err) {
    throw new FormatError(`corrupt zstd data: ${(err as Error).message}`);
  }
  while (out.length) yield out.shift()!;
}

/** Decompress a small buffer whole (a kernel module), reporting what it was. */
export async function decompressBuffer(data: Uint8Array): Promise<{ data: Uint8Array; compression: Compression }> {
  const compression = detectCompression(data);
  if (compression === 'none') return { data, compression };
  const parts: Uint8Array[] = [];
  for await (const c of decompress([data], compression)) parts.push(c);
  return { data: Buffer.concat(parts), compression };
}

export interface CompressOptions {
  /** 1–9 */
  level?: number;
  /** xz integrity check; the kernel build uses crc32 for modules, rpm uses sha256 for payloads */
  check?: 'crc32' | 'crc64' | 'sha256';
}

/** Compress a stream with gzip (deterministic: no name, no mtime) or xz. */
export async function* compress(input: AsyncIterable<Uint8Array>, kind: 'gzip' | 'xz', opts: CompressOptions = {}): AsyncGenerator<Uint8Array> {
  const level = opts.level ?? (kind === 'gzip' ? 9 : 6);
  const lzma = kind === 'xz' ? (await import('lzma-native')).default : undefined;
  const transform: Transform =
    !lzma
      ? createGzip({ level, strategy: zc.Z_DEFAULT_STRATEGY })
      : lzma.createStream('easyEncoder', {
          preset: level,
          check: { crc32: lzma.CHECK_CRC32, crc64: lzma.CHECK_CRC64, sha256: lzma.CHECK_SHA256 }[opts.check ?? 'crc64'],
          threads: 1,
        });
  const source = Readable.from(input, { objectMode: false });
  source.on('error', (e) => transform.destroy(e));
  source.pipe(transform);
  for await (const chunk of transform) yield chunk as Uint8Array;
}
