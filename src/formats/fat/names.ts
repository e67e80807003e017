/**
 * FAT directory names: each name gets an 8.3 short entry, plus VFAT long-name (LFN) entries when
 * the name does not fit 8.3 as-is. Names that fit 8.3 but are lower case use the NT case flags
 * instead (what mtools and Windows do), so `rhdd3` reads back as `rhdd3` without an LFN.
 */

export const CASE_LOWER_BASE = 0x08;
export const CASE_LOWER_EXT = 0x10;
export const MAX_LONG_NAME = 255;

/** Characters allowed in a short name besides A-Z and 0-9. */
const SHORT_SPECIALS = new Set("!#$%&'()-@^_`{}~");
/** Characters no FAT name may contain (control characters are checked separately). */
const FORBIDDEN = new Set('"*/:<>?\\|');

export interface DirName {
  /** The 11 bytes of the short entry's name field (base space-padded to 8, extension to 3). */
  short: Uint8Array;
  /** NT case flags for byte 12 of the short entry. */
  caseFlags: number;
  /** The long name to store in LFN entries, or undefined when the short entry says it all. */
  long?: string;
}

/** Why a name cannot be stored on FAT, or undefined if it can. */
export function fatNameProblem(name: string): string | undefined {
  if (name === '.' || name === '..') return 'is reserved';
  if (name.endsWith('.') || name.endsWith(' ')) return 'ends with a dot or space (FAT drops them)';
  for (const ch of name) {
    if (ch.charCodeAt(0) < 0x20 || FORBIDDEN.has(ch)) return `contains ${JSON.stringify(ch)}, which FAT does not allow`;
  }
  if (name.length > MAX_LONG_NAME) return `is longer than ${MAX_LONG_NAME} UTF-16 characters`;
  return undefined;
}

function isShortChar(c: string): boolean {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || SHORT_SPECIALS.has(c);
}

/** One case for the whole part: all lower → flag, all upper (or no letters) → no flag, mixed → undefined. */
function partCase(part: string): 'lower' | 'upper' | undefined {
  const lower = /[a-z]/.test(part);
  const upper = /[A-Z]/.test(part);
  if (lower && upper) return undefined;
  return lower ? 'lower' : 'upper';
}

function shortField(base: string, ext: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) out[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length; i++) out[8 + i] = ext.charCodeAt(i);
  return out;
}

export function shortKey(short: Uint8Array): string {
  return String.fromCharCode(...short);
}

/** The name as a plain 8.3 entry with case flags, if it fits exactly. */
function exactShort(name: string): DirName | undefined {
  const dot = name.indexOf('.');
  const base = dot < 0 ? name : name.slice(0, dot);
  const ext = dot < 0 ? '' : name.slice(dot + 1);
  if (base.length < 1 || base.length > 8 || ext.length > 3 || (dot >= 0 && ext.length === 0)) return undefined;
  if (![...base, ...ext].every(isShortChar)) return undefined;
  const bc = partCase(base), ec = partCase(ext);
  if (!bc || !ec) return undefined;
  const flags = (bc === 'lower' ? CASE_LOWER_BASE : 0) | (ec === 'lower' ? CASE_LOWER_EXT : 0);
  return { short: shortField(base.toUpperCase(), ext.toUpperCase()), caseFlags: flags };
}

/**
 * Short names for every name of one directory: names that fit 8.3 keep it, the others get a
 * generated `BASIS~N.EXT` unique in the directory. Names are compared case-insensitively, as FAT
 * does; the caller has already refused duplicates.
 */
export function assignNames(names: readonly string[]): DirName[] {
  const taken = new Set<string>();
  const out: (DirName | undefined)[] = names.map((n) => {
    const s = exactShort(n);
    if (s) taken.add(shortKey(s.short));
    return s;
  });
  // per basis, the tail to try next, so that thousands of similar names stay linear
  const nextTail = new Map<string, number>();
  return names.map((name, i) => out[i] ?? generated(name, taken, nextTail));
}

function generated(name: string, taken: Set<string>, nextTail: Map<string, number>): DirName {
  const clean = (s: string) =>
    [...s.toUpperCase().replace(/ /g, '')].map((c) => (isShortChar(c) ? c : '_')).join('');
  const stripped = name.replace(/^\.+/, '');
  const dot = stripped.lastIndexOf('.');
  const base = clean(dot < 0 ? stripped : stripped.slice(0, dot)).replace(/\./g, '') || '_';
  const ext = clean(dot < 0 ? '' : stripped.slice(dot + 1)).slice(0, 3);
  // names sharing the first 6 basis characters compete for the same ~N (uniqueness is still checked against `taken`)
  const basis = `${base.slice(0, 6)}.${ext}`;
  for (let n = nextTail.get(basis) ?? 1; ; n++) {
    const tail = `~${n}`;
    const short = shortField(base.slice(0, 8 - tail.length) + tail, ext);
    const key = shortKey(short);
    if (!taken.has(key)) {
      taken.add(key);
      nextTail.set(basis, n + 1);
      return { short, caseFlags: 0, long: name };
    }
  }
}

/** The LFN checksum of an 11-byte short name (rotate right, add). */
export function lfnChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short[i]!) & 0xff;
  return sum;
}

/** Character offsets of the 13 UTF-16 units inside one LFN entry. */
const LFN_SLOTS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** The LFN entries for a long name, in on-disk order (highest sequence number first). */
export function lfnEntries(long: string, short: Uint8Array): Uint8Array[] {
  const units: number[] = [];
  for (let i = 0; i < long.length; i++) units.push(long.charCodeAt(i));
  const count = Math.ceil(units.length / 13);
  if (units.length % 13 !== 0) units.push(0x0000);
  while (units.length < count * 13) units.push(0xffff);
  const sum = lfnChecksum(short);
  const entries: Uint8Array[] = [];
  for (let seq = count; seq >= 1; seq--) {
    const e = new Uint8Array(32);
    e[0] = seq | (seq === count ? 0x40 : 0);
    e[11] = 0x0f;
    e[13] = sum;
    LFN_SLOTS.forEach((at, k) => {
      const u = units[(seq - 1) * 13 + k]!;
      e[at] = u & 0xff;
      e[at + 1] = u >> 8;
    });
    entries.push(e);
  }
  return entries;
}
