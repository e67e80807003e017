/**
 * The Unix `ar` archive (`esxi.md` §2): the 8-byte magic `!<arch>\n`, then per member a 60-byte
 * ASCII header, the data, and one `\n` pad byte after data of odd length. The writer uses the form
 * VMware's tools write (bare space-padded names, mtime, uid, gid and mode `0`); the reader also
 * takes the SysV `name/` form and any mode, and refuses long-name tables and BSD `#1/` names.
 */
import { FormatError, UserError } from '../../errors.js';
import { exactly } from '../bytes.js';

export const AR_MAGIC = '!<arch>\n';
export const AR_HEADER = 60;
/** Names of 16 bytes and more need a long-name table, which VIB readers do not take. */
const MAX_NAME = 15;
/** The decimal size field holds 10 digits. */
const MAX_SIZE = 9_999_999_999;

export interface ArMemberHeader {
  /** The name as a reader uses it (trailing `/` and spaces removed). */
  name: string;
  /** The 16-byte name field as written, spaces included. */
  rawName: string;
  mtime: number;
  uid: number;
  gid: number;
  /** The mode field's text as written (`0`, `0o0`, `644`, `100000`). */
  mode: string;
  size: number;
}

export interface ArMember extends ArMemberHeader {
  /** Offset of the member's data in the archive. */
  offset: number;
  /** Offset of its 60-byte header. */
  headerOffset: number;
}

const ascii = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** The 60-byte header of a member as VMware writes it: bare name, mtime/uid/gid/mode `0`. */
export function arHeader(name: string, size: number): Uint8Array {
  if (!/^[\x21-\x7e]+$/.test(name) || name.length > MAX_NAME || name.includes('/')) throw new UserError(`ar: member name ${JSON.stringify(name)} must be 1–${MAX_NAME} printable ASCII characters without \`/\``);
  if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE) throw new UserError(`ar: ${name}: size ${size} does not fit an ar header`);
  const text = name.padEnd(16) + '0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '0'.padEnd(8) + String(size).padEnd(10) + '`\n';
  return Buffer.from(text, 'latin1');
}

/** Decode one member header (60 bytes at `at`, for messages). */
export function parseArHeader(h: Uint8Array, at: number): ArMemberHeader {
  if (h.length < AR_HEADER) throw new FormatError(`ar: member header at ${at} is cut short`);
  if (h[58] !== 0x60 || h[59] !== 0x0a) throw new FormatError(`ar: member header at ${at} does not end with \`\\n (bytes 58–59)`);
  const text = ascii(h.subarray(0, AR_HEADER));
  const rawName = text.slice(0, 16);
  let name = rawName.trimEnd();
  if (name === '/' || name === '//' || name.startsWith('#1/') || /^\/\d+$/.test(name)) throw new FormatError(`ar: member header at ${at} uses a symbol or long-name table entry (${JSON.stringify(name)}), which VIB readers do not take`);
  if (name.endsWith('/')) name = name.slice(0, -1);
  name = name.trimEnd();
  if (name === '') throw new FormatError(`ar: member header at ${at} has an empty name`);
  const num = (s: string, field: string): number => {
    const t = s.trim();
    if (t === '') return 0;
    if (!/^\d+$/.test(t)) throw new FormatError(`ar: member ${name}: ${field} field ${JSON.stringify(t)} is not a decimal number`);
    return Number(t);
  };
  const sizeText = text.slice(48, 58).trim();
  if (!/^\d+$/.test(sizeText)) throw new FormatError(`ar: member ${name}: size field ${JSON.stringify(sizeText)} is not a decimal number`);
  return { name, rawName, mtime: num(text.slice(16, 28), 'mtime'), uid: num(text.slice(28, 34), 'uid'), gid: num(text.slice(34, 40), 'gid'), mode: text.slice(40, 48).trim(), size: Number(sizeText) };
}

export interface ArWriteMember {
  name: string;
  size: number;
  data: AsyncIterable<Uint8Array>;
}

/** The archive as a stream; each member's data must be exactly its size. */
export async function* writeAr(members: Iterable<ArWriteMember>): AsyncGenerator<Uint8Array> {
  yield Buffer.from(AR_MAGIC, 'latin1');
  for (const m of members) {
    yield arHeader(m.name, m.size);
    yield* exactly(m.data, m.size, m.name);
    if (m.size % 2) yield Buffer.from('\n');
  }
}

/** Byte length of an archive of members of these sizes: 8 + Σ(60 + size + size mod 2). */
export function arLength(sizes: readonly number[]): number {
  return sizes.reduce((n, s) => n + AR_HEADER + s + (s % 2), AR_MAGIC.length);
}

/** Reads `length` bytes at `offset` (fewer only at the end of the file). */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * The member list of an archive of `total` bytes, read header by header (the data is never
 * read): a header running past the end, a bad magic or a bad terminator is a FormatError.
 */
export async function listAr(readAt: ReadAt, total: number, maxMembers = 1000): Promise<ArMember[]> {
  const magic = await readAt(0, 8);
  if (ascii(magic) !== AR_MAGIC) throw new FormatError('not an ar archive (no !<arch> magic)');
  const out: ArMember[] = [];
  let pos = 8;
  while (pos < total) {
    // GNU ar pads to even offsets; a lone trailing newline is that padding
    if (total - pos === 1) break;
    if (out.length >= maxMembers) throw new FormatError(`ar: more than ${maxMembers} members`);
    const h = await readAt(pos, AR_HEADER);
    const header = parseArHeader(h, pos);
    const offset = pos + AR_HEADER;
    if (offset + header.size > total) throw new FormatError(`ar: member ${header.name} (${header.size} bytes at ${offset}) runs past the end of the archive (${total} bytes)`);
    out.push({ ...header, offset, headerOffset: pos });
    pos = offset + header.size + (header.size % 2);
  }
  return out;
}
