/**
 * Taps that read the output file behind its writer (issue 18): each tap's worker is told how far
 * the file is written and reads that much back itself, from the page cache. The writer then neither
 * copies its bytes for the taps nor waits for them, so a large image costs about the slower of the
 * write and the slowest hash, not their sum or their lock-step (measured on a 1 GiB attach: the
 * media-check worker fed through the ring sat idle a third of the time while writes stalled). The
 * hash covers exactly the bytes the file holds. The writer is held back only when it is more than
 * `AHEAD` bytes in front of the slowest tap, so what the workers read back is still cached.
 */
import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { tapLabel, workerFile } from './off-thread.js';
import type { FromWorker, ToWorker, WorkerInput } from './tap-worker.js';
import type { TapSpec } from './taps.js';

const AHEAD = 256 << 20;

/** The taps of a file being written at `path`: told how far it is written, then asked for their results. */
export interface TrailingTaps {
  /** The file is written up to `upTo`; a returned promise holds the writer back until the taps catch up. */
  written(upTo: number): Promise<void> | undefined;
  /** After the last write: each spec's result, in order (hex digests, the media-check field). */
  finish(): Promise<string[]>;
}

/**
 * Run `fn` with trailing taps of `specs` on the file at `path` (which `fn` writes); `onHashed` is
 * called with the bytes every tap has hashed since the last call. No worker or descriptor outlives it.
 */
export async function withTrailingTaps<T>(specs: readonly TapSpec[], path: string, onHashed: (n: number) => void, fn: (taps: TrailingTaps) => Promise<T>): Promise<T> {
  const fd = openSync(path, 'r');
  let taps: Trailing | undefined;
  try {
    taps = new Trailing(specs, fd, onHashed);
    return await fn(taps);
  } finally {
    // the workers read through the descriptor: stopped first, then it is closed
    await taps?.close();
    closeSync(fd);
  }
}

class Trailing implements TrailingTaps {
  private readonly workers: Worker[] = [];
  private readonly results: Promise<string>[] = [];
  /** Per tap: bytes hashed; and the least of them, what every tap has done. */
  private readonly hashed: number[];
  private slowest = 0;
  private waiting: { until: number; resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(
    specs: readonly TapSpec[],
    fd: number,
    private readonly onHashed: (n: number) => void,
  ) {
    this.hashed = specs.map(() => 0);
    try {
      for (const [i, spec] of specs.entries()) this.workers.push(this.start(spec, i, fd));
    } catch (err) {
      // no thread for one of them: the ones started must not keep the process alive
      void this.close();
      throw err;
    }
    // a failure is thrown where the writer reports or the results are awaited, never as an unhandled rejection
    for (const r of this.results) r.catch(() => undefined);
  }

  written(upTo: number): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    for (const w of this.workers) w.postMessage({ readTo: upTo } satisfies ToWorker);
    if (this.workers.length === 0 || upTo - this.slowest <= AHEAD) return undefined;
    return new Promise<void>((resolve, reject) => (this.waiting = { until: upTo - AHEAD, resolve, reject }));
  }

  private start(spec: TapSpec, index: number, fd: number): Worker {
    const worker = new Worker(workerFile(), { workerData: { spec, fd } satisfies WorkerInput, stdout: false, stderr: false });
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
          if ('hashed' in m) this.progress(index, m.hashed);
          else if ('result' in m) resolve(m.result);
          else if ('error' in m) fail(m.error);
        });
        worker.on('error', (err) => fail(err.message));
        worker.on('exit', (code) => {
          if (!this.closed) fail(`it stopped (exit code ${code})`);
        });
      }),
    );
    return worker;
  }

  /** Tap `index` has hashed `upTo` bytes: report what all have done, and release a writer waiting on it. */
  private progress(index: number, upTo: number): void {
    this.hashed[index] = upTo;
    const slowest = Math.min(...this.hashed);
    if (slowest === this.slowest) return;
    this.onHashed(slowest - this.slowest);
    this.slowest = slowest;
    const w = this.waiting;
    if (w && slowest >= w.until) {
      this.waiting = undefined;
      w.resolve();
    }
  }

  async finish(): Promise<string[]> {
    if (this.failure) throw this.failure;
    for (const w of this.workers) w.postMessage({ end: true } satisfies ToWorker);
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
