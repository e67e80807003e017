/**
 * Taps on worker threads, so hashing leaves the write path: an output with three digests costs
 * about the slowest of them and the write, not their sum. The bytes are copied once into a ring
 * of shared memory (8 × 1 MiB: memory stays flat at any size); each tap's worker reads every span
 * in order, and a span is refilled only when all have read it (that wait is the back-pressure).
 * The one copy costs about 90 ms per GiB (measured); transferring a copy per chunk instead costs
 * the same copy plus an allocation each, and the writer's own buffers are reused at once.
 * Starting the workers costs about 160 ms on two busy cores (measured: two workers booting and
 * taking their first span), what MD5 and SHA-256 inline take for about 64 MiB, so outputs planned
 * smaller than that, or of a size not known beforehand, hash inline as the bytes pass. An ISO
 * image, written by one sink into one file, feeds its workers differently: they read the file
 * back behind the writes (`trailing-taps.ts`, on the same `TapWorkers` base).
 */
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInput } from './tap-worker.js';
import { makeTap, type DigestName, type FinishingTap, type Tap, type TapSpec } from './taps.js';

const SPAN = 1 << 20;
const SPANS = 8;
/** From this planned size on, the taps run on workers. */
export const OFF_THREAD_FROM = 64 << 20;

/** The compiled worker beside this module (dist/src/emit); from the TypeScript sources (tests), the one in dist/. */
function workerFile(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/src/emit/tap-worker.js', import.meta.url) : new URL('./tap-worker.js', import.meta.url);
}

const tapLabel = (spec: TapSpec) => (spec.kind === 'digest' ? spec.algorithm.toUpperCase() : 'the media-check MD5');

/** The taps of one output: fed its bytes, then asked for their results. */
export interface ResultTaps extends Tap {
  /** After the last byte: each spec's result, in order (hex digests, the media-check field). */
  finish(): Promise<string[]>;
  /** Stop any workers (done, or given up on). */
  close(): Promise<void>;
}

/** Run `fn` with the taps of `specs` for an output of `plannedBytes`; no worker outlives it. */
export async function withTaps<T>(specs: readonly TapSpec[], plannedBytes: number | undefined, fn: (taps: ResultTaps) => Promise<T>): Promise<T> {
  const taps = specs.length > 0 && (plannedBytes ?? 0) >= OFF_THREAD_FROM ? new OffThreadTaps(specs) : new InlineTaps(specs);
  try {
    return await fn(taps);
  } finally {
    await taps.close();
  }
}

class InlineTaps implements ResultTaps {
  private readonly taps: FinishingTap[];
  constructor(specs: readonly TapSpec[]) {
    this.taps = specs.map(makeTap);
  }
  update(chunk: Uint8Array): void {
    for (const t of this.taps) t.update(chunk);
  }
  finish(): Promise<string[]> {
    return Promise.resolve(this.taps.map((t) => t.finish()));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * One worker per tap: their results in the specs' order, the first failure (thrown where the taps
 * are next used, and rejecting a caller waiting on them), and stopping them. The ways of feeding
 * them, a ring here, the file itself (`trailing-taps.ts`) and whole files one after another
 * (`hash-pool.ts`), extend it.
 */
export abstract class TapWorkers {
  protected readonly workers: Worker[] = [];
  private readonly results: Promise<string>[] = [];
  protected failure: Error | undefined;
  /** A caller held back until the workers have taken more (back-pressure). */
  protected waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed = false;

  /** Start a worker for each of `specs`, given what it reads; once, from the subclass's constructor. */
  protected startAll(specs: readonly TapSpec[], input: (spec: TapSpec) => WorkerInput): void {
    try {
      for (const [i, spec] of specs.entries()) this.workers.push(this.start(spec, i, input(spec)));
    } catch (err) {
      // no thread for one of them: the ones started must not keep the process alive
      void this.close();
      throw err;
    }
    // a failure is thrown where the taps are used or the results awaited, never as an unhandled rejection
    for (const r of this.results) r.catch(() => undefined);
  }

  /** Worker `index` has taken more in: a span (`done`), bytes of the file (`hashed`), a whole file range (`fileHashed`, `fileFailed`). */
  protected abstract took(index: number, m: Exclude<FromWorker, { result: string } | { error: string }>): void;

  /** Release the caller held back, if any. */
  protected wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve();
  }

  protected post(m: ToWorker): void {
    for (const w of this.workers) w.postMessage(m);
  }

  private start(spec: TapSpec, index: number, input: WorkerInput): Worker {
    const worker = new Worker(workerFile(), { workerData: input, stdout: false, stderr: false });
    const what = `${tapLabel(spec)} on its worker thread`;
    this.results.push(
      new Promise<string>((resolve, reject) => {
        const fail = (message: string) => {
          const err = new Error(`${what} failed: ${message}`);
          this.failure ??= err;
          this.waiting?.reject(err);
          reject(err);
        };
        worker.on('message', (m: FromWorker) => {
          if ('result' in m) resolve(m.result);
          else if ('error' in m) fail(m.error);
          else this.took(index, m);
        });
        worker.on('error', (err) => fail(err.message));
        worker.on('exit', (code) => {
          if (!this.closed) fail(`it stopped (exit code ${code})`);
        });
      }),
    );
    return worker;
  }

  /** After the last byte was handed over: each spec's result, in order. */
  protected async collect(): Promise<string[]> {
    if (this.failure) throw this.failure;
    this.post({ end: true });
    const results = await Promise.all(this.results);
    await this.close();
    return results;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failure ??= new Error('taps used after they were closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

class OffThreadTaps extends TapWorkers implements ResultTaps {
  private readonly ring = new SharedArrayBuffer(SPAN * SPANS);
  private readonly bytes = new Uint8Array(this.ring);
  /** Per span: bytes in it, and how many taps have yet to read it (a span is refilled at 0). */
  private readonly filled = new Array<number>(SPANS).fill(0);
  private readonly readers = new Array<number>(SPANS).fill(0);
  private current = 0;

  constructor(private readonly specs: readonly TapSpec[]) {
    super();
    this.startAll(specs, (spec) => ({ spec, ring: this.ring }));
  }

  update(chunk: Uint8Array): void | Promise<void> {
    const off = this.fill(chunk, 0);
    return off < chunk.length ? this.rest(chunk, off) : undefined;
  }

  private async rest(chunk: Uint8Array, off: number): Promise<void> {
    while (off < chunk.length) {
      await new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
      off = this.fill(chunk, off);
    }
  }

  /** Copy `chunk` from `off` into the ring until it is all in or the next span is still being read. */
  private fill(chunk: Uint8Array, off: number): number {
    if (this.failure) throw this.failure;
    while (off < chunk.length && this.readers[this.current] === 0) {
      const used = this.filled[this.current]!;
      const n = Math.min(SPAN - used, chunk.length - off);
      this.bytes.set(chunk.subarray(off, off + n), this.current * SPAN + used);
      this.filled[this.current] = used + n;
      off += n;
      if (used + n === SPAN) this.commit();
    }
    return off;
  }

  /** Hand the current span to every worker and move on to the next. */
  private commit(): void {
    this.readers[this.current] = this.specs.length;
    this.post({ start: this.current * SPAN, length: this.filled[this.current]! });
    this.current = (this.current + 1) % SPANS;
  }

  /** A worker is done with a span: once all are, it may be refilled. */
  protected took(_index: number, m: Exclude<FromWorker, { result: string } | { error: string }>): void {
    if (!('done' in m)) return;
    const span = m.done / SPAN;
    if (--this.readers[span]! > 0) return;
    this.filled[span] = 0;
    this.wake();
  }

  async finish(): Promise<string[]> {
    if (this.failure) throw this.failure;
    if (this.filled[this.current]! > 0) this.commit();
    return this.collect();
  }
}

export const digestSpecs = (algorithms: readonly DigestName[]): TapSpec[] => algorithms.map((algorithm) => ({ kind: 'digest', algorithm }));

/** `algorithms` paired with their results from `finish()`. */
export const digestsFrom = (algorithms: readonly DigestName[], results: readonly string[]): Partial<Record<DigestName, string>> =>
  Object.fromEntries(algorithms.map((a, i) => [a, results[i]!]));

/** The digests of a stream of `size` bytes (an output read back); `onBytes` after each chunk taken. */
export function digestsOf(
  chunks: AsyncIterable<Uint8Array>,
  size: number,
  algorithms: readonly DigestName[],
  onBytes: (n: number) => void = () => undefined,
): Promise<Partial<Record<DigestName, string>>> {
  return withTaps(digestSpecs(algorithms), size, async (taps) => {
    for await (const chunk of chunks) {
      await taps.update(chunk);
      onBytes(chunk.length);
    }
    return digestsFrom(algorithms, await taps.finish());
  });
}
