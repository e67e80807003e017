import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { removeStaleTemporaries, temporaryName, trackTemporary, untrackTemporary } from '../tree/leftovers.js';

/** A stage that sees every byte of the output as it passes (a hash, a size counter). */
export interface Tap {
  update(chunk: Uint8Array): void;
}

export type DigestName = 'md5' | 'sha256';

/** Hash taps for the sidecar checksum files; `hex()` after the last byte. */
export class HashTap implements Tap {
  private readonly hash: Hash;
  constructor(readonly algorithm: DigestName) {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  hex(): string {
    return this.hash.digest('hex');
  }
}

/**
 * An output file that appears atomically: bytes go to a hidden temporary file beside the target,
 * which is fsynced and renamed over the target on `commit()`, or removed on `abort()`. Writes are
 * sequential; taps see every byte once, in order. `patch()` rewrites bytes already written (the
 * implanted media-check MD5) without passing them through the taps again.
 */
export class AtomicFile {
  private position = 0;
  private finished = false;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly fh: FileHandle,
    private readonly taps: Tap[],
  ) {}

  static async create(path: string, taps: Tap[] = []): Promise<AtomicFile> {
    await removeStaleTemporaries(dirname(path));
    const tempPath = temporaryName(path);
    const fh = await open(tempPath, 'wx', 0o644);
    trackTemporary(tempPath);
    return new AtomicFile(path, tempPath, fh, taps);
  }

  get size(): number {
    return this.position;
  }

  async write(chunk: Uint8Array): Promise<void> {
    for (const t of this.taps) t.update(chunk);
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += chunk.length;
  }

  async patch(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset + bytes.length > this.position) throw new Error('patch beyond written data');
    await this.fh.write(bytes, 0, bytes.length, offset);
  }

  async commit(): Promise<void> {
    this.finished = true;
    await this.fh.sync();
    await this.fh.close();
    await rename(this.tempPath, this.path);
    untrackTemporary(this.tempPath);
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.fh.close().catch(() => undefined);
    await rm(this.tempPath, { force: true });
    untrackTemporary(this.tempPath);
  }

  /** Run `fn` on a new atomic file; commit if it returns, remove the temporary file if it throws. */
  static async with<T>(path: string, taps: Tap[], fn: (f: AtomicFile) => Promise<T>): Promise<T> {
    const f = await AtomicFile.create(path, taps);
    try {
      const result = await fn(f);
      await f.commit();
      return result;
    } catch (err) {
      await f.abort();
      throw err;
    }
  }
}

/** Sidecar line in coreutils format: `md5sum -c` / `sha256sum -c` verify it in the file's folder. */
export function checksumLine(hex: string, file: string): string {
  return `${hex}  ${basename(file)}\n`;
}

/** Write `<file>.md5` / `<file>.sha256` atomically. */
export async function writeChecksumFiles(file: string, digests: Partial<Record<DigestName, string>>): Promise<string[]> {
  const written: string[] = [];
  for (const [alg, hex] of Object.entries(digests) as [DigestName, string][]) {
    const side = `${file}.${alg}`;
    await AtomicFile.with(side, [], (f) => f.write(Buffer.from(checksumLine(hex, file))));
    written.push(side);
  }
  return written;
}
