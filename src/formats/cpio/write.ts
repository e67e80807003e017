import { UserError } from '../../errors.js';
import { encodeNewcHeader, MAX_MEMBER_SIZE, MAX_NAME_SIZE, pad4, S_IFLNK, S_IFMT, S_IFREG, TRAILER_NAME, type CpioFields } from './header.js';

export interface CpioMember {
  /** As written into the archive, e.g. 'dd.iso' or './lib/modules/…'; never absolute. */
  name: string;
  /** Full st_mode including the type bits (0o100644, 0o40755, 0o120777). */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Data bytes (symlink: target length in UTF-8 bytes; directories 0). */
  size: number;
  /** File bytes; must yield exactly `size` bytes. */
  data?: Uint8Array | AsyncIterable<Uint8Array>;
  /** Symlinks: the target, stored as the member's data. */
  linkTarget?: string;
  /** Defaults: uid/gid 0, nlink 1 (for every type), ino numbered 1, 2, 3 … in emission order. */
  uid?: number;
  gid?: number;
  nlink?: number;
  ino?: number;
  devMajor?: number;
  devMinor?: number;
  rdevMajor?: number;
  rdevMinor?: number;
}

export interface WriteCpioOptions {
  /**
   * 'newc' (default; every kernel reads it) or 'crc'. crc puts the byte sum of the data in the
   * header, which precedes the data, so a crc regular file must carry its data as a Uint8Array;
   * for streamed data compute the sum in a first pass and use newc, or buffer the (small) file.
   */
  format?: 'newc' | 'crc';
  /** Pad the whole archive with NULs to a multiple of this (4 default; 512 matches GNU cpio). */
  blockSize?: number;
}

const utf8 = new TextEncoder();

/**
 * Stream an archive: per member header, name, padding, data, padding; then TRAILER!!!. The output
 * depends only on the members and options (deterministic). Refusals (RangeError, which
 * `asUserError` turns into a one-line user error) happen before the member's first byte.
 */
export async function* writeCpio(members: Iterable<CpioMember> | AsyncIterable<CpioMember>, opts: WriteCpioOptions = {}): AsyncGenerator<Uint8Array> {
  const format = opts.format ?? 'newc';
  const blockSize = opts.blockSize ?? 4;
  if (!Number.isInteger(blockSize) || blockSize < 4 || blockSize % 4 !== 0) throw new RangeError(`cpio block size must be a positive multiple of 4, got ${blockSize}`);
  let written = 0;
  let nextIno = 1;
  for await (const m of members) {
    const nameBytes = checkName(m.name);
    const type = m.mode & S_IFMT;
    let data: Uint8Array | AsyncIterable<Uint8Array> | undefined = m.data;
    if (type === S_IFLNK) {
      if (m.linkTarget === undefined || m.linkTarget === '' || m.linkTarget.includes('\0')) throw new RangeError(`cpio member ${m.name}: symlink needs a non-empty target without NUL`);
      data = utf8.encode(m.linkTarget);
      if (m.size !== data.length) throw new RangeError(`cpio member ${m.name}: size ${m.size} differs from the symlink target's ${data.length} bytes`);
    } else if (type !== S_IFREG && (m.size !== 0 || data !== undefined)) {
      throw new RangeError(`cpio member ${m.name}: only regular files and symlinks carry data`);
    }
    if (!Number.isSafeInteger(m.size) || m.size < 0) throw new RangeError(`cpio member ${m.name}: bad size ${m.size}`);
    if (m.size > MAX_MEMBER_SIZE) throw new RangeError(`cpio member ${m.name} is ${m.size} bytes: newc cannot store members of 4 GiB - 1 or more`);
    if (m.size > 0 && data === undefined) throw new RangeError(`cpio member ${m.name}: ${m.size} bytes declared but no data given`);
    if (data instanceof Uint8Array && data.length !== m.size) throw new RangeError(`cpio member ${m.name}: size ${m.size} but ${data.length} data bytes`);

    let check = 0;
    if (format === 'crc' && type === S_IFREG && data !== undefined) {
      if (!(data instanceof Uint8Array)) throw new RangeError(`cpio member ${m.name}: the crc format needs the data as bytes (its sum precedes the data); use newc for streamed data`);
      check = byteSum(data);
    }
    const fields: CpioFields = {
      ino: m.ino ?? nextIno,
      mode: m.mode,
      uid: m.uid ?? 0,
      gid: m.gid ?? 0,
      nlink: m.nlink ?? 1,
      mtime: m.mtime,
      size: m.size,
      devMajor: m.devMajor ?? 0,
      devMinor: m.devMinor ?? 0,
      rdevMajor: m.rdevMajor ?? 0,
      rdevMinor: m.rdevMinor ?? 0,
      check,
    };
    nextIno++;
    const header = encodeNewcHeader(format, fields, nameBytes);
    yield header;
    written += header.length;
    if (data instanceof Uint8Array) {
      if (data.length > 0) yield data;
    } else if (data !== undefined) {
      let seen = 0;
      for await (const chunk of data) {
        seen += chunk.length;
        if (seen > m.size) throw new UserError(`cpio member ${m.name}: data longer than its declared ${m.size} bytes (changed while being read?)`);
        if (chunk.length > 0) yield chunk;
      }
      if (seen !== m.size) throw new UserError(`cpio member ${m.name}: data shorter (${seen}) than its declared ${m.size} bytes (changed while being read?)`);
    }
    written += m.size;
    const pad = pad4(m.size);
    if (pad > 0) yield new Uint8Array(pad);
    written += pad;
  }
  const trailer = encodeNewcHeader(format, { ino: 0, mode: 0, uid: 0, gid: 0, nlink: 1, mtime: 0, size: 0, devMajor: 0, devMinor: 0, rdevMajor: 0, rdevMinor: 0, check: 0 }, utf8.encode(TRAILER_NAME));
  yield trailer;
  written += trailer.length;
  const end = (blockSize - (written % blockSize)) % blockSize;
  if (end > 0) yield new Uint8Array(end);
}

function checkName(name: string): Uint8Array {
  // a lone surrogate would be encoded as U+FFFD, silently changing the name
  if (name === '' || name.includes('\0') || /\p{Surrogate}/u.test(name)) throw new RangeError(`cpio member name ${JSON.stringify(name)} is empty, contains NUL or is not valid Unicode`);
  if (name.startsWith('/')) throw new RangeError(`cpio member name ${name} is absolute`);
  if (name.split('/').includes('..')) throw new RangeError(`cpio member name ${name} contains ".."`);
  if (name === TRAILER_NAME) throw new RangeError(`cpio member name ${name} is reserved for the trailer`);
  const bytes = utf8.encode(name);
  if (bytes.length + 1 > MAX_NAME_SIZE) throw new RangeError(`cpio member name ${name.slice(0, 60)}… is longer than ${MAX_NAME_SIZE - 1} bytes`);
  return bytes;
}

/** The crc format's "checksum": the sum of all data bytes mod 2^32. */
export function byteSum(data: Uint8Array, start = 0): number {
  let s = start;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s >>> 0;
}
