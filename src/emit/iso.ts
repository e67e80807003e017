/**
 * ISO 9660 emitter: plans the image, streams it once into an atomic output file through checksum
 * taps, implants the media-check MD5 with one 512-byte patch, and writes `.md5` / `.sha256`
 * sidecars. Layouts call `emitIso`; the `dudkit iso` command is a thin shell over it.
 */
import { createReadStream } from 'node:fs';
import type { Context } from '../context.js';
import { FIELD_OFFSET, MediaCheckTap } from '../formats/isomd5.js';
import { planIso, type IsoOptions } from '../formats/iso9660/plan.js';
import { streamIso, type Sink } from '../formats/iso9660/stream.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { AtomicFile, HashTap, writeChecksumFiles, type DigestName, type Tap } from './atomic.js';

export interface EmitIsoOptions extends Omit<IsoOptions, 'epoch' | 'mediaCheck'> {
  /** Implant the isomd5sum media-check record (what `implantisomd5` writes). */
  readonly implantMd5?: boolean;
  /** `RHLISOSTATUS=1` in that record (`implantisomd5 --supported-iso`). */
  readonly supportedIso?: boolean;
  /** Sidecar checksum files to write beside the image (`<out>.md5`, `<out>.sha256`). */
  readonly checksums?: readonly DigestName[];
}

export interface EmitIsoResult {
  /** Image size in bytes. */
  size: number;
  md5?: string;
  sha256?: string;
  /** The implanted media-check MD5 (not the MD5 of the file). */
  implantedMd5?: string;
  /** Sidecar files written. */
  sidecars: string[];
}

/**
 * Coalesces the writer's many small pieces (descriptors, records, padding) into large writes and
 * passes big file chunks through untouched; one buffer per image, no allocation per chunk.
 */
class BufferedSink implements Sink {
  private readonly buf = Buffer.allocUnsafe(4 << 20);
  private used = 0;
  constructor(private readonly out: AtomicFile, private readonly onBytes: (n: number) => void) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.onBytes(chunk.length);
    if (this.used === 0 && chunk.length >= 256 << 10) return this.out.write(chunk);
    if (this.used + chunk.length > this.buf.length) await this.flush();
    if (chunk.length >= this.buf.length) return this.out.write(chunk);
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    await this.out.write(this.buf.subarray(0, n));
  }
}

async function hashFile(path: string, algorithms: readonly DigestName[]): Promise<Partial<Record<DigestName, string>>> {
  const taps = algorithms.map((a) => new HashTap(a));
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) for (const t of taps) t.update(chunk);
  return Object.fromEntries(taps.map((t) => [t.algorithm, t.hex()]));
}

/**
 * Write `entries` as an ISO image at `out` (atomically: nothing appears at `out` on failure).
 * Single pass over the inputs; the written image is re-read once only when sidecar checksums are
 * wanted together with an implanted MD5, because those must cover the patched field.
 */
export async function emitIso(entries: readonly ResolvedEntry[], out: string, options: EmitIsoOptions, ctx: Context): Promise<EmitIsoResult> {
  const plan = await planIso(entries, { ...options, epoch: ctx.epoch, mediaCheck: Boolean(options.implantMd5) });
  const size = plan.volumeBlocks * 2048;
  const checksums = [...new Set(options.checksums ?? [])];
  const mediaCheck = options.implantMd5 ? new MediaCheckTap(size) : undefined;
  const hashTaps = options.implantMd5 ? [] : checksums.map((a) => new HashTap(a));
  const taps: Tap[] = [...(mediaCheck ? [mediaCheck] : []), ...hashTaps];

  ctx.progress.phase(`writing ${out}`, size);
  const result: EmitIsoResult = { size, sidecars: [] };
  let digests: Partial<Record<DigestName, string>> = {};
  await AtomicFile.with(out, taps, async (file) => {
    const sink = new BufferedSink(file, (n) => ctx.progress.advance(n));
    await streamIso(plan, sink);
    await sink.flush();
    if (mediaCheck) {
      const field = mediaCheck.field(options.supportedIso);
      await file.patch(FIELD_OFFSET, field);
      result.implantedMd5 = /ISO MD5SUM = ([0-9a-f]{32})/.exec(Buffer.from(field).toString('latin1'))![1]!;
      if (checksums.length > 0) {
        ctx.progress.note(`re-reading ${out} once for ${checksums.join(' and ')}: they must cover the implanted media-check MD5`);
        digests = await hashFile(file.tempPath, checksums);
      }
    } else {
      digests = Object.fromEntries(hashTaps.map((t) => [t.algorithm, t.hex()]));
    }
  });
  if (digests.md5) result.md5 = digests.md5;
  if (digests.sha256) result.sha256 = digests.sha256;
  result.sidecars = await writeChecksumFiles(out, digests);
  return result;
}
