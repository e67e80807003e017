/**
 * Taps on worker threads, so hashing leaves the write path: an output with three digests costs
 * about the slowest of them and the write, not their sum. The workers hash buffers of shared
 * memory in place (`SharedBuffers`): a writer that builds its bytes in them (the ISO emitter's
 * pool) copies nothing for its taps; other outputs' chunks are copied once into 8 × 1 MiB of them
 * (about 90 ms per GiB, measured; transferring a copy per chunk instead costs the same copy plus
 * an allocation each). Memory stays flat at any size; a buffer is refilled only when every tap
 * has hashed it (that wait is the back-pressure).
 * Starting the workers costs about 160 ms on two busy cores (measured: two workers booting and
 * taking their first span), what MD5 and SHA-256 inline take for about 64 MiB, so outputs planned
 * smaller than that, or of a size not known beforehand, hash inline as the bytes pass.
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
 * them, shared buffers here and whole files one after another (`hash-pool.ts`), extend it.
 */
export abstract class TapWorkers {
  protected readonly workers: Worker[] = [];
  private readonly results: Promise<string>[] = [];
  protected failure: Error | undefined;
  /** A caller held back until the workers have taken more (back-pressure). */
  protected waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed = false;

  /** Each worker's tap, once known (`configure`). */
  private readonly specs: (TapSpec | undefined)[] = [];

  /**
   * Start a worker for each of `specs`, given what it reads; once, from the subclass's constructor.
   * A worker whose spec is not known yet is started without a tap and told it by `configure`.
   */
  protected startAll(specs: readonly (TapSpec | undefined)[], input: (spec: TapSpec | undefined) => WorkerInput): void {
    try {
      for (const [i, spec] of specs.entries()) {
        this.specs.push(spec);
        this.workers.push(this.start(i, input(spec)));
      }
    } catch (err) {
      // no thread for one of them: the ones started must not keep the process alive
      void this.close();
      throw err;
    }
    // a failure is thrown where the taps are used or the results awaited, never as an unhandled rejection
    for (const r of this.results) r.catch(() => undefined);
  }

  /** Worker `index` has taken more in: a span (`done`), a whole file range (`fileHashed`, `fileFailed`). */
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

  /** Tell the workers started without a tap theirs, one spec per worker in order. */
  protected configure(specs: readonly TapSpec[]): void {
    if (specs.length !== this.workers.length || this.specs.some((s) => s !== undefined)) throw new Error(`taps configured twice or with ${specs.length} specs for ${this.workers.length} workers`);
    for (const [i, spec] of specs.entries()) {
      this.specs[i] = spec;
      this.workers[i]!.postMessage({ spec } satisfies ToWorker);
    }
  }

  private start(index: number, input: WorkerInput): Worker {
    const worker = new Worker(workerFile(), { workerData: input, stdout: false, stderr: false });
    const what = () => `${this.specs[index] ? tapLabel(this.specs[index]) : 'a tap'} on its worker thread`;
    this.results.push(
      new Promise<string>((resolve, reject) => {
        const fail = (message: string) => {
          const err = new Error(`${what()} failed: ${message}`);
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

/**
 * Buffers in shared memory that every tap's worker hashes in place: the caller fills buffer `i`,
 * hands it over (`hash`), and refills it once `free(i)` settles, when all workers are done with
 * it. No byte is copied for the taps when the caller reads or builds its bytes straight into the
 * buffers (the ISO emitter's pool); a caller is held back only when every buffer is still being
 * hashed, so with enough of them the slowest tap never waits for the caller.
 */
export class SharedBuffers extends TapWorkers {
  readonly buffers: readonly Buffer[];
  /** Per buffer: how many taps have yet to hash it; and the buffer a held-back caller waits for. */
  private readonly readers: number[];
  private awaited = -1;

  private configured: boolean;

  /**
   * `ring` holds the buffers of `bytes` each, one after another. `taps`: their specs, or how many
   * there will be, started now and told their specs later (`configure`) before the first `hash`.
   */
  constructor(
    taps: readonly TapSpec[] | number,
    ring: SharedArrayBuffer,
    private readonly bytes: number,
  ) {
    super();
    const count = Math.floor(ring.byteLength / bytes);
    this.buffers = Array.from({ length: count }, (_, i) => Buffer.from(ring, i * bytes, bytes));
    this.readers = new Array<number>(count).fill(0);
    this.configured = typeof taps !== 'number';
    this.startAll(typeof taps === 'number' ? new Array<undefined>(taps).fill(undefined) : taps, (spec) => (spec ? { spec, ring } : { ring }));
  }

  override configure(specs: readonly TapSpec[]): void {
    super.configure(specs);
    this.configured = true;
  }

  /** The first `length` bytes of buffer `i` are the next bytes of the output: every tap takes them, in order. */
  hash(i: number, length: number): void {
    if (this.failure) throw this.failure;
    if (!this.configured) throw new Error('shared buffers hashed before their taps were configured');
    this.readers[i] = this.workers.length;
    this.post({ start: i * this.bytes, length });
  }

  /** Every tap is done with buffer `i`: it may be refilled. */
  isFree(i: number): boolean {
    if (this.failure) throw this.failure;
    return this.readers[i] === 0;
  }

  /** Settles once every tap is done with buffer `i` (undefined: it is already). */
  free(i: number): Promise<void> | undefined {
    if (this.isFree(i)) return undefined;
    this.awaited = i;
    return new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  protected took(_index: number, m: Exclude<FromWorker, { result: string } | { error: string }>): void {
    if (!('done' in m)) return;
    const i = m.done / this.bytes;
    if (--this.readers[i]! === 0 && i === this.awaited) {
      this.awaited = -1;
      this.wake();
    }
  }

  finish(): Promise<string[]> {
    return this.collect();
  }
}

/** Taps fed chunks the caller may reuse: each is copied once into the shared buffers (8 × 1 MiB). */
class OffThreadTaps implements ResultTaps {
  private readonly shared: SharedBuffers;
  private current = 0;
  private used = 0;

  constructor(specs: readonly TapSpec[]) {
    this.shared = new SharedBuffers(specs, new SharedArrayBuffer(SPANS * SPAN), SPAN);
  }

  update(chunk: Uint8Array): void | Promise<void> {
    const off = this.fill(chunk, 0);
    return off < chunk.length ? this.rest(chunk, off) : undefined;
  }

  private async rest(chunk: Uint8Array, off: number): Promise<void> {
    while (off < chunk.length) {
      await this.shared.free(this.current);
      off = this.fill(chunk, off);
    }
  }

  /** Copy `chunk` from `off` into the buffers until it is all in or the next buffer is still being hashed. */
  private fill(chunk: Uint8Array, off: number): number {
    while (off < chunk.length && this.shared.isFree(this.current)) {
      const n = Math.min(SPAN - this.used, chunk.length - off);
      this.shared.buffers[this.current]!.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === SPAN) this.commit();
    }
    return off;
  }

  /** Hand the current buffer to the taps and move on to the next. */
  private commit(): void {
    this.shared.hash(this.current, this.used);
    this.current = (this.current + 1) % SPANS;
    this.used = 0;
  }

  finish(): Promise<string[]> {
    if (this.used > 0) this.commit();
    return this.shared.finish();
  }

  close(): Promise<void> {
    return this.shared.close();
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
