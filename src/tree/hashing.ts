/**
 * How a generator hashes many streams (repodata: each package's checksum): on the main thread by
 * default, or on worker threads when the build hands it a pool (`src/emit/off-thread.ts`,
 * `withHashPool`). Generators only see these shapes, so the byte formats stay free of threads.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

/** Takes one stream's bytes in order; a returned promise is back-pressure: await it before the chunk changes. */
export interface StreamHasher {
  update(chunk: Uint8Array): void | Promise<void>;
}

/** Hashes streams one after another or several at once, each fed by its own `feed`. */
export interface Hashing {
  /** `feed`'s result and the hex digest of the bytes it fed. */
  hash<T>(feed: (hasher: StreamHasher) => Promise<T>): Promise<[T, string]>;
  /**
   * Where hashing runs on other threads: `size` bytes of file `path` from `offset` read there and
   * hashed, with their first `keep` bytes (a package's headers) and the hex digest, so the file's
   * bytes need not pass through this thread.
   */
  hashFile?(path: string, offset: number, size: number, keep: number): Promise<[Uint8Array, string]>;
}

/** Hashing of `totalBytes` in all, of one algorithm, for as long as `fn` runs (its workers end with it). */
export type HashingScope = <T>(algorithm: HashAlgorithm, totalBytes: number, fn: (hashing: Hashing) => Promise<T>) => Promise<T>;

/** Every stream hashed on the main thread, as its bytes pass. */
export const hashInline = (algorithm: HashAlgorithm): Hashing => ({
  async hash(feed) {
    const h = createHash(algorithm);
    const result = await feed({ update: (chunk) => void h.update(chunk) });
    return [result, h.digest('hex')];
  },
});

export const inlineHashing: HashingScope = (algorithm, _totalBytes, fn) => fn(hashInline(algorithm));

/** A file range that ended before its planned size: the file changed after it was planned. */
export class ChangedWhileRead extends UserError {
  constructor(
    /** The message without the file's name. */
    readonly reason: string,
    path: string,
  ) {
    super(reason, path);
  }
}

/**
 * `size` bytes of file `path` from `offset`, read through `buffer` with blocking reads, each chunk
 * given to `update`; returns their first `keep` bytes (in a buffer of their own). How a hash
 * pool's worker reads a package, and the main thread while the workers start.
 */
export function readRangeSync(path: string, offset: number, size: number, keep: number, buffer: Uint8Array, update: (chunk: Uint8Array) => void): Uint8Array {
  const head = new Uint8Array(Math.min(keep, size));
  const fd = openSync(path, 'r');
  try {
    for (let done = 0; done < size; ) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - done), offset + done);
      if (n === 0) throw new ChangedWhileRead(`changed while being read (expected ${size} bytes, got ${done})`, path);
      const chunk = buffer.subarray(0, n);
      if (done < head.length) head.set(chunk.subarray(0, head.length - done), done);
      update(chunk);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return head;
}

/** What `Hashing.hashFile` does, on this thread: one read of the range, hashed, its first `keep` bytes kept. */
export function hashFileHere(algorithm: HashAlgorithm, path: string, offset: number, size: number, keep: number): [Uint8Array, string] {
  const h = createHash(algorithm);
  const head = readRangeSync(path, offset, size, keep, new Uint8Array(Math.min(size, 1 << 20)), (chunk) => void h.update(chunk));
  return [head, h.digest('hex')];
}
