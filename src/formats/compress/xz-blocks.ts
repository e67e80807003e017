/**
 * An xz encoder that cuts its input into blocks where the caller says, encodes each block on its
 * own (raw LZMA2 from liblzma, framed by `formats/xz`), several at once, and joins them into one
 * stream. A block's bytes depend only on its uncompressed bytes, the level and the check, so
 * the output is the same for any number of threads, and a block seen before (the same kernel
 * module packaged for many kernels) can be taken from a memo on disk instead of compressed again.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { blockCheck, frameBlock, streamFooter, streamHeader, streamIndex, type IndexRecord, type XzBlock, type XzCheck } from '../xz/container.js';
import { xzBlockSize, xzDictSize, xzThreadsFor } from './index.js';

/** One block of the input: its size, and whether its bytes are likely to recur (a large file's data). */
export interface BlockCut {
  size: number;
  reusable: boolean;
}

export interface XzBlocksOptions {
  /** 1–9 */
  level: number;
  check: XzCheck;
  /** Blocks encoded at once (default: `xzThreadsFor(level)`, at most 3); the bytes do not depend on it. */
  threads?: number;
  /** Where reusable blocks are looked up and kept; without one every block is encoded. */
  memo?: XzBlockMemo;
}

/**
 * Compressed blocks of one build, kept in files of its scratch folder (not in memory: a build
 * may package hundreds of MiB of modules), keyed by the SHA-256 of the uncompressed bytes, the
 * level and the check. Concurrent requests for one key share the one encoding.
 */
export class XzBlockMemo {
  private readonly entries = new Map<string, Promise<IndexRecord & { path: string }>>();
  /** `newPath` gives a fresh file path in the build's scratch folder. */
  constructor(private readonly newPath: () => string) {}

  async block(key: string, make: () => Promise<XzBlock>): Promise<XzBlock> {
    const known = this.entries.get(key);
    if (known) {
      const { path, ...sizes } = await known;
      return { bytes: await readFile(path), ...sizes };
    }
    const made = make();
    const stored = made.then(async (b) => {
      const path = this.newPath();
      await writeFile(path, b.bytes);
      return { path, unpaddedSize: b.unpaddedSize, uncompressedSize: b.uncompressedSize };
    });
    this.entries.set(key, stored);
    // a failed encoding is not remembered: the next request tries again
    stored.catch(() => this.entries.delete(key));
    await stored;
    return made;
  }
}

/**
 * The encodings run on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise),
 * which also serves file reads and writes: one thread is left to them, or reading the next
 * block's input and writing the spool would wait behind the encoders.
 */
const MAX_POOL_ENCODERS = 3;

/** Raw LZMA2 (dictionary reset at the start, end marker at the end) of `data` at a preset level. */
async function rawLzma2(data: Uint8Array, level: number): Promise<Uint8Array> {
  const { default: lzma } = await import('lzma-native');
  // asynchronous: liblzma runs on libuv's thread pool, so several blocks are encoded at once
  const encoder = lzma.createStream('rawEncoder', { filters: [{ id: lzma.FILTER_LZMA2, options: { preset: level } }], synchronous: false });
  const out: Uint8Array[] = [];
  encoder.on('data', (chunk: Uint8Array) => out.push(chunk));
  await new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve);
    encoder.on('error', reject);
    encoder.end(data);
  });
  return Buffer.concat(out);
}

async function encodeBlock(data: Uint8Array, level: number, check: XzCheck, checkBytes?: Uint8Array): Promise<XzBlock> {
  return frameBlock(await rawLzma2(data, level), data.length, checkBytes ?? blockCheck(check, data), xzDictSize(level));
}

function encodeCut(data: Uint8Array, reusable: boolean, opts: XzBlocksOptions): Promise<XzBlock> {
  const { level, check, memo } = opts;
  if (!reusable || !memo) return encodeBlock(data, level, check);
  const digest = createHash('sha256').update(data).digest();
  // with a SHA-256 check the memo's key is the check itself: hashed once
  return memo.block(`${level}:${check}:${digest.toString('hex')}`, () => encodeBlock(data, level, check, check === 'sha256' ? digest : undefined));
}

/** The input regrouped into one buffer per cut. */
async function* cutInto(input: AsyncIterable<Uint8Array>, cuts: Iterable<BlockCut>): AsyncGenerator<{ data: Uint8Array; reusable: boolean }> {
  const plan = cuts[Symbol.iterator]();
  let cut = plan.next();
  let buf = cut.done ? undefined : Buffer.allocUnsafe(cut.value.size);
  let filled = 0;
  for await (let chunk of input) {
    while (chunk.length > 0) {
      if (cut.done || !buf) throw new Error('internal: xz input is longer than its planned blocks');
      const take = Math.min(chunk.length, buf.length - filled);
      buf.set(chunk.subarray(0, take), filled);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === buf.length) {
        yield { data: buf, reusable: cut.value.reusable };
        cut = plan.next();
        buf = cut.done ? undefined : Buffer.allocUnsafe(cut.value.size);
        filled = 0;
      }
    }
  }
  if (!cut.done) throw new Error('internal: xz input is shorter than its planned blocks');
}

/** A block being encoded or waiting its turn to be written. */
interface Pending {
  readonly block: Promise<XzBlock>;
  /** Settles (never rejects) when the encoding has ended. */
  readonly ended: Promise<void>;
  readonly size: number;
  done: boolean;
}

/**
 * Compress `input` into one xz stream with a block per cut (the cuts' sizes must add up to the
 * input's); blocks are written in order. At most `threads` encodings run at once, counted as
 * encodings, not as blocks waiting: a small glue block finished behind a large module's block
 * must not hold the next module back (a package alternates the two). Blocks held, running or
 * done but not yet written, stay within `threads` × the level's block size of input.
 */
export async function* xzBlocks(input: AsyncIterable<Uint8Array>, cuts: Iterable<BlockCut>, opts: XzBlocksOptions): AsyncGenerator<Uint8Array> {
  const threads = Math.max(1, opts.threads ?? Math.min(await xzThreadsFor(opts.level), MAX_POOL_ENCODERS));
  const heldLimit = threads * xzBlockSize(opts.level);
  yield streamHeader(opts.check);
  const records: IndexRecord[] = [];
  const pending: Pending[] = [];
  let running = 0;
  let held = 0;
  const oldest = async (): Promise<Uint8Array> => {
    const p = pending.shift()!;
    held -= p.size;
    const block = await p.block;
    records.push({ unpaddedSize: block.unpaddedSize, uncompressedSize: block.uncompressedSize });
    return block.bytes;
  };
  for await (const { data, reusable } of cutInto(input, cuts)) {
    // room for this block: an encoder free, and the held input within bounds
    while (running >= threads || (pending.length > 0 && held + data.length > heldLimit)) {
      if (running >= threads) await Promise.race(pending.filter((p) => !p.done).map((p) => p.ended));
      else await pending[0]!.ended;
      while (pending[0]?.done) yield await oldest();
    }
    const block = encodeCut(data, reusable, opts);
    const p: Pending = { block, size: data.length, done: false, ended: block.then(() => undefined, () => undefined) };
    void p.ended.then(() => {
      p.done = true;
      running--;
    });
    running++;
    held += data.length;
    pending.push(p);
    while (pending[0]?.done) yield await oldest();
  }
  while (pending.length > 0) yield await oldest();
  const index = streamIndex(records);
  yield index;
  yield streamFooter(opts.check, index.length);
}
