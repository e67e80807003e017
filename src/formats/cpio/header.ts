import { FormatError } from '../../errors.js';

/** Pure encode/decode of one cpio header; the stream state machines live in write.ts / read.ts. */

/** `bin`: the old binary format (magic 070707 as a 16-bit number, either byte order), read on request. */
export type CpioFormat = 'newc' | 'crc' | 'odc' | 'bin';

export const NEWC_HEADER_SIZE = 110;
export const ODC_HEADER_SIZE = 76;
export const BIN_HEADER_SIZE = 26;
export const TRAILER_NAME = 'TRAILER!!!';
/** Kernel PATH_MAX, including the NUL. */
export const MAX_NAME_SIZE = 4096;
/** rpm's limit, and the largest size newc can carry without ambiguity (cpio.md rule 6). */
export const MAX_MEMBER_SIZE = 0xffffffff - 1;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** Every numeric field of a header; names follow the newc layout. */
export interface CpioFields {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  mtime: number;
  size: number;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  check: number;
}

/** Fields in header order after the magic. */
const NEWC_ORDER = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'size', 'devMajor', 'devMinor', 'rdevMajor', 'rdevMinor'] as const;

export function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/** Header, name, NUL and the padding that brings header + name to a 4-byte boundary. */
export function encodeNewcHeader(format: 'newc' | 'crc', f: CpioFields, nameBytes: Uint8Array): Uint8Array {
  const namesize = nameBytes.length + 1;
  const total = NEWC_HEADER_SIZE + namesize + pad4(NEWC_HEADER_SIZE + namesize);
  const out = new Uint8Array(total);
  let text = format === 'crc' ? '070702' : '070701';
  for (const key of NEWC_ORDER) text += hex8(f[key], key);
  text += hex8(namesize, 'namesize') + hex8(f.check, 'check');
  for (let i = 0; i < NEWC_HEADER_SIZE; i++) out[i] = text.charCodeAt(i);
  out.set(nameBytes, NEWC_HEADER_SIZE);
  return out;
}

function hex8(v: number, field: string): string {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`cpio field ${field} out of range: ${v}`);
  return v.toString(16).padStart(8, '0');
}

/** Identify a header from its first 6 bytes; FormatError for anything this reader does not read. */
export function detectMagic(b: Uint8Array, offset: number, binary = false): CpioFormat {
  const s = ascii(b.subarray(0, 6));
  if (s === '070701') return 'newc';
  if (s === '070702') return 'crc';
  if (s === '070707') return 'odc';
  if (s === '07070X') throw new FormatError(`rpm "stripped" cpio header (07070X) at offset ${offset}: only valid inside RPM payloads with large files, not supported here`);
  const isBinary = (b[0] === 0xc7 && b[1] === 0x71) || (b[0] === 0x71 && b[1] === 0xc7);
  if (isBinary && binary) return 'bin';
  if (isBinary) throw new FormatError(`old binary cpio header at offset ${offset}: not supported (use newc)`);
  throw new FormatError(`no cpio magic at offset ${offset} (found ${JSON.stringify(s)})`);
}

/** Decode a 110-byte newc/crc header; returns the fields and c_namesize. */
export function decodeNewcHeader(b: Uint8Array, offset: number): { fields: CpioFields; namesize: number } {
  const num = (i: number, field: string) => parseDigits(b, 6 + i * 8, 8, 16, field, offset);
  const fields = {} as CpioFields;
  NEWC_ORDER.forEach((key, i) => (fields[key] = num(i, key)));
  const namesize = num(11, 'namesize');
  fields.check = num(12, 'check');
  return { fields, namesize };
}

/**
 * Decode a 26-byte old binary header: 16-bit fields in the byte order its magic shows (c7 71:
 * little-endian), mtime and file size as two 16-bit halves, most significant first.
 */
export function decodeBinHeader(b: Uint8Array): { fields: CpioFields; namesize: number } {
  const le = b[0] === 0xc7;
  const u16 = (i: number) => (le ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!);
  const u32 = (i: number) => u16(i) * 65536 + u16(i + 2);
  const dev = u16(2);
  const rdev = u16(14);
  const fields: CpioFields = {
    ino: u16(4),
    mode: u16(6),
    uid: u16(8),
    gid: u16(10),
    nlink: u16(12),
    mtime: u32(16),
    size: u32(22),
    devMajor: dev >> 8,
    devMinor: dev & 0xff,
    rdevMajor: rdev >> 8,
    rdevMinor: rdev & 0xff,
    check: 0,
  };
  return { fields, namesize: u16(20) };
}

/** Decode a 76-byte odc header (octal fields, no padding anywhere). */
export function decodeOdcHeader(b: Uint8Array, offset: number): { fields: CpioFields; namesize: number } {
  const num = (at: number, len: number, field: string) => parseDigits(b, at, len, 8, field, offset);
  const dev = num(6, 6, 'dev');
  const rdev = num(42, 6, 'rdev');
  // odc stores dev_t as one number; split it as the classic 16-bit encoding (major << 8 | minor)
  const fields: CpioFields = {
    ino: num(12, 6, 'ino'),
    mode: num(18, 6, 'mode'),
    uid: num(24, 6, 'uid'),
    gid: num(30, 6, 'gid'),
    nlink: num(36, 6, 'nlink'),
    mtime: num(48, 11, 'mtime'),
    size: num(65, 11, 'filesize'),
    devMajor: Math.floor(dev / 256),
    devMinor: dev % 256,
    rdevMajor: Math.floor(rdev / 256),
    rdevMinor: rdev % 256,
    check: 0,
  };
  return { fields, namesize: num(59, 6, 'namesize') };
}

function parseDigits(b: Uint8Array, at: number, len: number, radix: 8 | 16, field: string, offset: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const c = b[i]!;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (radix === 16 && c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (radix === 16 && c >= 0x41 && c <= 0x46) d = c - 0x37;
    else d = radix;
    if (d >= radix) {
      throw new FormatError(`bad cpio header at offset ${offset}: field ${field} has non-${radix === 16 ? 'hex' : 'octal'} digit ${JSON.stringify(String.fromCharCode(c))}`);
    }
    v = v * radix + d;
  }
  return v;
}

function ascii(b: Uint8Array): string {
  return String.fromCharCode(...b);
}
