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
  /** Bytes inputs have unpacked here (`charge`). */
  private unpacked = 0;
  private constructor(readonly dir: string) {}

  /**
   * Count `n` bytes an input unpacks into this folder (a member extracted, an image decompressed,
   * a hard link copied): refused beyond DUDKIT_MAX_UNPACK_SIZE in all, since a small archive can
   * expand to fill the disk.
   */
  charge(n: number, what: string): void {
    const limit = limitFromEnv(process.env, UNPACK_LIMIT_ENV, DEFAULT_UNPACK_LIMIT);
    if (this.unpacked + n > limit) throw new TooLargeError(`${what}: this input unpacks to more than ${mib(limit)}`, limit, 'a driver medium that large', UNPACK_LIMIT_ENV);
    this.unpacked += n;
  }

  /** `chunks`, each charged (`charge`) as it passes. */
  async *charged(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, what: string): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) {
      this.charge(chunk.length, what);
      yield chunk;
    }
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

  /** Write `chunks` to a fresh path (named as `path` names it) and return that path. */
  async spool(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, hint?: string): Promise<string> {
    const path = this.path(hint);
    await pipeline(Readable.from(chunks), createWriteStream(path));
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
