/**
 * A gzip encoder that cuts its input into pieces where the caller says and deflates each on its
 * own, several at once on libuv's thread pool (pigz's way): one gzip member whose deflate stream
 * is the pieces in order, each ended by a sync flush on a byte boundary, then an empty final
 * block. Each piece gets the 32 KiB of input before it as its dictionary (within 0.03% of one
 * stream's size at 1 MiB pieces; without it 1–2%, 10% on some module-like bytes), except the
 * first piece of a large file, so a file's pieces depend only on its own bytes and the level:
 * the output is the same for any number of threads, and a piece seen before (the same module
 * packaged for many kernels) can be taken from a memo on disk instead of deflated again.
 */
import { createHash } from 'node:crypto';
import { crc32, deflateRaw, constants as zc } from 'node:zlib';
import { BlockMemo, cutInto, fixedPieces, inOrder, poolEncoders, type BlockCut, type Job } from './pieces.js';

/**
 * A piece's uncompressed size at most: pigz's 128 KiB costs 0.2% against one stream, this about
 * 0.02%. Each piece costs the main thread a zlib stream's set-up and callbacks (about 1 ms on two
 * busy cores): against 512 KiB pieces, 1 MiB took 5% less CPU for the 32 MiB bench payload.
 */
export const GZIP_PIECE_SIZE = 1 << 20;
/** deflate's window: what a piece can refer back to. */
const WINDOW = 32 << 10;
/** Output chunks of the piece's deflate: one call on the thread pool holds a whole piece's output. */
const CHUNK = 256 << 10;
/** Closes the deflate stream after the last piece's sync flush: an empty final fixed-Huffman block. */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);
const NO_DICTIONARY = Buffer.alloc(0);

export interface GzipPiece {
  bytes: Uint8Array;
}

/** Deflated pieces of one build, keyed by the SHA-256 of the dictionary and the piece, and the level. */
export type GzipPieceMemo = BlockMemo<GzipPiece>;

export interface GzipPiecesOptions {
  /** 1–9 */
  level: number;
  /** Pieces deflated at once (default: the cores, at most 3); the bytes do not depend on it. */
  threads?: number;
  /** Where reusable pieces are looked up and kept; without one every piece is deflated. */
  memo?: GzipPieceMemo;
}

/** The member header as zlib writes it: no name, no mtime; XFL says best (9) or fastest (1); OS Unix. */
function header(level: number): Uint8Array {
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 3);
}

/** CRC-32 and ISIZE (the size modulo 2^32), little-endian. */
function trailer(crc: number, size: number): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(crc >>> 0, 0);
  out.writeUInt32LE(size % 2 ** 32, 4);
  return out;
}

function deflatePiece(data: Uint8Array, dictionary: Buffer, level: number): Promise<GzipPiece> {
  return new Promise((resolve, reject) => {
    deflateRaw(data, { level, finishFlush: zc.Z_SYNC_FLUSH, chunkSize: CHUNK, ...(dictionary.length > 0 ? { dictionary } : {}) }, (err, bytes) => (err ? reject(err) : resolve({ bytes })));
  });
}

function encodePiece(data: Uint8Array, dictionary: Buffer, reusable: boolean, opts: GzipPiecesOptions): Promise<GzipPiece> {
  const { level, memo } = opts;
  if (!reusable || !memo) return deflatePiece(data, dictionary, level);
  const digest = createHash('sha256').update(dictionary).update(data).digest('hex');
  return memo.block(`gzip:${level}:${dictionary.length}:${digest}`, () => deflatePiece(data, dictionary, level));
}

/** One gzip member of the pieces in order, at most `threads` deflated at once, the pieces held within `threads` × `GZIP_PIECE_SIZE` of input. */
async function* member(pieces: AsyncIterable<{ data: Buffer; cut: BlockCut }>, opts: GzipPiecesOptions): AsyncGenerator<Uint8Array> {
  const threads = Math.max(1, opts.threads ?? poolEncoders());
  let crc = 0;
  let size = 0;
  async function* jobs(): AsyncGenerator<Job<GzipPiece>> {
    let tail = NO_DICTIONARY;
    for await (const { data, cut } of pieces) {
      const dictionary = cut.fileStart ? NO_DICTIONARY : tail;
      crc = crc32(data, crc);
      size += data.length;
      // a copy: the dictionary must not keep the whole previous piece alive
      tail = Buffer.from(data.length >= WINDOW ? data.subarray(data.length - WINDOW) : Buffer.concat([tail, data]).subarray(-WINDOW));
      yield { size: data.length, start: () => encodePiece(data, dictionary, cut.reusable, opts) };
    }
  }
  yield header(opts.level);
  for await (const piece of inOrder(jobs(), threads, threads * GZIP_PIECE_SIZE)) yield piece.bytes;
  yield FINAL_BLOCK;
  yield trailer(crc, size);
}

/**
 * Compress `input` into one gzip member with a piece per cut (the cuts' sizes must add up to the
 * input's, each at most `GZIP_PIECE_SIZE` to keep the bound); pieces are written in order.
 */
export function gzipPieces(input: AsyncIterable<Uint8Array>, cuts: Iterable<BlockCut>, opts: GzipPiecesOptions): AsyncGenerator<Uint8Array> {
  return member(cutInto(input, cuts), opts);
}

/** Compress a stream of unknown length into one gzip member, in pieces of `GZIP_PIECE_SIZE` from its start. */
export function gzipStream(input: AsyncIterable<Uint8Array>, opts: Omit<GzipPiecesOptions, 'memo'>): AsyncGenerator<Uint8Array> {
  return member(fixedPieces(input, GZIP_PIECE_SIZE), opts);
}
