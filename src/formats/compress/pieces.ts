/**
 * What the block compressors (xz blocks, gzip pieces) share: the input cut where the caller says,
 * the pieces encoded several at once on libuv's thread pool and written in order, and a memo of
 * encoded pieces in the build's scratch folder.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

/** One piece of the input: its size, and what it holds. */
export interface BlockCut {
  size: number;
  /** Its bytes are likely to recur (a large file's data): worth a memo lookup. */
  reusable: boolean;
  /** It begins a large file's data: nothing before it may shape its encoding. */
  fileStart?: boolean;
}

/**
 * The encodings run on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise),
 * which also serves file reads and writes: one thread is left to them, or reading the next
 * piece's input and writing the spool would wait behind the encoders.
 */
export const MAX_POOL_ENCODERS = 3;

/** Pieces encoded at once by default: the cores, within `MAX_POOL_ENCODERS`. */
export function poolEncoders(): number {
  return Math.min(availableParallelism(), MAX_POOL_ENCODERS);
}

/**
 * The input regrouped into one buffer per cut (the cuts' sizes must add up to the input's). A cut
 * that lies whole in one input chunk is a view of it, not a copy (most of a payload's pieces: a
 * file's chunks begin where its piece does): copying 32 MiB into fresh buffers cost about 130 ms
 * of the main thread on two busy cores, the time a module's deflate pieces wait for. So the
 * input's chunks must not be changed once yielded (sources and writeCpio give fresh ones).
 */
export async function* cutInto(input: AsyncIterable<Uint8Array>, cuts: Iterable<BlockCut>): AsyncGenerator<{ data: Buffer; cut: BlockCut }> {
  const plan = cuts[Symbol.iterator]();
  let cut = plan.next();
  let buf: Buffer | undefined;
  let filled = 0;
  for await (let chunk of input) {
    while (chunk.length > 0) {
      if (cut.done) throw new Error('internal: input is longer than its planned pieces');
      if (!buf) {
        if (chunk.length >= cut.value.size) {
          yield { data: Buffer.from(chunk.buffer, chunk.byteOffset, cut.value.size), cut: cut.value };
          chunk = chunk.subarray(cut.value.size);
          cut = plan.next();
          continue;
        }
        buf = Buffer.allocUnsafe(cut.value.size);
      }
      const take = Math.min(chunk.length, buf.length - filled);
      buf.set(chunk.subarray(0, take), filled);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === buf.length) {
        yield { data: buf, cut: cut.value };
        cut = plan.next();
        buf = undefined;
        filled = 0;
      }
    }
  }
  if (!cut.done) throw new Error('internal: input is shorter than its planned pieces');
}

const GLUE: BlockCut = { size: 0, reusable: false };

/** The input in pieces of `size` bytes counted from its start, the last one shorter. */
export async function* fixedPieces(input: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<{ data: Buffer; cut: BlockCut }> {
  let buf = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (let chunk of input) {
    while (chunk.length > 0) {
      const take = Math.min(chunk.length, size - filled);
      buf.set(chunk.subarray(0, take), filled);
      filled += take;
      chunk = chunk.subarray(take);
      if (filled === size) {
        yield { data: buf, cut: GLUE };
        buf = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { data: buf.subarray(0, filled), cut: GLUE };
}

/** An encoding to start: `size` bytes of input it holds until its result is written. */
export interface Job<T> {
  size: number;
  start(): Promise<T>;
}

/** A piece being encoded or waiting its turn to be written. */
interface Pending<T> {
  readonly result: Promise<T>;
  /** Settles (never rejects) when the encoding has ended. */
  readonly ended: Promise<void>;
  readonly size: number;
  done: boolean;
}

/**
 * The jobs' results in job order, at most `threads` encodings running at once, counted as
 * encodings, not as results waiting: a small glue piece finished behind a large module's piece
 * must not hold the next module back (a package alternates the two). Jobs held, running or done
 * but not yet written, stay within `heldLimit` bytes of input (one at least).
 */
export async function* inOrder<T>(jobs: AsyncIterable<Job<T>>, threads: number, heldLimit: number): AsyncGenerator<T> {
  const pending: Pending<T>[] = [];
  let running = 0;
  let held = 0;
  const oldest = (): Promise<T> => {
    const p = pending.shift()!;
    held -= p.size;
    return p.result;
  };
  for await (const job of jobs) {
    // room for this job: an encoder free, and the held input within bounds
    while (running >= threads || (pending.length > 0 && held + job.size > heldLimit)) {
      if (running >= threads) await Promise.race(pending.filter((p) => !p.done).map((p) => p.ended));
      else await pending[0]!.ended;
      while (pending[0]?.done) yield await oldest();
    }
    const result = job.start();
    const p: Pending<T> = { result, size: job.size, done: false, ended: result.then(() => undefined, () => undefined) };
    void p.ended.then(() => {
      p.done = true;
      running--;
    });
    running++;
    held += job.size;
    pending.push(p);
    while (pending[0]?.done) yield await oldest();
  }
  while (pending.length > 0) yield await oldest();
}

/**
 * Encoded pieces of one build, kept in files of its scratch folder (not in memory: a build may
 * package hundreds of MiB of modules) with what else the encoding returned, under a key the
 * caller derives from the input bytes and the settings (a SHA-256). Concurrent requests for one
 * key share the one encoding.
 */
export class BlockMemo<T extends { bytes: Uint8Array }> {
  /** Each encoding's result with its bytes left out (they are in the file). */
  private readonly entries = new Map<string, Promise<{ path: string; result: T }>>();
  /** `newPath` gives a fresh file path in the build's scratch folder. */
  constructor(private readonly newPath: () => string) {}

  async block(key: string, make: () => Promise<T>): Promise<T> {
    const known = this.entries.get(key);
    if (known) {
      const { path, result } = await known;
      return { ...result, bytes: await readFile(path) };
    }
    const made = make();
    const stored = made.then(async (result) => {
      const path = this.newPath();
      await writeFile(path, result.bytes);
      return { path, result: { ...result, bytes: NOTHING } };
    });
    this.entries.set(key, stored);
    // a failed encoding is not remembered: the next request tries again
    stored.catch(() => this.entries.delete(key));
    await stored;
    return made;
  }
}

const NOTHING = new Uint8Array(0);
