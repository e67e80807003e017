import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_UNPACK_LIMIT, limitFromEnv, mib, TooLargeError, UNPACK_LIMIT_ENV } from './bounded.js';
import { removeStaleScratch, scratchPrefix, trackTemporary, untrackTemporary } from './leftovers.js';

/** The folders of the scratches in use. */
const live = new Set<string>();

/**
 * Whether `path` lies in a scratch folder in use: a file there is read back and removed within the
 * work, so making it durable (fsync) buys nothing a crash could keep.
 */
export function inScratch(path: string): boolean {
  for (const dir of live) if (path.startsWith(dir + sep)) return true;
  return false;
}

/** A private temporary folder for spooled intermediate files, removed when the work ends. */
export class Scratch {
  private counter = 0;
  /** Bytes inputs have unpacked here (`charge`), against DUDKIT_MAX_UNPACK_SIZE (read once). */
  private unpacked = 0;
  private unpackLimit: number | undefined;
  private constructor(readonly dir: string) {}

  /**
   * Write an input's bytes (a member extracted, an image decompressed) to `path` in this folder,
   * counted: refused beyond DUDKIT_MAX_UNPACK_SIZE for all of them together, since a small
   * archive can expand to fill the disk.
   */
  async unpackTo(path: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, what: string): Promise<void> {
    await pipeline(Readable.from(this.charged(chunks, what)), createWriteStream(path));
  }

  private async *charged(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      this.charge(chunk.length, what);
      yield chunk;
    }
  }

  /** Count `n` bytes an input writes here by other means (a hard link copied), as `unpackTo` does. */
  charge(n: number, what: string): void {
    this.unpackLimit ??= limitFromEnv(process.env, UNPACK_LIMIT_ENV, DEFAULT_UNPACK_LIMIT);
    const limit = this.unpackLimit;
    if (this.unpacked + n > limit) throw new TooLargeError(`${what}: this input unpacks to more than ${mib(limit)}`, limit, 'a driver medium that large', UNPACK_LIMIT_ENV);
    this.unpacked += n;
  }

  static async create(): Promise<Scratch> {
    await removeStaleScratch();
    const dir = await mkdtemp(scratchPrefix());
    trackTemporary(dir);
    live.add(dir);
    return new Scratch(dir);
  }

  /** A fresh path inside the scratch folder; `hint` keeps names readable when debugging. */
  path(hint = 'spool'): string {
    return join(this.dir, `${++this.counter}-${hint.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  }

  /** An input's bytes `what` written to a fresh path (named as `path` names it), counted as `unpackTo` counts them; returns the path. */
  async spool(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, what: string, hint?: string): Promise<string> {
    const path = this.path(hint);
    await this.unpackTo(path, chunks, what);
    return path;
  }

  async dispose(): Promise<void> {
    live.delete(this.dir);
    await rm(this.dir, { recursive: true, force: true });
    untrackTemporary(this.dir);
  }

  /** Run `fn` with a scratch folder that is removed afterwards, whatever happens. */
  static async with<T>(fn: (s: Scratch) => Promise<T>): Promise<T> {
    const s = await Scratch.create();
    try {
      return await fn(s);
    } finally {
      await s.dispose();
    }
  }
}
