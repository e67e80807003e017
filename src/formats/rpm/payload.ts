/**
 * The payload of a package being written: cpio newc (`./` names, header order, c_ino = FILEINODES)
 * → compressor → spool file, in one pass. Each file is read once; its digest, the uncompressed
 * size and SHA-256 (PAYLOADDIGESTALT) and the compressed SHA-256 (PAYLOADDIGEST) are computed as
 * the bytes pass, because the main header that carries them is built afterwards.
 *
 * An xz payload is one stream of blocks, a gzip payload one member of deflate pieces, both cut at
 * the data of each large file (`payloadCuts`), so the blocks or pieces of a module depend on the
 * module alone and a build compresses each module once however many packages (kernels, targets)
 * carry it; they are compressed several at once.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { GZIP_PIECE_SIZE, gzipPieces, type GzipPieceMemo } from '../compress/gzip-pieces.js';
import { xzBlockSize } from '../compress/index.js';
import type { BlockCut } from '../compress/pieces.js';
import { xzBlocks, type XzBlockMemo } from '../compress/xz-blocks.js';
import { writeCpio, type CpioMember } from '../cpio/index.js';
import { MAX_RPM_SIZE, type FileRecord } from './write-files.js';

export type PayloadCompressor = 'xz' | 'gzip';

/** Compressed large-file xz blocks and gzip pieces, one memo each. */
export interface PayloadMemos {
  xz: XzBlockMemo;
  gzip: GzipPieceMemo;
}

export interface PayloadOptions {
  compressor: PayloadCompressor;
  level: number;
  fileDigest: 'sha256' | 'md5';
  /** xz blocks or gzip pieces compressed at once (default: the cores, at most 3; xz within 128 MiB); the bytes are the same for any count. */
  threads?: number;
  /** The build's compressed large-file blocks and pieces, shared by all its packages. */
  memo?: PayloadMemos;
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
const TRAILER = 'TRAILER!!!';
const pad4 = (n: number): number => (4 - (n % 4)) % 4;
/** A member's header, name and padding up to its data. */
const headSize = (name: string): number => {
  const head = CPIO_HEADER + Buffer.byteLength(name) + 1;
  return head + pad4(head);
};
const memberName = (r: FileRecord): string => `./${r.path.slice(1)}`;

/** The exact cpio size, known before anything is read (the 4 GiB refusal happens up front). */
export function cpioSize(records: readonly FileRecord[]): number {
  let total = headSize(TRAILER);
  for (const r of records) if (!r.ghost) total += headSize(memberName(r)) + r.size + pad4(r.size);
  return total;
}

/**
 * Regular files of at least this size get blocks of their own: the modules worth compressing
 * once are larger. Below it an own block's cost (xz: some 60 bytes of header, SHA-256 check and
 * index record; both: the preceding files lost as context) grows against a saving that is
 * small anyway, as such a file compresses in milliseconds. Measured at 70–100 KB module-like
 * files: xz payloads 0.6% larger than one run of 6 MiB blocks.
 */
const OWN_BLOCKS_FROM = 64 << 10;

/**
 * Where the blocks (or pieces) of a cpio archive start and end: each file of `OWN_BLOCKS_FROM`
 * bytes or more begins a block at its first data byte, split every `blockSize` bytes counted from
 * there, and its last byte ends a block; everything else (headers, names, padding, small files)
 * goes into glue blocks between them, split every `blockSize` bytes from the glue's start. So a
 * file's blocks depend on its bytes alone, not on what precedes it.
 */
function* payloadCuts(records: readonly FileRecord[], blockSize: number): Generator<BlockCut> {
  let glue = 0;
  function* glueBlocks(): Generator<BlockCut> {
    for (; glue > 0; glue -= Math.min(glue, blockSize)) yield { size: Math.min(glue, blockSize), reusable: false };
  }
  for (const r of records) {
    if (r.ghost) continue;
    glue += headSize(memberName(r));
    if (r.content && r.size >= OWN_BLOCKS_FROM) {
      yield* glueBlocks();
      for (let at = 0; at < r.size; at += blockSize) yield { size: Math.min(blockSize, r.size - at), reusable: true, fileStart: at === 0 };
    } else {
      glue += r.size;
    }
    glue += pad4(r.size);
  }
  glue += headSize(TRAILER);
  yield* glueBlocks();
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
        name: memberName(r),
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

  const { level, threads, memo } = opts;
  const shared = threads ? { threads } : {};
  const compressed =
    opts.compressor === 'xz'
      ? xzBlocks(tapped(), payloadCuts(records, xzBlockSize(level)), { level, check: 'sha256', ...shared, ...(memo ? { memo: memo.xz } : {}) })
      : gzipPieces(tapped(), payloadCuts(records, GZIP_PIECE_SIZE), { level, ...shared, ...(memo ? { memo: memo.gzip } : {}) });
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
