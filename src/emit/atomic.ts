import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { removeStaleTemporaries, temporaryName, trackTemporary, untrackTemporary } from '../tree/leftovers.js';
import { inScratch } from '../tree/scratch.js';

import type { Tap } from './taps.js';

export type { DigestName, Tap } from './taps.js';

/**
 * The one atomic-output step, for files and folders alike: `fill` makes the output at a hidden
 * temporary path beside `path` (tracked, so an interrupt removes it), `place` puts it at `path`
 * once complete (a rename), and a failure anywhere removes it: the output appears whole or not
 * at all.
 */
export async function atomically<T>(path: string, fill: (temp: string) => Promise<T>, place: (temp: string) => Promise<void> = (temp) => rename(temp, path)): Promise<T> {
  await removeStaleTemporaries(dirname(path));
  const temp = temporaryName(path);
  trackTemporary(temp);
  try {
    const result = await fill(temp);
    await place(temp);
    return result;
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  } finally {
    untrackTemporary(temp);
  }
}

/**
 * An output file written through `atomically`: bytes go to the temporary file, which is fsynced
 * before it is renamed over the target (unless it lies in a scratch folder: `durable`). Writes are
 * sequential; taps see every byte once, in order. `patch()` rewrites bytes already written (the implanted
 * media-check MD5) without passing them through the taps again.
 */
export class AtomicFile {
  private position = 0;
  /**
   * Whether it is made durable: not in a scratch folder (a nested disk image), which the build
   * reads back and removes, so that no fsync waits on the disk for it.
   */
  readonly durable: boolean;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
    private readonly taps: Tap[],
  ) {
    this.durable = !inScratch(path);
  }

  get size(): number {
    return this.position;
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (const t of this.taps) await t.update(chunk);
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += chunk.length;
  }

  /** Make what is written so far durable now, overlapped with other work (the commit syncs again, cheaply). */
  async sync(): Promise<void> {
    if (this.durable) await this.fh.sync();
  }

  async patch(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.position) throw new Error('patch beyond written data');
    await this.fh.write(bytes, 0, bytes.length, offset);
  }

  /** Run `fn` on a new atomic file; it appears at `path` if `fn` returns, and not at all if it throws. */
  static with<T>(path: string, taps: Tap[], fn: (f: AtomicFile) => Promise<T>): Promise<T> {
    return atomically(path, async (temp) => {
      const fh = await open(temp, 'wx', 0o644);
      let result: T;
      try {
        const file = new AtomicFile(path, temp, fh, taps);
        result = await fn(file);
        await file.sync();
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      await fh.close();
      return result;
    });
  }
}
