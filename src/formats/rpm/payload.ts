/**
 * The payload of a package being written: cpio newc (`./` names, header order, c_ino = FILEINODES)
 * → compressor → spool file, in one pass. Each file is read once; its digest, the uncompressed
 * size and SHA-256 (PAYLOADDIGESTALT) and the compressed SHA-256 (PAYLOADDIGEST) are computed as
 * the bytes pass, because the main header that carries them is built afterwards.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { compress } from '../compress/index.js';
import { writeCpio, type CpioMember } from '../cpio/index.js';
import { MAX_RPM_SIZE, type FileRecord } from './write-files.js';

export type PayloadCompressor = 'xz' | 'gzip';

export interface PayloadOptions {
  compressor: PayloadCompressor;
  level: number;
  fileDigest: 'sha256' | 'md5';
  /** xz encoder threads (default: `xzEncoder`'s); the bytes are the same for any count. */
  xzThreads?: number;
  /** Told of every cpio chunk as it goes into the compressor (its size). */
  onArchived?: (bytes: number) => void;
}

export interface SpooledPayload {
  path: string;
  /** Compressed bytes in the spool file. */
  size: number;
  /** Uncompressed cpio bytes (PAYLOADSIZE). */
  archiveSize: number;
  /** Hex SHA-256 of the compressed bytes (PAYLOADDIGEST). */
  digest: string;
  /** Hex SHA-256 of the cpio stream (PAYLOADDIGESTALT). */
  digestAlt: string;
  /** Per file, in file order: hex digest of regular non-ghost files, '' otherwise (FILEDIGESTS). */
  fileDigests: string[];
}

const CPIO_HEADER = 110;
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** The exact cpio size, known before anything is read (the 4 GiB refusal happens up front). */
export function cpioSize(records: readonly FileRecord[]): number {
  let total = 0;
  const entry = (nameBytes: number, size: number): number => {
    const head = CPIO_HEADER + nameBytes + 1;
    return head + pad4(head) + size + pad4(size);
  };
  for (const r of records) if (!r.ghost) total += entry(Buffer.byteLength(`./${r.path.slice(1)}`), r.size);
  return total + entry('TRAILER!!!'.length, 0);
}

export async function spoolPayload(records: readonly FileRecord[], spoolPath: string, opts: PayloadOptions): Promise<SpooledPayload> {
  const archiveSize = cpioSize(records);
  if (archiveSize >= MAX_RPM_SIZE) throw new RangeError(`payload would be ${archiveSize} bytes: RPM payloads of 4 GiB - 1 or more are not supported`);
  const fileDigests = records.map(() => '');

  async function* hashed(r: FileRecord, i: number): AsyncGenerator<Uint8Array> {
    const h = createHash(opts.fileDigest);
    for await (const chunk of r.content!.open()) {
      h.update(chunk);
      yield chunk;
    }
    fileDigests[i] = h.digest('hex');
  }

  function* members(): Generator<CpioMember> {
    for (const [i, r] of records.entries()) {
      if (r.ghost) continue;
      if (r.content && r.size === 0) fileDigests[i] = createHash(opts.fileDigest).digest('hex');
      yield {
        name: `./${r.path.slice(1)}`,
        mode: r.mode,
        mtime: r.mtime,
        size: r.size,
        ino: r.ino,
        ...(r.content && r.size > 0 ? { data: hashed(r, i) } : {}),
        ...(r.linkTo ? { linkTarget: r.linkTo } : {}),
      };
    }
  }

  const alt = createHash('sha256');
  let cpioBytes = 0;
  async function* tapped(): AsyncGenerator<Uint8Array> {
    for await (const chunk of writeCpio(members())) {
      alt.update(chunk);
      cpioBytes += chunk.length;
      opts.onArchived?.(chunk.length);
      yield chunk;
    }
  }

  const level = opts.level;
  const compressed = compress(tapped(), opts.compressor, opts.compressor === 'xz' ? { level, check: 'sha256', ...(opts.xzThreads ? { threads: opts.xzThreads } : {}) } : { level });
  const digest: Hash = createHash('sha256');
  let size = 0;
  const fh = await open(spoolPath, 'w');
  try {
    for await (const chunk of compressed) {
      digest.update(chunk);
      size += chunk.length;
      await fh.write(chunk);
    }
  } finally {
    await fh.close();
  }
  if (cpioBytes !== archiveSize) throw new Error(`internal: cpio payload is ${cpioBytes} bytes, planned ${archiveSize}`);
  return { path: spoolPath, size, archiveSize, digest: digest.digest('hex'), digestAlt: alt.digest('hex'), fileDigests };
}
