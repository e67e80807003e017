/**
 * The build's hash pool (issue 18): many files hashed on worker threads, a few at once, for a
 * generator that needs each one's digest (repodata: every package's checksum). Each lane is a tap
 * worker that reads a whole file range itself and hashes it, handing back its digest and first
 * bytes (a package's headers), so the files' bytes never pass the main thread, which meanwhile
 * parses headers and writes the XML. The lanes start with the pool; until one is up (about 100 ms,
 * measured on two busy cores) the main thread reads and hashes the first files itself. Streams not
 * on disk are hashed inline. Digests do not depend on which thread computed them.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { hashFileHere, hashInline, inlineHashing, type HashAlgorithm, type Hashing, type HashingScope, type StreamHasher } from '../tree/hashing.js';
import { OFF_THREAD_FROM, TapWorkers } from './off-thread.js';
import type { FileFailure, FromWorker } from './tap-worker.js';
import type { TapSpec } from './taps.js';

/**
 * Lanes: one worker each, a file at a time. Two on two cores: while one lane hashes a package, the
 * main thread parses the one before and the other lane reads the next.
 */
const POOL_LANES = Math.max(2, Math.min(4, availableParallelism()));

/** The build's `HashingScope`: worker threads from OFF_THREAD_FROM bytes in all, inline below (starting them costs more). */
export const withHashPool: HashingScope = (algorithm, totalBytes, fn) =>
  totalBytes >= OFF_THREAD_FROM ? withHashLanes(algorithm, POOL_LANES, fn) : inlineHashing(algorithm, totalBytes, fn);

/** `fn` with a pool of `lanes` worker threads hashing files with `algorithm`; no worker outlives it. */
export async function withHashLanes<T>(algorithm: HashAlgorithm, lanes: number, fn: (hashing: Hashing) => Promise<T>): Promise<T> {
  const pool = new HashPool(algorithm, lanes);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/** One worker reading and hashing the file ranges it is given, one at a time. */
class FileLane extends TapWorkers {
  private pending: { resolve: (r: [Uint8Array, string]) => void; reject: (err: Error) => void; path: string } | undefined;
  private online = false;

  constructor(spec: TapSpec) {
    super();
    this.startAll([spec], () => ({ spec, files: true }));
    this.workers[0]!.once('online', () => (this.online = true));
  }

  /** Up: work given to it starts at once. */
  get ready(): boolean {
    return this.online;
  }

  /** No worker failure (a file that could not be read is that file's failure, not the lane's). */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  hashFile(path: string, offset: number, size: number, keep: number): Promise<[Uint8Array, string]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, path };
      // held as the base's waiting caller, so that a failure of the worker rejects this call too
      this.waiting = { resolve: () => undefined, reject };
      this.post({ file: path, offset, size, keep });
    });
  }

  protected took(_index: number, m: Exclude<FromWorker, { result: string } | { error: string }>): void {
    const p = this.pending;
    if (!p || !('fileHashed' in m || 'fileFailed' in m)) return;
    this.pending = undefined;
    this.waiting = undefined;
    if ('fileHashed' in m) p.resolve([m.head, m.fileHashed]);
    else p.reject(fileError(m.fileFailed, p.path));
  }
}

/** A file the worker could not read, as the error reading it on this thread would have been. */
function fileError(f: FileFailure, path: string): Error {
  if (f.changed) return new UserError(f.message, path);
  return Object.assign(new Error(f.message), { ...(f.code ? { code: f.code } : {}), ...(f.syscall ? { syscall: f.syscall } : {}), ...(f.path ? { path: f.path } : {}) });
}

class HashPool implements Hashing {
  private readonly spec: TapSpec;
  private readonly all: FileLane[] = [];
  private readonly idle: FileLane[] = [];
  private readonly wakers: (() => void)[] = [];
  private readonly inline: Hashing;
  private closed = false;

  constructor(
    private readonly algorithm: HashAlgorithm,
    private readonly lanes: number,
  ) {
    this.spec = { kind: 'digest', algorithm };
    this.inline = hashInline(algorithm);
    try {
      while (this.all.length < lanes) this.add();
    } catch (err) {
      // no thread for one of them: the ones started must not keep the process alive
      void this.close();
      throw err;
    }
  }

  /** A stream not on disk: hashed here, as its bytes pass. */
  hash<T>(feed: (hasher: StreamHasher) => Promise<T>): Promise<[T, string]> {
    return this.inline.hash(feed);
  }

  async hashFile(path: string, offset: number, size: number, keep: number): Promise<[Uint8Array, string]> {
    // while the workers start, this thread reads and hashes the files itself
    if (!this.idle.some((l) => l.ready) && this.all.some((l) => !l.ready)) return hashFileHere(this.algorithm, path, offset, size, keep);
    const lane = await this.take();
    try {
      return await lane.hashFile(path, offset, size, keep);
    } finally {
      if (lane.healthy) this.idle.push(lane);
      else {
        // its worker failed: dropped, and a new one may start in its place
        this.all.splice(this.all.indexOf(lane), 1);
        void lane.close();
      }
      this.wakers.shift()?.();
    }
  }

  private add(): void {
    const lane = new FileLane(this.spec);
    this.all.push(lane);
    this.idle.push(lane);
  }

  /** An idle lane (one that is up first), a new one while there are fewer than `lanes`, or the next to come free. */
  private async take(): Promise<FileLane> {
    for (;;) {
      if (this.closed) throw new Error('hash pool used after it was closed');
      if (this.idle.length === 0 && this.all.length < this.lanes) this.add();
      const up = this.idle.findIndex((l) => l.ready);
      const lane = this.idle.splice(up >= 0 ? up : this.idle.length - 1, 1)[0];
      if (lane) return lane;
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakers.splice(0)) wake();
    await Promise.all(this.all.map((lane) => lane.close()));
  }
}
