/**
 * A metadata file written as it is generated: XML text in, gzip out to a scratch file, with the
 * checksum and size of both the XML ("open") and the compressed bytes computed on the way.
 * gzip comes from fflate, pinned in package-lock, so the compressed bytes (and therefore
 * repomd.xml and the file names) do not change with the Node.js build's zlib; the header carries
 * mtime 0, no name and OS byte 3 (Unix), as repodata.md asks.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Gzip } from 'fflate';
import { sliceSource, type Source } from '../../tree/source.js';
import type { ChecksumType } from './package.js';

export interface SpooledFile {
  source: Source;
  size: number;
  checksum: string;
  openSize: number;
  openChecksum: string;
}

const GZIP_LEVEL = 9;
const encoder = new TextEncoder();
/**
 * Compressed bytes held before they are written: fflate hands out a piece every few packages, and
 * one write each cost more than their compression (1000 packages: hundreds of thread-pool round trips).
 */
const WRITE_FROM = 256 << 10;

export class GzipSpool {
  private readonly xml: { hash: Hash; size: number };
  private readonly packed: { hash: Hash; size: number };
  private readonly gzip: Gzip;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  private constructor(
    private readonly path: string,
    private readonly fh: FileHandle,
    checksumType: ChecksumType,
    private readonly origin: string,
  ) {
    this.xml = { hash: createHash(checksumType), size: 0 };
    this.packed = { hash: createHash(checksumType), size: 0 };
    this.gzip = new Gzip({ level: GZIP_LEVEL, mtime: 0 });
    this.gzip.ondata = (chunk) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    };
  }

  static async create(path: string, checksumType: ChecksumType, origin: string): Promise<GzipSpool> {
    return new GzipSpool(path, await open(path, 'w'), checksumType, origin);
  }

  async write(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    this.xml.hash.update(bytes);
    this.xml.size += bytes.length;
    this.gzip.push(bytes);
    if (this.pendingBytes >= WRITE_FROM) await this.flush();
  }

  async finish(): Promise<SpooledFile> {
    try {
      this.gzip.push(new Uint8Array(0), true);
      await this.flush();
    } finally {
      await this.fh.close();
    }
    return {
      source: sliceSource(this.path, 0, this.packed.size, this.origin),
      size: this.packed.size,
      checksum: this.packed.hash.digest('hex'),
      openSize: this.xml.size,
      openChecksum: this.xml.hash.digest('hex'),
    };
  }

  /** Close the file after a failure; the scratch folder removes it. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    // the header is fixed in the gathered bytes, however fflate split its first pieces
    if (this.packed.size === 0) fixHeader(chunk);
    this.pending = [];
    this.pendingBytes = 0;
    this.packed.hash.update(chunk);
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, this.packed.size + done);
      done += bytesWritten;
    }
    this.packed.size += chunk.length;
  }
}

/** mtime 0 and OS 3 whatever the library defaults become (fflate emits the 10-byte header first). */
function fixHeader(chunk: Uint8Array): void {
  if (chunk.length < 10 || chunk[0] !== 0x1f || chunk[1] !== 0x8b) throw new Error('gzip stream did not start with its header');
  chunk.fill(0, 4, 8);
  chunk[9] = 3;
}

/** Gzip a small in-memory document (the group file) the same way. */
export function gzipSmall(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const gz = new Gzip({ level: GZIP_LEVEL, mtime: 0 }, (chunk) => parts.push(chunk));
  gz.push(data, true);
  const out = Buffer.concat(parts);
  fixHeader(out);
  return out;
}
