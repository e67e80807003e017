/**
 * The one way a medium file is written: the format writes into the composed stages, the digest
 * taps of the written bytes come last (on worker threads, `off-thread.ts`), and the file appears
 * atomically. The ISO emitter shares the pieces but brings its own pooled output sink. Files derived from the medium (its checksum
 * files among them) are made from the digests by `derived.ts`.
 */
import type { Context } from '../context.js';
import { AtomicFile, type DigestName } from './atomic.js';
import type { Emitted } from './index.js';
import { digestsFrom, digestSpecs, withTaps } from './off-thread.js';
import { compose, fileSink, tap, type Sink, type Stage } from './pipeline.js';

export interface OutputOptions {
  /** Stages between the format writer and the file, in the order the bytes meet them (a compressor). */
  stages?: readonly Stage[];
  /** Digests of the file as written, taken as the bytes pass. */
  digests?: readonly DigestName[];
  /** Progress: the bytes the phase expects, and whether the written bytes advance it (else the writer does). */
  total?: number;
  countWritten?: boolean;
}

export async function emitOutput(out: string, opts: OutputOptions, ctx: Context, write: (sink: Sink) => Promise<void>): Promise<Emitted> {
  const wanted = [...new Set(opts.digests ?? [])];
  ctx.progress.phase(`writing ${out}`, opts.total);
  const count = opts.countWritten === false ? undefined : (n: number) => ctx.progress.advance(n);
  return withTaps(digestSpecs(wanted), opts.total, (hashes) =>
    AtomicFile.with(out, [], async (file) => {
      await write(compose([...(opts.stages ?? []), tap(hashes)], (taps) => fileSink(file, taps, count)));
      return { path: out, size: file.size, ...digestsFrom(wanted, await hashes.finish()) };
    }),
  );
}
