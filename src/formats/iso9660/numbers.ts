/**
 * ECMA-119 number and date encodings (pure functions writing into a caller's buffer), plus the
 * character-set checks every identifier field needs.
 */

export const BLOCK = 2048;

/** Blocks needed for `bytes` (0 for 0). */
export function blocks(bytes: number): number {
  return Math.ceil(bytes / BLOCK);
}

/** 723: LE16 then BE16. */
export function both16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** 733: LE32 then BE32. */
export function both32(buf: Uint8Array, off: number, v: number): void {
  le32(buf, off, v);
  be32(buf, off + 4, v);
}

export function le16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
}

export function be16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

export function le32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

export function be32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

export function le64(buf: Uint8Array, off: number, v: number): void {
  le32(buf, off, v % 0x100000000);
  le32(buf, off + 4, Math.floor(v / 0x100000000));
}

export function readLe16(buf: Uint8Array, off: number): number {
  return (buf[off] ?? 0) | ((buf[off + 1] ?? 0) << 8);
}

export function readLe32(buf: Uint8Array, off: number): number {
  return ((buf[off] ?? 0) | ((buf[off + 1] ?? 0) << 8) | ((buf[off + 2] ?? 0) << 16)) + (buf[off + 3] ?? 0) * 0x1000000;
}

/** Exact below 2^53, which every field read with it stays under. */
export function readLe64(buf: Uint8Array, off: number): number {
  return readLe32(buf, off) + readLe32(buf, off + 4) * 0x100000000;
}

let lastDate: { epoch: number; bytes: Uint8Array } | undefined;

/** 7-byte directory-record date in GMT (offset byte 0); every record of an image has the same one. */
export function dirDate(buf: Uint8Array, off: number, epoch: number): void {
  if (lastDate?.epoch !== epoch) {
    const d = new Date(epoch * 1000);
    const bytes = Uint8Array.of(d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0);
    lastDate = { epoch, bytes };
  }
  buf.set(lastDate.bytes, off);
}

/** Seconds since the epoch from a 7-byte directory-record date (honouring its GMT offset). */
export function readDirDate(buf: Uint8Array, off: number): number {
  const t = Date.UTC(1900 + buf[off]!, buf[off + 1]! - 1, buf[off + 2]!, buf[off + 3]!, buf[off + 4]!, buf[off + 5]!);
  const gmtOff = (buf[off + 6]! << 24) >> 24;
  return t / 1000 - gmtOff * 15 * 60;
}

/** 17-byte descriptor date: `YYYYMMDDhhmmsscc` + offset byte; `undefined` = "not specified". */
export function descDate(buf: Uint8Array, off: number, epoch: number | undefined): void {
  let text = '0000000000000000';
  if (epoch !== undefined) {
    const d = new Date(epoch * 1000);
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    text = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  }
  for (let i = 0; i < 16; i++) buf[off + i] = text.charCodeAt(i);
  buf[off + 16] = 0;
}

/** Write ASCII `text` into a field of `len` bytes, padded with spaces. */
export function asciiField(buf: Uint8Array, off: number, len: number, text: string): void {
  for (let i = 0; i < len; i++) buf[off + i] = i < text.length ? text.charCodeAt(i) : 0x20;
}

/** Write `text` as UCS-2BE into a field of `len` bytes, padded with `00 20` (odd length ends in `00`). */
export function ucs2Field(buf: Uint8Array, off: number, len: number, text: string): void {
  for (let i = 0; i + 1 < len; i += 2) {
    const c = i / 2 < text.length ? text.charCodeAt(i / 2) : 0x20;
    buf[off + i] = c >>> 8;
    buf[off + i + 1] = c & 0xff;
  }
  if (len % 2 === 1) buf[off + len - 1] = 0;
}

/** Printable ASCII (0x20–0x7E) only. */
export function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** Space-padded ASCII field as text, trailing spaces removed. */
export function readAscii(buf: Uint8Array, off: number, len: number): string {
  return Buffer.from(buf.subarray(off, off + len)).toString('latin1').replace(/[ \0]+$/, '');
}

/** Seconds since the epoch from a 17-byte descriptor date; undefined when "not specified". */
export function readDescDate(buf: Uint8Array, off: number): number | undefined {
  const t = Buffer.from(buf.subarray(off, off + 16)).toString('latin1');
  if (!/^\d{16}$/.test(t) || t === '0000000000000000') return undefined;
  const n = (a: number, b: number) => Number(t.slice(a, b));
  const gmtOff = (buf[off + 16]! << 24) >> 24;
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14)) / 1000 - gmtOff * 15 * 60;
}
