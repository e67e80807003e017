/**
 * A worker thread running one tap. Started by `off-thread.ts`, it hashes each span of the shared
 * ring it is told about, in order, and says when it is done with it so the span can be refilled.
 * Started by `trailing-taps.ts`, it reads the output file itself, up to where it is told the file
 * is written, and says how far it has hashed.
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { makeTap, type TapSpec } from './taps.js';

/** From the main thread: a span of the ring to take in, how far the file is written, or the end of the bytes. */
export type ToWorker = { readonly start: number; readonly length: number } | { readonly readTo: number } | { readonly end: true };
/** To the main thread: a span taken in (its start), bytes of the file hashed so far, the tap's result, or why it failed. */
export type FromWorker = { readonly done: number } | { readonly hashed: number } | { readonly result: string } | { readonly error: string };
/** What the worker is started with: its tap, and the ring or the descriptor of the file it reads. */
export type WorkerInput = { readonly spec: TapSpec } & ({ readonly ring: SharedArrayBuffer } | { readonly fd: number });

const input = workerData as WorkerInput;
const port = parentPort!;
const reply = (m: FromWorker) => port.postMessage(m);
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

port.on('message', (m: ToWorker) => {
  if (!tap) return;
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
