/** Directory records (ECMA-119 §9.1) and their packing into 2048-byte blocks. */
import { BLOCK, both16, both32, dirDate } from './numbers.js';

export const FLAG_DIRECTORY = 0x02;
export const FLAG_MULTI_EXTENT = 0x80;

/** Length of a record's fixed part plus identifier and its pad byte (always even). */
export function recordBase(idLength: number): number {
  return 33 + idLength + (idLength % 2 === 0 ? 1 : 0);
}

/** Room for system-use bytes in one record: LEN_DR is one byte and even, so at most 254. */
export function systemUseRoom(idLength: number): number {
  return 254 - recordBase(idLength);
}

export function recordLength(idLength: number, systemUse: number): number {
  const n = recordBase(idLength) + systemUse;
  return n + (n % 2);
}

export interface DirectoryRecord {
  readonly lba: number;
  readonly length: number;
  readonly flags: number;
  readonly id: Uint8Array;
  readonly epoch: number;
  readonly systemUse?: readonly Uint8Array[];
}

/** Encode one record at `buf[off]`; `systemUse` parts are copied in order. Returns its length. */
export function writeRecord(buf: Uint8Array, off: number, r: DirectoryRecord): number {
  let suLen = 0;
  for (const e of r.systemUse ?? []) suLen += e.length;
  const len = recordLength(r.id.length, suLen);
  buf.fill(0, off, off + len);
  buf[off] = len;
  both32(buf, off + 2, r.lba);
  both32(buf, off + 10, r.length);
  dirDate(buf, off + 18, r.epoch);
  buf[off + 25] = r.flags;
  both16(buf, off + 28, 1);
  buf[off + 32] = r.id.length;
  buf.set(r.id, off + 33);
  let p = off + recordBase(r.id.length);
  for (const e of r.systemUse ?? []) {
    buf.set(e, p);
    p += e.length;
  }
  return len;
}

/** Where a record of `length` bytes goes when the extent so far ends at `end`: never across a block boundary. */
export function recordOffset(end: number, length: number): number {
  return (end % BLOCK) + length > BLOCK ? Math.ceil(end / BLOCK) * BLOCK : end;
}

/** Size of a directory extent whose records end at `end`: whole blocks, at least one. */
export function extentSize(end: number): number {
  return Math.max(BLOCK, Math.ceil(end / BLOCK) * BLOCK);
}
