/**
 * The RPM header codec (signature header and main header share it): pure functions from entries
 * to bytes and back. Decoding applies the checks of rpm's `hdrblobRead`/`hdrblobVerifyRegion`/
 * `hdrblobVerifyInfo` so that anything rpm would refuse is refused here with a precise message,
 * and sizes are validated before anything is allocated.
 */
import { FormatError } from '../../errors.js';
import { OTHER_TAG_TYPES } from './rpmtag-types.js';
import { HEADER_MAGIC, isStringType, REGION, RPM_TYPE, type RpmType, TAG_TYPE, tagLabel, TYPE_ALIGN, TYPE_NAMES, TYPE_SIZE } from './tags.js';

export type HeaderValue = string | string[] | number[] | bigint[] | Uint8Array;

export interface HeaderEntry {
  tag: number;
  type: RpmType;
  /** STRING: string; STRING_ARRAY/I18NSTRING: string[]; CHAR…INT32: number[]; INT64: bigint[]; BIN: bytes. */
  value: HeaderValue;
}

export type RegionTag = 61 | 62 | 63;

/** Header intro (magic + il + dl) and index entries are 16 bytes each. */
const ENTRY_SIZE = 16;
/** rpm's limits (`hdrblobRead`, `headerMaxbytes`). */
const MAIN_MAX_TAGS = 0xffff;
const MAIN_MAX_DATA = 0x0fffffff;
const SIG_MAX_TAGS = 32;
const SIG_MAX_DATA = 64 * 1024;
const MAX_HEADER_BYTES = 256 * 1024 * 1024;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** A decoded header: entries in index order, typed getters, and the raw bytes it came from. */
export class Header {
  private readonly byTag = new Map<number, HeaderEntry>();

  constructor(
    private readonly list: readonly HeaderEntry[],
    /** The region tag found (61, 62, 63), or null for a legacy header without region. */
    readonly regionTag: RegionTag | null,
    /** Exact bytes from the magic to the end of the store (what the signature digests cover). */
    readonly bytes: Uint8Array,
    /** Where those bytes lie in the file the header was read from. */
    readonly range: { start: number; end: number },
  ) {
    for (const e of list) if (!this.byTag.has(e.tag)) this.byTag.set(e.tag, e);
  }

  has(tag: number): boolean {
    return this.byTag.has(tag);
  }

  /** Entries without the region entry, in index order (what encodeHeader takes back). */
  entries(): HeaderEntry[] {
    return [...this.list];
  }

  entry(tag: number): HeaderEntry | undefined {
    return this.byTag.get(tag);
  }

  /** STRING, or the first string of an I18NSTRING ("C" locale) or STRING_ARRAY. */
  string(tag: number): string | undefined {
    const e = this.byTag.get(tag);
    if (!e) return undefined;
    if (typeof e.value === 'string') return e.value;
    if (isStringType(e.type)) return (e.value as string[])[0];
    throw mismatch(e, 'a string');
  }

  /** STRING_ARRAY (or a lone STRING, as old packages store some arrays); [] when absent. */
  strings(tag: number): string[] {
    const e = this.byTag.get(tag);
    if (!e) return [];
    if (typeof e.value === 'string') return [e.value];
    if (isStringType(e.type)) return [...(e.value as string[])];
    throw mismatch(e, 'strings');
  }

  /** CHAR/INT8/INT16/INT32 items (unsigned), INT64 when it fits a double; [] when absent. */
  numbers(tag: number): number[] {
    const e = this.byTag.get(tag);
    if (!e) return [];
    if (e.type === RPM_TYPE.INT64) {
      return (e.value as bigint[]).map((v) => {
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${tagLabel(e.tag)} value ${v} is too large`);
        return Number(v);
      });
    }
    if (e.type >= RPM_TYPE.CHAR && e.type <= RPM_TYPE.INT32) return [...(e.value as number[])];
    throw mismatch(e, 'numbers');
  }

  number(tag: number): number | undefined {
    return this.has(tag) ? this.numbers(tag)[0] : undefined;
  }

  /** Any integer type as bigints; [] when absent. */
  bigints(tag: number): bigint[] {
    const e = this.byTag.get(tag);
    if (!e) return [];
    if (e.type === RPM_TYPE.INT64) return [...(e.value as bigint[])];
    return this.numbers(tag).map(BigInt);
  }

  bin(tag: number): Uint8Array | undefined {
    const e = this.byTag.get(tag);
    if (!e) return undefined;
    if (e.type === RPM_TYPE.BIN) return e.value as Uint8Array;
    throw mismatch(e, 'binary data');
  }
}

function mismatch(e: HeaderEntry, wanted: string): FormatError {
  return new FormatError(`${tagLabel(e.tag)} holds ${TYPE_NAMES[e.type]}, expected ${wanted}`);
}

// ---------------------------------------------------------------------------------------------
// Encoding

function itemCount(e: HeaderEntry): number {
  const v = e.value;
  if (typeof v === 'string') return 1;
  return v.length;
}

function checkEntry(e: HeaderEntry): void {
  const where = tagLabel(e.tag);
  if (!Number.isInteger(e.tag) || e.tag < 100 || e.tag > 0x7fffffff) throw new RangeError(`${where}: tag numbers below 100 are reserved for regions`);
  const t = e.type;
  const v = e.value;
  const ok =
    (t === RPM_TYPE.STRING && typeof v === 'string') ||
    ((t === RPM_TYPE.STRING_ARRAY || t === RPM_TYPE.I18NSTRING) && Array.isArray(v) && v.every((s) => typeof s === 'string')) ||
    (t >= RPM_TYPE.CHAR && t <= RPM_TYPE.INT32 && Array.isArray(v) && v.every((n) => typeof n === 'number')) ||
    (t === RPM_TYPE.INT64 && Array.isArray(v) && v.every((n) => typeof n === 'bigint')) ||
    (t === RPM_TYPE.BIN && v instanceof Uint8Array);
  if (!ok) throw new TypeError(`${where}: value does not match type ${TYPE_NAMES[t] ?? t}`);
  if (itemCount(e) === 0) throw new RangeError(`${where}: rpm refuses entries with count 0`);
  const strs = typeof v === 'string' ? [v] : isStringType(t) ? (v as string[]) : [];
  for (const s of strs) if (s.includes('\0')) throw new RangeError(`${where}: strings cannot contain NUL`);
  if (t >= RPM_TYPE.CHAR && t <= RPM_TYPE.INT32) {
    const bits = TYPE_SIZE[t]! * 8;
    for (const n of v as number[]) {
      if (!Number.isInteger(n) || n < -(2 ** (bits - 1)) || n >= 2 ** bits) throw new RangeError(`${where}: ${n} does not fit ${TYPE_NAMES[t]}`);
    }
  }
  if (t === RPM_TYPE.INT64) {
    for (const n of v as bigint[]) if (n < -(1n << 63n) || n >= 1n << 64n) throw new RangeError(`${where}: ${n} does not fit INT64`);
  }
}

function encodeData(e: HeaderEntry): Uint8Array {
  const v = e.value;
  switch (e.type) {
    case RPM_TYPE.STRING:
    case RPM_TYPE.STRING_ARRAY:
    case RPM_TYPE.I18NSTRING: {
      const parts = (typeof v === 'string' ? [v] : (v as string[])).map((s) => utf8.encode(s));
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
      let pos = 0;
      for (const p of parts) {
        out.set(p, pos);
        pos += p.length + 1;
      }
      return out;
    }
    case RPM_TYPE.BIN:
      return v as Uint8Array;
    case RPM_TYPE.INT64: {
      const items = v as bigint[];
      const out = new Uint8Array(items.length * 8);
      const dv = new DataView(out.buffer);
      items.forEach((n, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, n)));
      return out;
    }
    default: {
      const items = v as number[];
      const size = TYPE_SIZE[e.type]!;
      const out = new Uint8Array(items.length * size);
      const dv = new DataView(out.buffer);
      items.forEach((n, i) => {
        if (size === 1) dv.setUint8(i, n & 0xff);
        else if (size === 2) dv.setUint16(i * 2, n & 0xffff);
        else dv.setUint32(i * 4, n >>> 0);
      });
      return out;
    }
  }
}

/**
 * Encode a header as rpm lays it out: magic, il, dl, the region entry first, the other entries
 * sorted by tag, their data in the same order each aligned to its type, and the region trailer
 * as the last 16 bytes of the store.
 */
export function encodeHeader(entries: readonly HeaderEntry[], regionTag: 62 | 63): Uint8Array {
  entries.forEach(checkEntry);
  const sorted = entries.map((e, i) => ({ e, i })).sort((a, b) => a.e.tag - b.e.tag || a.i - b.i).map((x) => x.e);
  const il = sorted.length + 1;
  const datas = sorted.map(encodeData);
  const offsets: number[] = [];
  let dl = 0;
  sorted.forEach((e, i) => {
    const align = TYPE_ALIGN[e.type]!;
    dl = Math.ceil(dl / align) * align;
    offsets.push(dl);
    dl += datas[i]!.length;
  });
  const trailerOffset = dl;
  dl += ENTRY_SIZE;
  if (il > MAIN_MAX_TAGS || dl > MAIN_MAX_DATA) throw new RangeError(`header too large (${il} entries, ${dl} bytes of data)`);

  const out = new Uint8Array(ENTRY_SIZE + il * ENTRY_SIZE + dl);
  const dv = new DataView(out.buffer);
  out.set(HEADER_MAGIC, 0);
  dv.setUint32(8, il);
  dv.setUint32(12, dl);
  const writeInfo = (at: number, tag: number, type: number, offset: number, count: number): void => {
    dv.setUint32(at, tag);
    dv.setUint32(at + 4, type);
    dv.setInt32(at + 8, offset);
    dv.setUint32(at + 12, count);
  };
  const store = ENTRY_SIZE + il * ENTRY_SIZE;
  writeInfo(ENTRY_SIZE, regionTag, RPM_TYPE.BIN, trailerOffset, ENTRY_SIZE);
  sorted.forEach((e, i) => {
    writeInfo(ENTRY_SIZE * (i + 2), e.tag, e.type, offsets[i]!, itemCount(e));
    out.set(datas[i]!, store + offsets[i]!);
  });
  writeInfo(store + trailerOffset, regionTag, RPM_TYPE.BIN, -ENTRY_SIZE * il, ENTRY_SIZE);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export type HeaderKind = 'signature' | 'main';

/**
 * Validate a header's first 16 bytes (magic, il, dl) and return the header's total size, so a
 * reader can make one bounded read for the rest.
 */
export function headerSize(intro: Uint8Array, kind: HeaderKind): number {
  const what = kind === 'signature' ? 'signature header' : 'header';
  if (intro.length < ENTRY_SIZE) throw new FormatError(`${what} truncated (${intro.length} of 16 bytes)`);
  for (let i = 0; i < HEADER_MAGIC.length; i++) {
    if (intro[i] !== HEADER_MAGIC[i]) throw new FormatError(`${what}: bad magic (expected 8eade801 00000000)`);
  }
  const dv = new DataView(intro.buffer, intro.byteOffset, intro.byteLength);
  const il = dv.getUint32(8);
  const dl = dv.getUint32(12);
  const maxTags = kind === 'signature' ? SIG_MAX_TAGS : MAIN_MAX_TAGS;
  const maxData = kind === 'signature' ? SIG_MAX_DATA : MAIN_MAX_DATA;
  if (il > maxTags) throw new FormatError(`${what}: ${il} index entries (at most ${maxTags})`);
  if (dl > maxData) throw new FormatError(`${what}: ${dl} bytes of data (at most ${maxData})`);
  const size = ENTRY_SIZE + il * ENTRY_SIZE + dl;
  if (size - 8 >= MAX_HEADER_BYTES) throw new FormatError(`${what}: ${size} bytes (rpm's limit is 256 MiB)`);
  return size;
}

interface Info {
  tag: number;
  type: number;
  offset: number;
  count: number;
}

/**
 * Decode the header at `buf[offset]`. `expectRegion` is the region tag the header must carry if it
 * has one (62 signature, 63 main; 61 is accepted as the legacy main-header region); legacy headers
 * without region are accepted. `fileOffset` is where `buf` starts in its file, for `range`.
 */
export function decodeHeader(buf: Uint8Array, offset: number, expectRegion: 62 | 63 | 'any', fileOffset = 0): { header: Header; length: number } {
  const kind: HeaderKind = expectRegion === 62 ? 'signature' : 'main';
  const what = kind === 'signature' ? 'signature header' : 'header';
  const fail = (msg: string): never => {
    throw new FormatError(`${what}: ${msg}`);
  };
  const length = headerSize(buf.subarray(offset, offset + ENTRY_SIZE), kind);
  if (buf.length - offset < length) fail(`truncated (${buf.length - offset} of ${length} bytes)`);
  const bytes = buf.subarray(offset, offset + length);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const il = dv.getUint32(8);
  const dl = dv.getUint32(12);
  const storeStart = ENTRY_SIZE + il * ENTRY_SIZE;
  const info = (i: number): Info => {
    const at = ENTRY_SIZE * (i + 1);
    return { tag: dv.getInt32(at), type: dv.getUint32(at + 4), offset: dv.getInt32(at + 8), count: dv.getUint32(at + 12) };
  };
  if (il < 1) fail('no index entries');

  // Region (hdrblobVerifyRegion)
  const first = info(0);
  let regionTag: RegionTag | null = null;
  // the data bytes the region covers (rdl); entries after it are rpm's "dribbles"
  let regionDataEnd = dl;
  if (first.tag === REGION.IMAGE || first.tag === REGION.SIGNATURES || first.tag === REGION.IMMUTABLE) {
    regionTag = first.tag;
    const allowed = expectRegion === 'any' ? [61, 62, 63] : expectRegion === 63 ? [61, 63] : [62];
    if (!allowed.includes(regionTag)) fail(`region tag ${regionTag} where ${expectRegion} was expected`);
    if (first.type !== RPM_TYPE.BIN || first.count !== ENTRY_SIZE) fail(`region tag ${regionTag}: type ${first.type} count ${first.count} (expected BIN, 16)`);
    if (first.offset < 0 || first.offset + ENTRY_SIZE > dl) fail(`region ${regionTag}: trailer offset ${first.offset} outside the ${dl}-byte store`);
    const t = storeStart + first.offset;
    const trailer: Info = { tag: dv.getInt32(t), type: dv.getUint32(t + 4), offset: dv.getInt32(t + 8), count: dv.getUint32(t + 12) };
    // rpm fixes up old packages whose signature trailer says HEADERIMAGE
    if (regionTag === REGION.SIGNATURES && trailer.tag === REGION.IMAGE) trailer.tag = REGION.SIGNATURES;
    if (trailer.tag !== regionTag || trailer.type !== RPM_TYPE.BIN || trailer.count !== ENTRY_SIZE) {
      fail(`region trailer: tag ${trailer.tag} type ${trailer.type} count ${trailer.count} (expected ${regionTag}, BIN, 16)`);
    }
    const regionBytes = -trailer.offset;
    regionDataEnd = first.offset + ENTRY_SIZE;
    if (regionBytes < ENTRY_SIZE || regionBytes % ENTRY_SIZE !== 0 || regionBytes / ENTRY_SIZE > il) {
      fail(`region ${regionTag} size: trailer offset ${trailer.offset} for ${il} index entries`);
    }
    // The main header's region must cover the whole header; rpm reads the signature header with
    // exact_size off, so entries may follow its region (rpmsign --signfiles once appended them).
    if (kind === 'main' && (regionBytes / ENTRY_SIZE !== il || regionDataEnd !== dl)) {
      fail(`region ${regionTag}: tag number mismatch (il ${il}, region il ${regionBytes / ENTRY_SIZE}, dl ${dl}, region dl ${regionDataEnd})`);
    }
  }

  // Entries (hdrblobVerifyInfo), decoded as they are checked.
  const store = bytes.subarray(storeStart, storeStart + dl);
  const entries: HeaderEntry[] = [];
  let end = 0;
  // what rpm's headerImport adds up (regionSwab): each entry's length after aligning the running sum
  let packed = 0;
  for (let i = regionTag === null ? 0 : 1; i < il; i++) {
    const e = info(i);
    const bad = (msg: string): never => fail(`index entry ${i} (${tagLabel(e.tag, kind === 'signature')}, type ${e.type}, offset ${e.offset}, count ${e.count}): ${msg}`);
    // rpm's tag is a signed int32: a "tag" of 0xa50003e8 is negative, below 100, and refused
    if (e.tag < 100) bad('reserved tag number');
    if (e.type < RPM_TYPE.CHAR || e.type > RPM_TYPE.I18NSTRING) bad('unknown type');
    if (e.offset < end) bad(`data overlaps the previous entry's (ends at ${end})`);
    if (e.offset % TYPE_ALIGN[e.type]! !== 0) bad(`offset not aligned to ${TYPE_ALIGN[e.type]}`);
    if (e.offset > dl) bad(`offset outside the ${dl}-byte store`);
    if (e.count === 0) bad('count 0');
    if (e.type === RPM_TYPE.STRING && e.count !== 1) bad('STRING with count other than 1');
    if (kind === 'main') {
      const known = TAG_TYPE.get(e.tag) ?? OTHER_TAG_TYPES.get(e.tag);
      if (known !== undefined && known !== e.type && !(isStringType(known) && isStringType(e.type))) {
        bad(`rpmtag.h declares ${TYPE_NAMES[known]}`);
      }
    }
    const decoded = decodeValue(store, e, dl);
    if (decoded === null) bad(`data runs past the end of the store`);
    const [value, len] = decoded!;
    end = e.offset + len;
    if (regionTag !== null && end > regionDataEnd - ENTRY_SIZE && e.offset < regionDataEnd) bad('data overlaps the region trailer');
    packed += ((TYPE_ALIGN[e.type]! - (packed % TYPE_ALIGN[e.type]!)) % TYPE_ALIGN[e.type]!) + len;
    // Entries after the region are kept like the others; of two with one tag the first is the one
    // rpm's digest checks use (hdrblobGet), and so does Header.
    entries.push({ tag: e.tag, type: e.type as RpmType, value });
  }
  // headerImport refuses a store with bytes no entry accounts for (rpm -qp and rpm -i fail)
  if (packed + (regionTag === null ? 0 : ENTRY_SIZE) !== dl) fail(`the entries' data adds up to ${packed} bytes of the ${dl}-byte store${regionTag === null ? '' : ' (less its 16-byte trailer)'}`);
  const header = new Header(entries, regionTag, bytes, { start: fileOffset + offset, end: fileOffset + offset + length });
  return { header, length };
}

/** Decode one entry's data from the store, or null when it does not fit before `limit`. */
function decodeValue(store: Uint8Array, e: Info, limit: number): [HeaderValue, number] | null {
  if (isStringType(e.type)) {
    const out: string[] = [];
    let pos = e.offset;
    // Each string needs at least its NUL, so the loop is bounded by the store, not by count.
    for (let n = 0; n < e.count; n++) {
      if (pos >= limit) return null;
      const nul = store.subarray(0, limit).indexOf(0, pos);
      if (nul < 0) return null;
      out.push(utf8Decoder.decode(store.subarray(pos, nul)));
      pos = nul + 1;
    }
    return [e.type === RPM_TYPE.STRING ? out[0]! : out, pos - e.offset];
  }
  const size = TYPE_SIZE[e.type]!;
  const len = size * e.count;
  if (e.offset + len > limit) return null;
  const data = store.subarray(e.offset, e.offset + len);
  if (e.type === RPM_TYPE.BIN) return [data.slice(), len];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (e.type === RPM_TYPE.INT64) return [Array.from({ length: e.count }, (_, i) => dv.getBigUint64(i * 8)), len];
  const read = size === 1 ? (i: number) => dv.getUint8(i) : size === 2 ? (i: number) => dv.getUint16(i * 2) : (i: number) => dv.getUint32(i * 4);
  return [Array.from({ length: e.count }, (_, i) => read(i)), len];
}
