/** UTF-8 of the many short names of a tree without a Buffer per name (the order, the bytes). */

/**
 * The order of two strings by their UTF-8 bytes, what `Buffer.compare(Buffer.from(a), Buffer.from(b))`
 * gives, without encoding them: UTF-16 code units order like UTF-8 bytes except around surrogates
 * (a pair encodes above U+FFFF, a lone one as U+FFFD), so only a difference at or next to a
 * surrogate takes the encoding path. Sorting thousands of paths encoded two buffers per comparison.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  const x = i < a.length ? a.charCodeAt(i) : -1;
  const y = i < b.length ? b.charCodeAt(i) : -1;
  if (x === y) return 0;
  if (isSurrogate(x) || isSurrogate(y) || (i > 0 && isSurrogate(a.charCodeAt(i - 1)))) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return x < y ? -1 : 1;
}

function isSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdfff;
}

/**
 * The UTF-8 bytes of `text`. ASCII is copied into a plain array: `Buffer.from` of a short string
 * takes a slice of the shared pool, which costs more than the copy (and a new pool every 8 KiB).
 */
export function utf8Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return Buffer.from(text);
    out[i] = c;
  }
  return out;
}
