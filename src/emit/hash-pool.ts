/**
 * The build's hash pool (issue 18): many files hashed on worker threads, a few at once, for a
 * generator that needs each one's digest (repodata: every package's checksum). Each lane is a tap
 * worker that reads a whole file range itself and hashes it, handing back its digest and first
 * bytes (a package's headers), so the files' bytes never pass the main thread, which meanwhile
 * parses headers and writes the XML. The lanes start with the pool (the build's: one, more for
 * large files); until one is up (about 100 ms, measured on two busy cores) the main thread reads
 * and hashes the first files itself. Streams not on disk are hashed inline. Digests do not depend
 * on which thread computed them.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../errors.js';
import { hashFileHere, hashInline, inlineHashing, type HashAlgorithm, type Hashing, type HashingScope, type StreamHasher } from '../tree/hashing.js';
import { OFF_THREAD_FROM, TapWorkers } from './off-thread.js';
import type { FileFailure, FromWorker } from './tap-worker.js';
import type { TapSpec } from './taps.js';

/**
 * Lanes: one worker each, a few files queued on it. At most two on two cores, one to begin with:
 * for small packages (kmods: 0.1-20 MiB, mostly small) the main thread's work on each (headers,
 * XML, gzip: about 0.4 ms) takes longer than hashing it, so a second worker only costs its start
 * (about 100 ms of CPU) and takes CPU from the main thread. The others start once a file of
 * WIDEN_FROM bytes comes, whose hashing would hold the main thread up.
 */
export const POOL_LANES = Math.max(2, Math.min(4, availableParallelism()));
/**
 * About 0.4 ms of SHA-256 and reading, the main thread's time per package: for 1000 packages of
 * 740 KiB a second lane from here took 0.74 s against 0.83 s with one (medians of 10 interleaved
 * pairs, the same CPU); 100 KiB packages never start it.
 */
const WIDEN_FROM = 512 << 10;

/** The build's `HashingScope`: worker threads from OFF_THREAD_FROM bytes in all, inline below (starting them costs more). */
export const withHashPool: HashingScope = (algorithm, totalBytes, fn) =>
  totalBytes >= OFF_THREAD_FROM ? withHashLanes(algorithm, POOL_LANES, fn, WIDEN_FROM) : inlineHashing(algorithm, totalBytes, fn);

/**
 * `fn` with a pool of up to `lanes` worker threads hashing files with `algorithm`; no worker
 * outlives it. All start at once, or (`widenFrom`) one, and the others with the first file of
 * that many bytes.
 */
export async function withHashLanes<T>(algorithm: HashAlgorithm, lanes: number, fn: (hashing: Hashing) => Promise<T>, widenFrom?: number): Promise<T> {
  const pool = new HashPool(algorithm, lanes, widenFrom);
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

/**
 * Files a lane is given before its current one is done: the worker takes the next from its port
 * at once, instead of idling until the main thread (busy with headers and gzip on busy cores)
 * has taken the last result and handed it another.
 */
const LANE_DEPTH = 2;

interface LaneJob {
  resolve: (r: [Uint8Array, string]) => void;
  reject: (err: Error) => void;
  path: string;
}

/** One worker reading and hashing the file ranges it is given, in order, up to LANE_DEPTH at once. */
class FileLane extends TapWorkers {
  private readonly queue: LaneJob[] = [];
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

  /** Files given and not yet answered. */
  get load(): number {
    return this.queue.length;
  }

  hashFile(path: string, offset: number, size: number, keep: number): Promise<[Uint8Array, string]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject, path });
      // held as the base's waiting caller, so that a failure of the worker rejects every file given
      this.waiting = { resolve: () => undefined, reject: (err) => this.queue.splice(0).forEach((j) => j.reject(err)) };
      this.post({ file: path, offset, size, keep });
    });
  }

  protected took(_index: number, m: Exclude<FromWorker, { result: string } | { error: string }>): void {
    if (!('fileHashed' in m || 'fileFailed' in m)) return;
    // the worker answers in the order it was given the files
    const job = this.queue.shift();
    if (!job) return;
    if (this.queue.length === 0) this.waiting = undefined;
    if ('fileHashed' in m) job.resolve([m.head, m.fileHashed]);
    else job.reject(fileError(m.fileFailed, job.path));
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
  private readonly wakers: (() => void)[] = [];
  private readonly inline: Hashing;
  /** How many lanes run (the rest start with the first file of `widenFrom` bytes). */
  private wanted: number;
  private closed = false;

  constructor(
    private readonly algorithm: HashAlgorithm,
    private readonly lanes: number,
    private readonly widenFrom?: number,
  ) {
    this.spec = { kind: 'digest', algorithm };
    this.inline = hashInline(algorithm);
    this.wanted = widenFrom === undefined ? lanes : 1;
    try {
      this.startLanes();
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
    for (;;) {
      if (this.closed) throw new Error('hash pool used after it was closed');
      if (this.widenFrom !== undefined && size >= this.widenFrom) this.wanted = this.lanes;
      // a lane whose worker failed is dropped, and a new one starts in its place
      for (const lane of this.all.filter((l) => !l.healthy)) {
        this.all.splice(this.all.indexOf(lane), 1);
        void lane.close();
      }
      this.startLanes();
      const lane = this.roomiest();
      if (lane) {
        try {
          return await lane.hashFile(path, offset, size, keep);
        } finally {
          this.wakers.shift()?.();
        }
      }
      if (this.all.some((l) => !l.ready)) {
        // while a worker starts, this thread reads and hashes the files itself, then lets the
        // event loop run: a worker's coming online is an event, unseen while the caller's work
        // goes on in promise jobs only
        const hashed = hashFileHere(this.algorithm, path, offset, size, keep);
        await new Promise((resolve) => setImmediate(resolve));
        return hashed;
      }
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
  }

  private startLanes(): void {
    while (this.all.length < this.wanted) this.all.push(new FileLane(this.spec));
  }

  /** The least loaded lane that is up and has room for another file. */
  private roomiest(): FileLane | undefined {
    let best: FileLane | undefined;
    for (const l of this.all) if (l.ready && l.healthy && l.load < LANE_DEPTH && (!best || l.load < best.load)) best = l;
    return best;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakers.splice(0)) wake();
    await Promise.all(this.all.map((lane) => lane.close()));
  }
}
