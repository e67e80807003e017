/**
 * A worker thread running one tap. Started by `off-thread.ts`, it hashes each span of the shared
 * ring it is told about, in order, and says when it is done with it so the span can be refilled.
 * Started by `trailing-taps.ts`, it reads the output file itself, up to where it is told the file
 * is written, and says how far it has hashed. Started by `hash-pool.ts`, it reads and hashes whole
 * file ranges it is told, one after another, each with a fresh tap, handing back each one's digest
 * and first bytes (a package's headers), so the files' bytes cross no thread.
 */
import { readSync } from 'node:fs';
import { ChangedWhileRead, readRangeSync } from '../tree/hashing.js';
import { parentPort, workerData } from 'node:worker_threads';
import { makeTap, type TapSpec } from './taps.js';

/** A whole file range for a pool's worker to read and hash; its first `keep` bytes come back. */
export interface FileRange {
  readonly file: string;
  readonly offset: number;
  readonly size: number;
  readonly keep: number;
}
/** A file range that could not be read: the error's fields, so the main thread reports it as it would its own. */
export interface FileFailure {
  readonly message: string;
  readonly code?: string;
  readonly syscall?: string;
  readonly path?: string;
  /** Shorter than it was when planned. */
  readonly changed?: boolean;
}
/** From the main thread: a span of the ring to take in, how far the file is written, the end of the bytes, or a file range. */
export type ToWorker = { readonly start: number; readonly length: number } | { readonly readTo: number } | { readonly end: true } | FileRange;
/**
 * To the main thread: a span taken in (its start), bytes of the file hashed so far, the tap's
 * result, or why it failed; for a file range, its digest and first bytes, or why it was not read.
 */
export type FromWorker =
  | { readonly done: number }
  | { readonly hashed: number }
  | { readonly result: string }
  | { readonly error: string }
  | { readonly fileHashed: string; readonly head: Uint8Array }
  | { readonly fileFailed: FileFailure };
/** What the worker is started with: its tap, and the ring or the descriptor of the file it reads, or `files` (a pool's). */
export type WorkerInput = { readonly spec: TapSpec } & ({ readonly ring: SharedArrayBuffer } | { readonly fd: number } | { readonly files: true });

const input = workerData as WorkerInput;
const port = parentPort!;
const reply = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let tap: ReturnType<typeof makeTap> | undefined;
try {
  tap = makeTap(input.spec);
} catch (err) {
  reply({ error: (err as Error).message });
}

const READ = 4 << 20;
let buffer: Buffer | undefined;
let hashed = 0;

/** Read the file from where the last call stopped up to `end`, through one reused buffer. */
function readFile(fd: number, end: number, t: NonNullable<typeof tap>): void {
  buffer ??= Buffer.allocUnsafe(READ);
  while (hashed < end) {
    const n = readSync(fd, buffer, 0, Math.min(READ, end - hashed), hashed);
    if (n === 0) throw new Error(`the output ends at byte ${hashed}, before the ${end} written`);
    t.update(buffer.subarray(0, n));
    hashed += n;
  }
}

/** Read and hash a whole file range with a fresh tap (the last one's result is taken), keeping its first bytes. */
function takeFile(m: FileRange): void {
  buffer ??= Buffer.allocUnsafe(READ);
  const t = makeTap(input.spec);
  let head: Uint8Array;
  try {
    head = readRangeSync(m.file, m.offset, m.size, m.keep, buffer, (chunk) => t.update(chunk));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const changed = err instanceof ChangedWhileRead;
    reply({ fileFailed: { message: changed ? err.reason : e.message, ...(e.code ? { code: e.code } : {}), ...(e.syscall ? { syscall: e.syscall } : {}), ...(e.path ? { path: e.path } : {}), ...(changed ? { changed } : {}) } });
    return;
  }
  reply({ fileHashed: t.finish(), head }, [head.buffer as ArrayBuffer]);
}

port.on('message', (m: ToWorker) => {
  if (!tap) return;
  if ('file' in m) return takeFile(m);
  try {
    if ('end' in m) reply({ result: tap.finish() });
    else if ('readTo' in m) {
      if (!('fd' in input)) throw new Error('told to read a file it was not given');
      readFile(input.fd, m.readTo, tap);
      reply({ hashed });
    } else {
      if (!('ring' in input)) throw new Error('told to read a ring it was not given');
      tap.update(new Uint8Array(input.ring, m.start, m.length));
      reply({ done: m.start });
    }
  } catch (err) {
    tap = undefined;
    reply({ error: (err as Error).message });
  }
});
