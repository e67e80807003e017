/**
 * A worker thread running one tap. Started by `off-thread.ts`, it hashes each span of the shared
 * buffers it is told about, in order, and says when it is done with it so the span can be
 * refilled. Started by `hash-pool.ts`, it reads and hashes whole file ranges it is told, one after
 * another, each with a fresh tap, handing back each one's digest and first bytes (a package's
 * headers), so the files' bytes cross no thread.
 */
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
/** From the main thread: the tap of a worker started without one, a span of the shared buffers to take in, the end of the bytes, or a file range. */
export type ToWorker = { readonly spec: TapSpec } | { readonly start: number; readonly length: number } | { readonly end: true } | FileRange;
/**
 * To the main thread: a span taken in (its start), the tap's result, or why it failed; for a file
 * range, its digest and first bytes, or why it was not read.
 */
export type FromWorker =
  | { readonly done: number }
  | { readonly result: string }
  | { readonly error: string }
  | { readonly fileHashed: string; readonly head: Uint8Array }
  | { readonly fileFailed: FileFailure };
/**
 * What the worker is started with: its tap and `files` (a pool's), or the shared buffers it reads
 * and its tap, or no tap yet (told it first, so that starting the thread overlaps the caller's work).
 */
export type WorkerInput = { readonly spec: TapSpec; readonly files: true } | { readonly spec?: TapSpec; readonly ring: SharedArrayBuffer };

const input = workerData as WorkerInput;
const port = parentPort!;
const reply = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
let spec: TapSpec | undefined;
let tap: ReturnType<typeof makeTap> | undefined;

function begin(s: TapSpec): void {
  spec = s;
  try {
    tap = makeTap(s);
  } catch (err) {
    reply({ error: (err as Error).message });
  }
}
if (input.spec) begin(input.spec);

const READ = 4 << 20;
let buffer: Buffer | undefined;
/** Read and hash a whole file range with a fresh tap (the last one's result is taken), keeping its first bytes. */
function takeFile(m: FileRange): void {
  buffer ??= Buffer.allocUnsafe(READ);
  const t = makeTap(spec!);
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
  if ('spec' in m) return begin(m.spec);
  if (!tap) return;
  if ('file' in m) return takeFile(m);
  try {
    if ('end' in m) reply({ result: tap.finish() });
    else {
      if (!('ring' in input)) throw new Error('told to read shared buffers it was not given');
      tap.update(new Uint8Array(input.ring, m.start, m.length));
      reply({ done: m.start });
    }
  } catch (err) {
    tap = undefined;
    reply({ error: (err as Error).message });
  }
});
