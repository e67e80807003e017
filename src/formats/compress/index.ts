/**
 * Whole-stream compressors recognised by magic bytes (never by file name): what kernel modules,
 * RPM payloads and initrd segments use. Everything streams; `decompressWhole` is for small
 * inputs such as a single kernel module, within a `ReadBudget`. RPM payloads are compressed in
 * blocks or pieces cut at their files (`xz-blocks`, `gzip-pieces`).
 */
import { availableParallelism } from 'node:os';
import { PassThrough, Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FormatError } from '../../errors.js';
import { readWhole, type ReadBudget } from '../../tree/bounded.js';
import { peek } from '../../tree/peek.js';
import { xzSlices } from '../xz/slices.js';
import { detectCompression, type Compression } from './magic.js';
import { xzDecode, type XzDecodeOptions } from './xz-decode.js';

/**
 * Decompress a stream; detect the kind from its first bytes unless given. xz is decoded on
 * libuv's thread pool (several payloads at once, the main thread free), its concatenated
 * streams read like gzip members.
 */
export async function* decompress(input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, kind?: Compression, opts: XzDecodeOptions = {}): AsyncGenerator<Uint8Array> {
  const { head, stream } = await peek(input, kind === undefined ? 6 : 0);
  const detected = kind ?? detectCompression(head);
  if (detected === 'none') {
    yield* stream;
    return;
  }
  if (detected === 'zstd') {
    yield* zstdDecode(sliced(stream, SLICE.zstd));
    return;
  }
  const decoded = detected === 'xz' ? xzDecode(xzSlices(stream, XZ_PIECE_OUTPUT, SLICE.xz), opts) : await transformed(sliced(stream, SLICE[detected]), detected);
  try {
    for await (const chunk of decoded) yield chunk;
  } catch (err) {
    throw err instanceof FormatError ? err : new FormatError(`corrupt ${detected} data: ${(err as Error).message}`);
  }
}

/** The output of a Node stream decoder fed `pieces`. */
async function transformed(pieces: AsyncIterable<Uint8Array>, kind: 'gzip' | 'bzip2'): Promise<AsyncIterable<Uint8Array>> {
  const transform = await decoderFor(kind);
  const source = Readable.from(pieces, { objectMode: false });
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
  return readable;
}

/**
 * Decoders turn each input chunk they are given into all of its output at once, and a few bytes
 * of a bomb are megabytes of output. Feeding them slices no larger than 16 MiB divided by the
 * format's highest expansion ratio bounds what one call can produce (deflate 1032:1; xz's
 * LZMA2 about 7000:1; a zstd RLE block turns 4 bytes into 128 KiB), and the stream's backpressure
 * then stops the decoder until its output is consumed. xz input is cut by its LZMA2 chunks
 * instead (`xzSlices`: whole reads, each decompressing to at most 4 MiB; blind slices only where
 * the container is not followed), since every liblzma call is a hop to the thread pool.
 */
const SLICE: Record<Exclude<Compression, 'none'>, number> = { gzip: 16 << 10, xz: 2 << 10, zstd: 512, bzip2: 16 << 10 };

const XZ_PIECE_OUTPUT = 4 << 20;

async function* sliced(input: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    for (let at = 0; at < chunk.length; at += size) yield chunk.subarray(at, at + size);
  }
}

// Codecs other than gzip are loaded on first use: most runs need one of them, or none.
async function decoderFor(kind: 'gzip' | 'bzip2'): Promise<Transform> {
  switch (kind) {
    case 'gzip':
      return createGunzip();
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

/**
 * Decompress a stream that can be opened again into one buffer, within the budget (a kernel
 * module: parsed whole, so a bomb must be refused before it is held).
 */
export async function decompressWhole(open: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>, kind: Compression, budget: ReadBudget, what = ''): Promise<Uint8Array> {
  return readWhole(() => decompress(open(), kind), budget, `${what ? `${what} ` : ''}decompresses to`);
}

/** Decompress a buffer held in memory (a module from an archive), reporting what it was. */
export async function decompressBuffer(data: Uint8Array, budget: ReadBudget, what = ''): Promise<{ data: Uint8Array; compression: Compression }> {
  const compression = detectCompression(data);
  if (compression === 'none') return { data, compression };
  return { data: await decompressWhole(() => [data], compression, budget, what), compression };
}

export interface CompressOptions {
  /** 1–9 */
  level?: number;
  /** xz integrity check; the kernel build uses crc32 for modules, rpm uses sha256 for payloads */
  check?: 'crc32' | 'crc64' | 'sha256';
  /** xz encoder threads (default: the cores, at most 4, within 128 MiB); the bytes do not depend on it */
  threads?: number;
}

/** The LZMA2 dictionary of each xz preset (liblzma's lzma_lzma_preset). */
const XZ_DICT_MIB = [0.25, 1, 2, 4, 4, 8, 8, 16, 32, 64];

/** The LZMA2 dictionary size of preset `level`, in bytes. */
export function xzDictSize(level: number): number {
  return XZ_DICT_MIB[level]! * 2 ** 20;
}

/**
 * The uncompressed size of each xz block: what liblzma's threaded encoder picks by default
 * (3 × the dictionary, at least 1 MiB) and so what `rpmbuild` writes with `w2T.xzdio`, but
 * fixed here: blocks are cut at these offsets whatever the thread count, so every count writes
 * the same bytes.
 */
export function xzBlockSize(level: number): number {
  return Math.max(3 * xzDictSize(level), 2 ** 20);
}

/** More threads than this buy little for payload-sized inputs. */
const MAX_XZ_THREADS = 4;
/**
 * What the encoder threads may hold together: each holds its LZMA2 encoder, one block in and
 * one out, so level 2 (28 MiB a thread) gets 4 threads and level 6 and above (141 MiB) one.
 */
const XZ_THREADS_MEMORY = 128 * 2 ** 20;

/** How many xz blocks to encode at once by default: the cores, at most 4, within 128 MiB. */
export async function xzThreadsFor(level: number): Promise<number> {
  const { default: lzma } = await import('lzma-native');
  const perThread = lzma.easyEncoderMemusage(level) + 2 * xzBlockSize(level);
  return Math.max(1, Math.min(availableParallelism(), MAX_XZ_THREADS, Math.floor(XZ_THREADS_MEMORY / perThread)));
}

/**
 * An xz encoder: liblzma's threaded encoder with a fixed block size, so one stream of
 * independent blocks with their sizes in each block header, as `xz -T2` writes (XZ Utils
 * 4.999.9beta, RHEL 6's xz-libs, decodes it).
 */
export async function xzEncoder(opts: CompressOptions = {}): Promise<Transform> {
  const { default: lzma } = await import('lzma-native');
  const level = opts.level ?? 6;
  return lzma.createStream('easyEncoder', {
    preset: level,
    check: { crc32: lzma.CHECK_CRC32, crc64: lzma.CHECK_CRC64, sha256: lzma.CHECK_SHA256 }[opts.check ?? 'crc64'],
    threads: opts.threads ?? (await xzThreadsFor(level)),
    blockSize: xzBlockSize(level),
  });
}
