import { FormatError } from '../../errors.js';

/**
 * A member name as a relative path for extraction: `./` and leading `/` stripped, empty and `.`
 * components dropped, `..` refused (it could leave the output tree). '' means the archive root
 * (GNU cpio's `.` entry), which an extractor skips. Symlink targets are not checked here: an
 * extractor must never follow links from the archive while writing.
 */
export function safeMemberPath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new FormatError(`unsafe cpio member name ${JSON.stringify(name)}: contains ".."`);
  return parts.join('/');
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence at `b[i]`, or 0 when the byte there starts none. */
function utf8SequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const [n, min, max] = c >= 0xc2 && c <= 0xdf ? [2, 0x80, 0xbf] : c === 0xe0 ? [3, 0xa0, 0xbf] : c === 0xed ? [3, 0x80, 0x9f] : c >= 0xe1 && c <= 0xef ? [3, 0x80, 0xbf] : c === 0xf0 ? [4, 0x90, 0xbf] : c >= 0xf1 && c <= 0xf3 ? [4, 0x80, 0xbf] : c === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
  if (n === 0 || i + n > b.length) return 0;
  if (b[i + 1]! < min || b[i + 1]! > max) return 0;
  for (let k = 2; k < n; k++) if (b[i + k]! < 0x80 || b[i + k]! > 0xbf) return 0;
  return n;
}

/**
 * A member name (or link target) for display: bytes that are not UTF-8, control characters and
 * the backslash itself escaped as bsdtar and `ls -b` show them (`caf\351`, `x\001y`, `a\\b`).
 */
export function displayName(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const n = utf8SequenceAt(bytes, i);
    const c = bytes[i]!;
    if (n === 0 || c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else if (c === 0x5c) out += '\\\\';
    else out += strictUtf8.decode(bytes.subarray(i, i + n));
    i += Math.max(n, 1);
  }
  return out;
}

/**
 * A name as a string: the UTF-8 text when it is UTF-8 (almost always), else its display form;
 * the bytes themselves stay in the entry (GNU cpio stores and lists names as bytes).
 */
export function nameText(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return displayName(bytes);
  }
}
