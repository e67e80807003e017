import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UserError } from '../errors.js';

/**
 * Where a file's bytes come from. The size is known before any byte is produced, so emitters can
 * plan every extent first and then stream once; `open()` gives a fresh stream each call.
 */
export interface Source {
  readonly size: number;
  /** Human-readable origin for error messages ("acme.ko", "generated repomd.xml"). */
  readonly origin: string;
  open(): AsyncIterable<Uint8Array>;
  /**
   * Where the bytes lie on disk, when they do, so an emitter can read them straight into its own
   * buffers. `whole`: the range is the entire file, so a file that grew is noticed too.
   */
  readonly file?: { readonly path: string; readonly offset: number; readonly whole: boolean };
  /** A short string standing for the bytes, when one is known without reading them (see `tree/identity.ts`). */
  readonly key?: string;
}

export function bytesSource(data: Uint8Array | string, origin = 'generated'): Source {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let key: string | undefined;
  return {
    size: bytes.length,
    origin,
    // hashed only when asked: most bytes sources are never compared
    get key() {
      return (key ??= `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    },
    async *open() {
      if (bytes.length > 0) yield bytes;
    },
  };
}

/** A byte range of a file on disk (a whole file, or a member inside an input archive). */
export function sliceSource(path: string, offset: number, size: number, origin = path, whole = false): Source {
  return {
    size,
    origin,
    file: { path, offset, whole },
    async *open() {
      if (size === 0) return;
      let seen = 0;
      // small files get small buffers: one 1 MiB buffer per RPM of a repository is mostly garbage
      const stream = createReadStream(path, { start: offset, end: offset + size - 1, highWaterMark: Math.min(size, 1 << 20) });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        seen += chunk.length;
        yield chunk;
      }
      if (seen !== size) throw new UserError(`changed while being read (expected ${size} bytes, got ${seen})`, origin);
    },
  };
}

export async function fileSource(path: string): Promise<Source> {
  const st = await stat(path);
  if (!st.isFile()) throw new UserError('not a regular file', path);
  return sliceSource(path, 0, st.size, path, true);
}

/** Lower-case hex digest of the bytes of `sources`, one after the other (a package's MD5; XS-REPOSITORY then XS-PACKAGES). */
export async function digestOf(sources: Source | readonly Source[], algorithm: 'md5' | 'sha256' = 'md5'): Promise<string> {
  const h = createHash(algorithm);
  for (const s of Array.isArray(sources) ? sources : [sources]) for await (const chunk of s.open()) h.update(chunk);
  return h.digest('hex');
}

/** Collect a (small) source into memory; for metadata files, never for payloads. */
export async function readSource(source: Source): Promise<Uint8Array> {
  const out = new Uint8Array(source.size);
  let pos = 0;
  for await (const chunk of source.open()) {
    if (pos + chunk.length > out.length) throw new UserError('longer than its planned size', source.origin);
    out.set(chunk, pos);
    pos += chunk.length;
  }
  if (pos !== out.length) throw new UserError('shorter than its planned size', source.origin);
  return out;
}
