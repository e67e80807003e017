/**
 * The write pipeline (libarchive's format × filter): a format writer (ISO, cpio, tar, zip, FAT)
 * writes into a `Sink`; stages (compressors, checksum taps, a size counter) wrap the sink in any
 * order, and the last sink is the one atomic output file. No format knows what follows it.
 *
 *     format ──► stage ──► stage ──► … ──► AtomicFile (temp beside target, fsync, rename)
 */
import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { gzipStream } from '../formats/compress/gzip-pieces.js';
import { xzEncoder } from '../formats/compress/index.js';
import type { Sink as FormatSink } from '../formats/iso9660/stream.js';
import type { AtomicFile, Tap } from './atomic.js';

/** Where a format writer's bytes go: written in order, then ended once. */
export interface Sink extends FormatSink {
  /** After the last byte: flush what the stage holds and end the sink after it. */
  end(): Promise<void>;
}

/**
 * One step between a format writer and the output. A tap sees the bytes that pass without changing
 * them; a filter turns them into other bytes (a compressor). Taps directly in front of the output
 * run inside its write loop, on its buffers (see `outputSink`).
 */
export type Stage = { readonly kind: 'tap'; readonly tap: Tap } | { readonly kind: 'filter'; wrap(next: Sink): Sink };

export function tap(t: Tap): Stage {
  return { kind: 'tap', tap: t };
}

/** Counts the bytes that pass it. */
export class SizeCounter implements Tap {
  bytes = 0;
  update(chunk: Uint8Array): void {
    this.bytes += chunk.length;
  }
}

/**
 * A compressor named in a plan (plans are data: a stage holds state, so it is made per write).
 * `xz-crc32`: xz with the CRC32 check, the only one the kernel's initramfs decoder and linuxrc know.
 */
export type Filter = 'gzip' | 'xz' | 'xz-crc32';

export function filterStage(f: Filter): Stage {
  return f === 'gzip' ? gzip() : f === 'xz' ? xz() : xz({ check: 'crc32' });
}

/**
 * gzip -9 in pieces deflated several at once (`formats/compress`'s `gzipStream`): no name, no
 * mtime, pieces at fixed offsets, so equal bytes in give equal bytes out on any machine.
 */
export function gzip(level = 9): Stage {
  return transformStage(() => Duplex.from((input: AsyncIterable<Uint8Array>) => gzipStream(input, { level })));
}

/** xz (`formats/compress`'s threaded encoder: fixed blocks, so the bytes do not depend on the machine). */
export function xz(opts: { level?: number; check?: 'crc32' | 'crc64' | 'sha256' } = {}): Stage {
  return transformStage(() => xzEncoder(opts));
}

/** A filter from a Node transform stream, with its back-pressure and errors carried through. */
function transformStage(make: () => Duplex | Promise<Duplex>): Stage {
  return {
    kind: 'filter',
    wrap(next) {
      let started: Promise<{ t: Duplex; pump: Promise<void> }> | undefined;
      const start = () =>
        (started ??= Promise.resolve(make()).then((t) => {
          const pump = (async () => {
            for await (const chunk of t) await next.write(chunk as Uint8Array);
          })();
          // a failure downstream stops the transform too, so no write waits for a drain forever
          pump.catch((err: unknown) => t.destroy(err as Error));
          return { t, pump };
        }));
      return {
        async write(chunk) {
          const { t, pump } = await start();
          // the writer may reuse its chunk once this returns; the transform keeps it until it is done
          if (!t.write(Buffer.from(chunk))) await Promise.race([once(t, 'drain'), pump]);
        },
        async end() {
          const { t, pump } = await start();
          t.end();
          await pump;
          await next.end();
        },
      };
    },
  };
}

/** The sink a tap puts in front of `next`. */
function tapSink(t: Tap, next: Sink): Sink {
  return {
    async write(chunk) {
      await t.update(chunk);
      await next.write(chunk);
    },
    end: () => next.end(),
  };
}

/**
 * Compose `stages` (in the order the bytes meet them) in front of `last`, which gets the taps that
 * directly precede it: it can run them on its own buffers, overlapped with its writes.
 */
export function compose(stages: readonly Stage[], last: (taps: Tap[]) => Sink): Sink {
  let i = stages.length;
  const trailing: Tap[] = [];
  for (let s = stages[i - 1]; s?.kind === 'tap'; s = stages[--i - 1]) trailing.unshift(s.tap);
  let sink = last(trailing);
  for (let j = i - 1; j >= 0; j--) {
    const s = stages[j]!;
    sink = s.kind === 'tap' ? tapSink(s.tap, sink) : s.wrap(sink);
  }
  return sink;
}

/** Feed a format writer's chunks into a sink and end it. */
export async function drain(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, sink: Sink): Promise<void> {
  for await (const chunk of chunks) await sink.write(chunk);
  await sink.end();
}

/** The plain output sink: taps then the atomic file, chunk by chunk (the ISO emitter has a pooled one). */
export function fileSink(file: AtomicFile, taps: readonly Tap[], onBytes: (n: number) => void = () => undefined): Sink {
  return {
    async write(chunk) {
      for (const t of taps) await t.update(chunk);
      await file.write(chunk);
      onBytes(chunk.length);
    },
    async end() {},
  };
}

