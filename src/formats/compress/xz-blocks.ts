/**
 * An xz encoder that cuts its input into blocks where the caller says, encodes each block on its
 * own (raw LZMA2 from liblzma, framed by `formats/xz`), several at once, and joins them into one
 * stream. A block's bytes depend only on its uncompressed bytes, the level and the check, so
 * the output is the same for any number of threads, and a block seen before (the same kernel
 * module packaged for many kernels) can be taken from a memo on disk instead of compressed again.
 */
import { createHash } from 'node:crypto';
import { blockCheck, frameBlock, streamFooter, streamHeader, streamIndex, type IndexRecord, type XzBlock, type XzCheck } from '../xz/container.js';
import { xzBlockSize, xzDictSize, xzThreadsFor } from './index.js';
import { BlockMemo, cutInto, inOrder, MAX_POOL_ENCODERS, type BlockCut, type Job } from './pieces.js';

export type { BlockCut } from './pieces.js';

/**
 * Compressed blocks of one build, keyed by the SHA-256 of the uncompressed bytes, the level and
 * the check.
 */
export type XzBlockMemo = BlockMemo<XzBlock>;

export interface XzBlocksOptions {
  /** 1–9 */
  level: number;
  check: XzCheck;
  /** Blocks encoded at once (default: `xzThreadsFor(level)`, at most 3); the bytes do not depend on it. */
  threads?: number;
  /** Where reusable blocks are looked up and kept; without one every block is encoded. */
  memo?: XzBlockMemo;
}

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

async function* jobs(input: AsyncIterable<Uint8Array>, cuts: Iterable<BlockCut>, opts: XzBlocksOptions): AsyncGenerator<Job<XzBlock>> {
  for await (const { data, cut } of cutInto(input, cuts)) yield { size: data.length, start: () => encodeCut(data, cut.reusable, opts) };
}

/**
 * Compress `input` into one xz stream with a block per cut (the cuts' sizes must add up to the
 * input's); blocks are written in order, at most `threads` encoded at once, the blocks held
 * within `threads` × the level's block size of input.
 */
export async function* xzBlocks(input: AsyncIterable<Uint8Array>, cuts: Iterable<BlockCut>, opts: XzBlocksOptions): AsyncGenerator<Uint8Array> {
  const threads = Math.max(1, opts.threads ?? Math.min(await xzThreadsFor(opts.level), MAX_POOL_ENCODERS));
  yield streamHeader(opts.check);
  const records: IndexRecord[] = [];
  for await (const block of inOrder(jobs(input, cuts, opts), threads, threads * xzBlockSize(opts.level))) {
    records.push({ unpaddedSize: block.unpaddedSize, uncompressedSize: block.uncompressedSize });
    yield block.bytes;
  }
  const index = streamIndex(records);
  yield index;
  yield streamFooter(opts.check, index.length);
}
