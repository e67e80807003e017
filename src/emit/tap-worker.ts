/**
 * A worker thread running one tap (`off-thread.ts` starts it): it hashes each span of the shared
 * ring it is told about, in order, and says when it is done with it so the span can be refilled.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeTap, type TapSpec } from './taps.js';

/** From the main thread: a span of the ring to take in, or the end of the bytes. */
export type ToWorker = { readonly start: number; readonly length: number } | { readonly end: true };
/** To the main thread: a span taken in (its start), the tap's result, or why it failed. */
export type FromWorker = { readonly done: number } | { readonly result: string } | { readonly error: string };

const { spec, ring } = workerData as { spec: TapSpec; ring: SharedArrayBuffer };
const port = parentPort!;
const reply = (m: FromWorker) => port.postMessage(m);
let tap: ReturnType<typeof makeTap> | undefined;
try {
  tap = makeTap(spec);
} catch (err) {
  reply({ error: (err as Error).message });
}
port.on('message', (m: ToWorker) => {
  if (!tap) return;
  try {
    if ('end' in m) reply({ result: tap.finish() });
    else {
      tap.update(new Uint8Array(ring, m.start, m.length));
      reply({ done: m.start });
    }
  } catch (err) {
    tap = undefined;
    reply({ error: (err as Error).message });
  }
});
