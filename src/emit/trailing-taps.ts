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
import { TapWorkers } from './off-thread.js';
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

class Trailing extends TapWorkers implements TrailingTaps {
  /** Per tap: bytes hashed; and the least of them, what every tap has done. */
  private readonly hashed: number[];
  private slowest = 0;
  /** The writer held back (`waiting`) is released once every tap has hashed this far. */
  private until = 0;

  constructor(
    specs: readonly TapSpec[],
    fd: number,
    private readonly onHashed: (n: number) => void,
  ) {
    super();
    this.hashed = specs.map(() => 0);
    this.startAll(specs, (spec) => ({ spec, fd }));
  }

  written(upTo: number): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    this.post({ readTo: upTo });
    if (this.workers.length === 0 || upTo - this.slowest <= AHEAD) return undefined;
    this.until = upTo - AHEAD;
    return new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Tap `index` has hashed this far: report what all have done, and release a writer waiting on it. */
  protected took(index: number, m: { done: number } | { hashed: number }): void {
    if (!('hashed' in m)) return;
    this.hashed[index] = m.hashed;
    const slowest = Math.min(...this.hashed);
    if (slowest === this.slowest) return;
    this.onHashed(slowest - this.slowest);
    this.slowest = slowest;
    if (slowest >= this.until) this.wake();
  }

  finish(): Promise<string[]> {
    return this.collect();
  }
}
