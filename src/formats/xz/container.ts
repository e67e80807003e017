/**
 * The .xz container (tukaani xz-file-format 1.2): stream header and footer, block headers for
 * one LZMA2 filter with both sizes recorded, block padding, the integrity check, and the index.
 * Pure bytes in, bytes out: the LZMA2 data inside a block comes from a raw encoder elsewhere, so
 * blocks can be made independently (in parallel, or once for many streams) and joined here.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc64 } from './crc64.js';

export type XzCheck = 'crc32' | 'crc64' | 'sha256';

const CHECK_ID: Readonly<Record<XzCheck, number>> = { crc32: 0x01, crc64: 0x04, sha256: 0x0a };
export const CHECK_SIZE: Readonly<Record<XzCheck, number>> = { crc32: 4, crc64: 8, sha256: 32 };
const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];
const FILTER_LZMA2 = 0x21;

/** The check field of a block over its uncompressed bytes, as stored (little-endian CRCs). */
export function blockCheck(check: XzCheck, data: Uint8Array): Uint8Array {
  switch (check) {
    case 'crc32':
      return le32(crc32(data));
    case 'crc64':
      return new Crc64().update(data).digest();
    case 'sha256':
      return createHash('sha256').update(data).digest();
  }
}

/** Multibyte integer: 7 bits a byte, least significant first, high bit set on all but the last. */
function vli(n: number): number[] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`xz: size ${n} is not a valid integer`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function le32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

/** `bytes` followed by the CRC32 of them. */
function withCrc32(bytes: number[]): Uint8Array {
  const body = Uint8Array.from(bytes);
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  out.set(le32(crc32(body)), body.length);
  return out;
}

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

export function streamHeader(check: XzCheck): Uint8Array {
  const flags = Uint8Array.of(0x00, CHECK_ID[check]);
  return Uint8Array.from([...MAGIC, ...flags, ...le32(crc32(flags))]);
}

/**
 * The LZMA2 dictionary-size property: the smallest 2^n or 2^n + 2^(n-1) (from 4 KiB) that holds
 * `dictSize`, as liblzma encodes it, so a decoder allocates what the encoder used.
 */
export function lzma2DictProperty(dictSize: number): number {
  for (let p = 0; p < 40; p++) if ((2 | (p & 1)) * 2 ** (Math.floor(p / 2) + 11) >= dictSize) return p;
  return 40;
}

/**
 * A block header with the compressed and uncompressed sizes recorded (as liblzma's threaded
 * encoder and `rpmbuild w2T.xzdio` write them) and the single LZMA2 filter.
 */
export function blockHeader(compressedSize: number, uncompressedSize: number, dictSize: number): Uint8Array {
  const fields = [0x40 | 0x80, ...vli(compressedSize), ...vli(uncompressedSize), FILTER_LZMA2, 1, lzma2DictProperty(dictSize)];
  // size byte + fields + padding + CRC32 is a multiple of 4; the size byte stores that total / 4 - 1
  const total = 1 + fields.length + 4;
  const size = total + pad4(total);
  return withCrc32([size / 4 - 1, ...fields, ...new Array<number>(pad4(total)).fill(0)]);
}

/** A block as it appears in the stream, and what its index record needs. */
export interface XzBlock {
  bytes: Uint8Array;
  /** Header + compressed data + check, without the block padding (the index's Unpadded Size). */
  unpaddedSize: number;
  uncompressedSize: number;
}

/** Frame raw LZMA2 data (with its end marker) of `uncompressedSize` bytes whose check is `checkBytes`. */
export function frameBlock(lzma2: Uint8Array, uncompressedSize: number, checkBytes: Uint8Array, dictSize: number): XzBlock {
  const header = blockHeader(lzma2.length, uncompressedSize, dictSize);
  const padding = pad4(lzma2.length);
  const bytes = new Uint8Array(header.length + lzma2.length + padding + checkBytes.length);
  bytes.set(header);
  bytes.set(lzma2, header.length);
  bytes.set(checkBytes, header.length + lzma2.length + padding);
  return { bytes, unpaddedSize: header.length + lzma2.length + checkBytes.length, uncompressedSize };
}

export type IndexRecord = Pick<XzBlock, 'unpaddedSize' | 'uncompressedSize'>;

/** The index: indicator, record count, one record per block, padding, CRC32. */
export function streamIndex(records: readonly IndexRecord[]): Uint8Array {
  const bytes = [0x00, ...vli(records.length)];
  for (const r of records) bytes.push(...vli(r.unpaddedSize), ...vli(r.uncompressedSize));
  bytes.push(...new Array<number>(pad4(bytes.length)).fill(0));
  return withCrc32(bytes);
}

/** The footer, pointing back over an index of `indexSize` bytes. */
export function streamFooter(check: XzCheck, indexSize: number): Uint8Array {
  const body = [...le32(indexSize / 4 - 1), 0x00, CHECK_ID[check]];
  const crc = le32(crc32(Uint8Array.from(body)));
  return Uint8Array.from([...crc, ...body, ...FOOTER_MAGIC]);
}
