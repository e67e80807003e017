/**
 * ISO 9660 emitter: plans the image, streams it once into an atomic output file with digest taps
 * on its pool's buffers (here when small; hashed in place on worker threads when large) and
 * implants the media-check MD5 with one 512-byte patch. Layouts
 * reach it through `emitMedium`; `writeIso` (the `dudkit iso` command) is a thin shell over it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { asUserError, UserError } from '../errors.js';
import type { Context } from '../context.js';
import { FIELD_OFFSET } from '../formats/isomd5.js';
import { planIso, type IsoOptions, type IsoPlan } from '../formats/iso9660/plan.js';
import { streamIso } from '../formats/iso9660/stream.js';
import type { Source } from '../tree/source.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { AtomicFile, type DigestName, type Tap } from './atomic.js';
import { digestsFrom, digestSpecs, OFF_THREAD_FROM, SharedBuffers, withTaps } from './off-thread.js';
import type { Sink } from './pipeline.js';
import type { TapSpec } from './taps.js';

export interface EmitIsoOptions extends Omit<IsoOptions, 'epoch' | 'mediaCheck'> {
  /** Implant the isomd5sum media-check record (what `implantisomd5` writes). */
  readonly implantMd5?: boolean;
  /** `RHLISOSTATUS=1` in that record (`implantisomd5 --supported-iso`). */
  readonly supportedIso?: boolean;
  /** Digests of the image as written (covering the implanted record). */
  readonly digests?: readonly DigestName[];
}

export interface EmitIsoResult {
  /** Image size in bytes. */
  size: number;
  md5?: string;
  sha256?: string;
  /** The implanted media-check MD5 (not the MD5 of the file). */
  implantedMd5?: string;
}

/**
 * 1 MiB: measured on the 1 GiB bench image (2 busy cores), 4 MiB reads and writes cost twice the
 * system time (sys 1.9-2.4 s against 0.6-1.1 s) and `dudkit iso` took 4-5 s against 1.6-2.1 s.
 */
const POOL_BUFFER = 1 << 20;
/**
 * Buffers of a large image's pool, hashed in place on the taps' workers (`PooledSink`): 32 MiB
 * in all; half as many left the MD5 worker idle a third of the write (measured, --md5 --sha256).
 */
const SHARED_BUFFERS = 32;
const FLUSH_EVERY = 64 << 20;
const SMALL_FILE = 256 << 10;

/** The pool's buffers and where their bytes are hashed once full: here, or on the taps' workers. */
interface PoolTaps {
  readonly buffers: readonly Buffer[];
  /** Buffer `i` holds the next `length` bytes of the image: hash them. */
  hash(i: number, length: number): void;
  /** Settles once buffer `i`'s bytes are hashed (undefined: they are). */
  free(i: number): Promise<void> | undefined;
}

/**
 * A small image's pool: three buffers, hashed here. Each hash is deferred one turn so the next
 * read is already in flight, and overlaps the buffer's write.
 */
class InlinePool implements PoolTaps {
  readonly buffers = Array.from({ length: 3 }, () => Buffer.allocUnsafe(POOL_BUFFER));
  private readonly hashed: Promise<void>[] = this.buffers.map(() => Promise.resolve());
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly taps: readonly Tap[]) {}

  hash(i: number, length: number): void {
    if (this.taps.length === 0) return;
    const full = this.buffers[i]!.subarray(0, length);
    this.last = this.hashed[i] = this.last
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(async () => {
        for (const t of this.taps) await t.update(full);
      });
    // a failure reaches the sink through free(); a sink failing first leaves it unawaited
    this.last.catch(() => undefined);
  }

  free(i: number): Promise<void> {
    return this.hashed[i]!;
  }
}

/**
 * The hot path: a pool of 1 MiB buffers. One fills (metadata copied in, file ranges read straight
 * into it); a full one is hashed and written at once, each in order, and refilled when both are
 * done; nothing is allocated per chunk. A large image's buffers are shared memory its taps'
 * workers hash in place (`SharedBuffers`): no byte is copied or read back for them, and the
 * writer runs up to 31 MiB ahead of the slowest tap, so that tap does not wait on the writer's
 * reads and writes in lock-step.
 */
class PooledSink implements Sink {
  /** Settles when the buffer's last write has finished. */
  private readonly writes: Promise<void>[];
  private readonly buffers: readonly Buffer[];
  private current = 0;
  private used = 0;
  private lastWrite: Promise<void> = Promise.resolve();
  private failure: unknown;

  /**
   * The file the last small copy read, kept open for the next: an installer's small files are
   * slices of one image, opened once rather than once each.
   */
  private small: { path: string; fd: number } | undefined;

  /** A second descriptor on the temporary file: flushing as we go overlaps disk writeback with the work. */
  private flusher: FileHandle | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushesInFlight = 0;
  private unflushed = 0;

  constructor(
    private readonly out: AtomicFile,
    private readonly onBytes: (n: number) => void,
    private readonly taps: PoolTaps,
  ) {
    this.buffers = taps.buffers;
    this.writes = this.buffers.map(() => Promise.resolve());
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.onBytes(chunk.length);
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(POOL_BUFFER - this.used, chunk.length - off);
      this.buffers[this.current]!.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === POOL_BUFFER) await this.rotate();
    }
  }

  /**
   * A file's bytes read straight into the pool. Not a kernel-side copy: Node copies only whole files
   * (copyFile), a re-mastered image puts an installer's files at other offsets than the installer
   * has them, and on ext4 here copy_file_range cost about what pread + pwrite do (issue 18).
   */
  copy(source: Source): Promise<number | undefined> {
    const file = source.file;
    if (!file) return Promise.resolve(undefined);
    return source.size <= SMALL_FILE ? this.copySmall(source, file) : this.copyLarge(source, file);
  }

  private async copyLarge(source: Source, file: NonNullable<Source['file']>): Promise<number> {
    const fh = await open(file.path, 'r').catch((err: unknown) => asUserError(err, source.origin));
    try {
      let done = 0;
      while (done < source.size) {
        const n = Math.min(POOL_BUFFER - this.used, source.size - done);
        const { bytesRead } = await fh.read(this.buffers[this.current]!, this.used, n, file.offset + done);
        if (bytesRead === 0) break;
        this.used += bytesRead;
        done += bytesRead;
        this.onBytes(bytesRead);
        if (this.used === POOL_BUFFER) await this.rotate();
      }
      if (file.whole && (await fh.stat()).size !== source.size) throw new UserError(`changed size while being read (planned ${source.size} bytes)`, source.origin);
      return done;
    } finally {
      await fh.close();
    }
  }

  /**
   * Small files are read with blocking calls: a thread-pool round trip per open/read/stat/close
   * costs more than the read itself when the data is in the page cache.
   */
  private async copySmall(source: Source, file: NonNullable<Source['file']>): Promise<number> {
    if (POOL_BUFFER - this.used < source.size) await this.rotate();
    const fd = this.smallFd(file.path, source.origin);
    // a whole file is asked for one byte more when the buffer has room for it: a short read says
    // where it ends, so a file that grew or shrank shows without an fstat
    const probe = file.whole && POOL_BUFFER - this.used > source.size ? 1 : 0;
    let done = 0;
    while (done < source.size) {
      const n = readSync(fd, this.buffers[this.current]!, this.used + done, source.size - done + probe, file.offset + done);
      if (n === 0) break;
      done += n;
    }
    if (file.whole && (probe ? done !== source.size : fstatSync(fd).size !== source.size)) throw new UserError(`changed size while being read (planned ${source.size} bytes)`, source.origin);
    this.used += done;
    this.onBytes(done);
    if (this.used === POOL_BUFFER) await this.rotate();
    return done;
  }

  private smallFd(path: string, origin: string): number {
    if (this.small?.path === path) return this.small.fd;
    this.closeSmall();
    try {
      this.small = { path, fd: openSync(path, 'r') };
    } catch (err) {
      asUserError(err, origin);
    }
    return this.small.fd;
  }

  private closeSmall(): void {
    if (this.small) closeSync(this.small.fd);
    this.small = undefined;
  }

  private async rotate(): Promise<void> {
    this.check();
    const i = this.current;
    const full = this.buffers[i]!.subarray(0, this.used);
    this.taps.hash(i, this.used);
    const written = this.lastWrite
      .then(async () => {
        if (this.failure !== undefined) return;
        await this.out.write(full);
        this.written(full.length);
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      });
    this.lastWrite = this.writes[i] = written;
    this.current = (i + 1) % this.buffers.length;
    this.used = 0;
    await this.writes[this.current];
    await this.taps.free(this.current);
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Start writeback of what is written so far (every 64 MiB, and never while a flush is still in
   * flight), so that the final fsync of the commit does not find the whole image still dirty in
   * the page cache. A writer faster than the disk (no taps) so starts only as many flushes as the
   * disk finishes: queued one behind another, each with its own cache flush, they sometimes held
   * a plain image many times its usual time (interleaved runs on this VM: 1 GiB in 0.67-0.76 s but
   * once 3.5 s, 4 GiB in 2.1-2.7 s but once 10.9 s; paced, 0.65-0.83 s and 2.1-2.7 s). A writer
   * paced by its hashes gains from flushing (--md5 --sha256 of 1 GiB: 1.5 s with, 2.5 s without).
   */
  private written(n: number): void {
    this.unflushed += n;
    if (this.unflushed >= FLUSH_EVERY && this.flushesInFlight === 0) this.flush();
  }

  /** Start writeback of what is written and not flushed yet (a file that need not be durable: none). */
  private flush(): void {
    if (!this.out.durable || this.unflushed === 0) return;
    this.unflushed = 0;
    this.flushesInFlight++;
    this.flushing = this.flushing
      .then(async () => {
        this.flusher ??= await open(this.out.tempPath, 'r');
        await this.flusher.datasync();
      })
      .catch(() => undefined)
      .finally(() => this.flushesInFlight--);
  }

  /** Wait for every write in flight; rethrow the first error. */
  async settle(): Promise<void> {
    await this.lastWrite;
    this.check();
  }

  async end(): Promise<void> {
    if (this.used > 0) await this.rotate();
    await this.settle();
    // the last bytes go to the disk while the taps hash what they lag behind by: the commit's
    // fsync then finds little still dirty
    this.flush();
    for (let i = 0; i < this.buffers.length; i++) await this.taps.free(i);
    await this.close();
  }

  async close(): Promise<void> {
    this.closeSmall();
    await this.flushing;
    await this.flusher?.close().catch(() => undefined);
    this.flusher = undefined;
  }
}

/**
 * A large image's tap workers: those of the write (media-check MD5, digests) and those of the
 * re-read after an implant, on one pool of shared buffers (the re-read's start once the write's are done).
 */
class ImageWorkers {
  readonly write: SharedBuffers;
  readonly reread: SharedBuffers | undefined;

  /** `writeTaps` workers for the write, told their specs once the image is planned; one per `reread` digest. */
  constructor(writeTaps: number, reread: readonly DigestName[]) {
    const ring = new SharedArrayBuffer(SHARED_BUFFERS * POOL_BUFFER);
    this.write = new SharedBuffers(writeTaps, ring, POOL_BUFFER);
    try {
      this.reread = reread.length > 0 ? new SharedBuffers(digestSpecs(reread), ring, POOL_BUFFER) : undefined;
    } catch (err) {
      void this.write.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.write.close(), this.reread?.close()]);
  }
}

/** Stream the image into `file` through the taps of `specs` (on `workers` when given); their results. */
async function writeImage(plan: IsoPlan, file: AtomicFile, specs: readonly TapSpec[], workers: SharedBuffers | undefined, onBytes: (n: number) => void): Promise<string[]> {
  if (workers) {
    await pump(plan, new PooledSink(file, onBytes, workers));
    return workers.finish();
  }
  return withTaps(specs, plan.imageBlocks * 2048, async (taps) => {
    await pump(plan, new PooledSink(file, onBytes, new InlinePool(specs.length > 0 ? [taps] : [])));
    return taps.finish();
  });
}

async function pump(plan: IsoPlan, sink: PooledSink): Promise<void> {
  try {
    await streamIso(plan, sink);
    await sink.end();
  } finally {
    // never leave a write in flight when the file is committed or removed
    await sink.settle().catch(() => undefined);
    await sink.close();
  }
}

/**
 * The digests of the file at `path`, written whole (`size` bytes), read back into the taps' pool
 * (on `workers` when given, where the next buffer is read while the last is hashed).
 */
async function digestsOfWritten(path: string, size: number, algorithms: readonly DigestName[], workers: SharedBuffers | undefined, onBytes: (n: number) => void): Promise<Partial<Record<DigestName, string>>> {
  const read = async (taps: PoolTaps) => {
    const fh = await open(path, 'r');
    try {
      for (let pos = 0, i = 0; pos < size; i = (i + 1) % taps.buffers.length) {
        await taps.free(i);
        const buffer = taps.buffers[i]!;
        const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, size - pos), pos);
        if (bytesRead === 0) throw new Error(`${path} ends at byte ${pos}, before the ${size} written`);
        taps.hash(i, bytesRead);
        pos += bytesRead;
        onBytes(bytesRead);
      }
      for (let i = 0; i < taps.buffers.length; i++) await taps.free(i);
    } finally {
      await fh.close();
    }
  };
  if (workers) {
    await read(workers);
    return digestsFrom(algorithms, await workers.finish());
  }
  const results = await withTaps(digestSpecs(algorithms), size, async (taps) => {
    await read(new InlinePool([taps]));
    return taps.finish();
  });
  return digestsFrom(algorithms, results);
}

/** The bytes of the files among `entries`: a large image is at least as large. */
function filesBytes(entries: readonly ResolvedEntry[]): number {
  let n = 0;
  for (const e of entries) if (e.type === 'file') n += e.content.size;
  return n;
}

/**
 * Write `entries` as an ISO image at `out` (atomically: nothing appears at `out` on failure).
 * Single pass over the inputs; the written image is re-read once only when digests are wanted
 * together with an implanted MD5, because they must cover the patched field.
 */
export async function emitIso(entries: readonly ResolvedEntry[], out: string, options: EmitIsoOptions, ctx: Context): Promise<EmitIsoResult> {
  const wanted = [...new Set(options.digests ?? [])];
  // with an implanted MD5 the file's digests cover the field written after the last byte: they are taken on a re-read
  const streamed = options.implantMd5 ? [] : wanted;
  const reread = options.implantMd5 ? wanted : [];
  const writeTaps = (options.implantMd5 ? 1 : 0) + streamed.length;
  // a large image's taps hash its pool in place on workers; when its files alone make it large,
  // they start before it is planned, so that starting them overlaps the planning (~0.1-0.3 s each)
  let workers = writeTaps > 0 && filesBytes(entries) >= OFF_THREAD_FROM ? new ImageWorkers(writeTaps, reread) : undefined;
  try {
    const plan = planIso(entries, { ...options, epoch: ctx.epoch, mediaCheck: Boolean(options.implantMd5) });
    for (const { path, joliet } of plan.jolietCut) {
      ctx.warn(`Joliet name cut to ${joliet.length} characters: /${path} is "${joliet}" for Windows readers (Rock Ridge keeps the full name${joliet.length < 103 ? '; -joliet-long allows 103' : ''})`);
    }
    const size = plan.imageBlocks * 2048;
    const specs = [
      ...(options.implantMd5 ? [{ kind: 'media-check', volumeBytes: plan.volumeBlocks * 2048, supportedIso: Boolean(options.supportedIso) } as const] : []),
      ...digestSpecs(streamed),
    ];
    workers ??= writeTaps > 0 && size >= OFF_THREAD_FROM ? new ImageWorkers(writeTaps, reread) : undefined;
    workers?.write.configure(specs);

    ctx.progress.phase(`writing ${out}`, size);
    const result: EmitIsoResult = { size };
    let digests: Partial<Record<DigestName, string>> = {};
    await AtomicFile.with(out, [], async (file) => {
      const results = await writeImage(plan, file, specs, workers?.write, (n) => ctx.progress.advance(n));
      if (options.implantMd5) {
        const field = Buffer.from(results[0]!, 'latin1');
        await file.patch(FIELD_OFFSET, field);
        result.implantedMd5 = /ISO MD5SUM = ([0-9a-f]{32})/.exec(results[0]!)![1]!;
        if (wanted.length > 0) {
          ctx.progress.note(`re-reading ${out} once for ${wanted.join(' and ')}: they must cover the implanted media-check MD5`);
          ctx.progress.phase(`hashing ${out} (${wanted.join(', ')})`, size);
          // the disk catches up while the image is read back from the page cache
          const synced = file.sync();
          synced.catch(() => undefined);
          digests = await digestsOfWritten(file.tempPath, size, wanted, workers?.reread, (n) => ctx.progress.advance(n));
          await synced;
        }
      } else {
        digests = digestsFrom(streamed, results);
      }
    });
    if (digests.md5) result.md5 = digests.md5;
    if (digests.sha256) result.sha256 = digests.sha256;
    return result;
  } finally {
    await workers?.close();
  }
}
