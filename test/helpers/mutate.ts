/**
 * Damaged media for the robustness corpus: seeded, header-aware mutations of a valid specimen.
 * `regions()` maps where a file's structure lies (ISO volume descriptors, path tables, directory
 * records and their SUSP/Rock Ridge area; FAT BPB, FAT and directory entries; cpio and tar
 * headers; RPM lead, header index and store; ELF header, section headers and `.modinfo`;
 * gzip/xz/zstd headers; zip local/central headers; XML and YAML text), following nested members
 * (an RPM on an ISO, the dd.iso in a cpio) so byte flips land where readers look. Mutations:
 * flips inside a region, huge length fields, zeroed spans, truncations, text edits, and, for a
 * gzip layer, the same on the decompressed bytes, recompressed.
 */
import { gunzipSync, gzipSync } from 'node:zlib';

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same corpus. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** A byte range that a reader interprets, with what it is (for the failure message). */
export interface Region {
  at: number;
  len: number;
  what: string;
  /** Text (XML, YAML, dkms.conf): edited as characters, not as binary fields. */
  text?: boolean;
}

const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32le = (b: Uint8Array, o: number) => (u16le(b, o) + u16le(b, o + 2) * 65536) >>> 0;
const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const ascii = (b: Uint8Array, o: number, n: number) => Buffer.from(b.subarray(o, o + n)).toString('latin1');
const has = (b: Uint8Array, o: number, magic: number[]) => magic.every((x, i) => b[o + i] === x);

/** Where the structure of `b` lies, by content; `depth` bounds the descent into members. */
export function regions(b: Uint8Array, base = 0, depth = 3): Region[] {
  if (depth === 0 || b.length === 0) return [];
  const shift = (rs: Region[]) => rs.map((r) => ({ ...r, at: r.at + base }));
  if (b.length > 32774 && ascii(b, 32769, 5) === 'CD001') return shift(isoRegions(b, depth));
  if (has(b, 0, [0xed, 0xab, 0xee, 0xdb])) return shift(rpmRegions(b));
  if (has(b, 0, [0x7f, 0x45, 0x4c, 0x46])) return shift(elfRegions(b));
  if (ascii(b, 0, 6) === '070701') return shift(cpioRegions(b, depth));
  if (has(b, 0, [0x1f, 0x8b])) return shift([{ at: 0, len: 10, what: 'gzip header' }, { at: Math.max(0, b.length - 8), len: 8, what: 'gzip trailer' }]);
  if (has(b, 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0])) return shift([{ at: 0, len: 24, what: 'xz header' }, { at: Math.max(0, b.length - 12), len: 12, what: 'xz footer' }]);
  if (has(b, 0, [0x28, 0xb5, 0x2f, 0xfd])) return shift([{ at: 0, len: 18, what: 'zstd frame header' }]);
  if (has(b, 0, [0x50, 0x4b, 3, 4])) return shift(zipRegions(b));
  if (b.length >= 512 && ascii(b, 257, 5) === 'ustar') return shift(tarRegions(b));
  if (b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa) return shift(fatRegions(b, depth));
  if (isText(b)) return shift([{ at: 0, len: b.length, what: 'text', text: true }]);
  return [];
}

function isText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) if (b[i]! < 9 || (b[i]! > 13 && b[i]! < 32)) return false;
  return true;
}

function isoRegions(b: Uint8Array, depth: number): Region[] {
  const out: Region[] = [];
  let pvd = -1;
  for (let s = 16; s < 32 && (s + 1) * 2048 <= b.length; s++) {
    const o = s * 2048;
    out.push({ at: o, len: 2048, what: `volume descriptor type ${b[o]}` });
    if (b[o] === 1 && pvd < 0) pvd = o;
    if (b[o] === 255) break;
  }
  if (pvd < 0) return out;
  const ptSize = u32le(b, pvd + 132);
  out.push({ at: u32le(b, pvd + 140) * 2048, len: ptSize, what: 'L path table' }, { at: u32be(b, pvd + 148) * 2048, len: ptSize, what: 'M path table' });
  // every directory extent, its records, their SUSP/Rock Ridge areas, and file extents' members
  const seen = new Set<number>();
  const walk = (lba: number, size: number, dirDepth: number) => {
    if (seen.has(lba) || dirDepth > 8 || lba * 2048 + size > b.length) return;
    seen.add(lba);
    out.push({ at: lba * 2048, len: size, what: 'directory extent' });
    for (let o = lba * 2048; o < lba * 2048 + size; ) {
      const len = b[o]!;
      if (len === 0) {
        o = (Math.floor(o / 2048) + 1) * 2048;
        continue;
      }
      const nameLen = b[o + 32]!;
      out.push({ at: o, len: 33, what: 'directory record' });
      const su = o + 33 + nameLen + ((nameLen & 1) === 0 ? 1 : 0);
      if (su < o + len) out.push({ at: su, len: o + len - su, what: 'SUSP/Rock Ridge entries' });
      const ext = u32le(b, o + 2);
      const extSize = u32le(b, o + 10);
      const isSelfOrParent = nameLen === 1 && (b[o + 33] === 0 || b[o + 33] === 1);
      if (!isSelfOrParent) {
        if (b[o + 25]! & 2) walk(ext, extSize, dirDepth + 1);
        else if (ext * 2048 + extSize <= b.length) out.push(...regions(b.subarray(ext * 2048, ext * 2048 + extSize), ext * 2048, depth - 1));
      }
      o += len;
    }
  };
  walk(u32le(b, pvd + 158), u32le(b, pvd + 166), 0);
  return out;
}

/** An RPM header structure (magic, counts, index, store) at `o`; returns its end. */
function rpmHeader(b: Uint8Array, o: number, what: string, out: Region[]): number {
  if (o + 16 > b.length) return b.length;
  const n = u32be(b, o + 8);
  const store = u32be(b, o + 12);
  out.push({ at: o, len: 16, what: `${what} header intro` }, { at: o + 16, len: Math.min(n * 16, b.length - o - 16), what: `${what} header index` });
  out.push({ at: o + 16 + n * 16, len: Math.min(store, Math.max(0, b.length - o - 16 - n * 16)), what: `${what} header store` });
  return o + 16 + n * 16 + store;
}

function rpmRegions(b: Uint8Array): Region[] {
  const out: Region[] = [{ at: 0, len: 96, what: 'RPM lead' }];
  let end = rpmHeader(b, 96, 'signature', out);
  end = rpmHeader(b, end + ((8 - (end % 8)) % 8), 'main', out);
  if (end < b.length) out.push(...regions(b.subarray(end, Math.min(b.length, end + 64)), end, 1));
  return out;
}

function elfRegions(b: Uint8Array): Region[] {
  const out: Region[] = [{ at: 0, len: 64, what: 'ELF header' }];
  if (b[4] !== 2 || b.length < 64) return out;
  const shoff = Number(Buffer.from(b.buffer, b.byteOffset, b.length).readBigUInt64LE(0x28));
  const shentsize = u16le(b, 0x3a);
  const shnum = u16le(b, 0x3c);
  const shstrndx = u16le(b, 0x3e);
  if (shoff + shnum * shentsize > b.length || shentsize < 64) return out;
  out.push({ at: shoff, len: shnum * shentsize, what: 'section headers' });
  const sec = (i: number) => {
    const h = shoff + i * shentsize;
    const dv = Buffer.from(b.buffer, b.byteOffset, b.length);
    return { name: u32le(b, h), offset: Number(dv.readBigUInt64LE(h + 24)), size: Number(dv.readBigUInt64LE(h + 32)) };
  };
  const strtab = sec(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    const nameAt = strtab.offset + s.name;
    const end = b.indexOf(0, nameAt);
    const name = end > nameAt ? ascii(b, nameAt, end - nameAt) : '';
    if (['.modinfo', '__versions', '.gnu.linkonce.this_module', '.shstrtab', '.strtab', '.symtab'].includes(name) && s.offset + s.size <= b.length) {
      out.push({ at: s.offset, len: s.size, what: `${name} section` });
    }
  }
  return out;
}

function cpioRegions(b: Uint8Array, depth: number): Region[] {
  const out: Region[] = [];
  let o = 0;
  while (o + 110 <= b.length && ascii(b, o, 6) === '070701') {
    const field = (i: number) => parseInt(ascii(b, o + 6 + i * 8, 8), 16);
    const size = field(6);
    const nameSize = field(11);
    out.push({ at: o, len: 110 + nameSize, what: 'cpio header' });
    const data = o + ((110 + nameSize + 3) & ~3);
    if (size > 0 && data + size <= b.length) out.push(...regions(b.subarray(data, data + size), data, depth - 1));
    o = (data + size + 3) & ~3;
  }
  return out;
}

function tarRegions(b: Uint8Array): Region[] {
  const out: Region[] = [];
  for (let o = 0; o + 512 <= b.length && b[o] !== 0; ) {
    out.push({ at: o, len: 512, what: 'tar header' });
    const size = parseInt(ascii(b, o + 124, 12).replace(/\0.*$/, '').trim() || '0', 8);
    const data = o + 512;
    if (/\.conf$|Kbuild|Makefile/.test(ascii(b, o, 100).replace(/\0.*$/, '')) && data + size <= b.length) out.push({ at: data, len: size, what: 'tar member text', text: true });
    o = data + Math.ceil(size / 512) * 512;
  }
  return out;
}

function zipRegions(b: Uint8Array): Region[] {
  const out: Region[] = [];
  for (let o = b.indexOf(0x50); o >= 0 && o + 4 <= b.length; o = b.indexOf(0x50, o + 1)) {
    if (b[o + 1] !== 0x4b) continue;
    const sig = u16le(b, o + 2);
    if (sig === 0x0403) out.push({ at: o, len: 30 + u16le(b, o + 26), what: 'zip local header' });
    else if (sig === 0x0201) out.push({ at: o, len: 46 + u16le(b, o + 28), what: 'zip central header' });
    else if (sig === 0x0605) out.push({ at: o, len: 22, what: 'zip end of central directory' });
  }
  return out;
}

/** A FAT volume, bare or in the first MBR partition: BPB, FAT, directories, files' members. */
function fatRegions(b: Uint8Array, depth: number): Region[] {
  const out: Region[] = [];
  let v = 0;
  if (b[0] !== 0xeb && b[0] !== 0xe9) {
    out.push({ at: 446, len: 66, what: 'MBR partition table' });
    v = u32le(b, 454) * 512;
    if (v + 512 > b.length) return out;
  }
  const bps = u16le(b, v + 11);
  const spc = b[v + 13]!;
  const reserved = u16le(b, v + 14);
  const fats = b[v + 16]!;
  const fatSectors = u16le(b, v + 22) || u32le(b, v + 36);
  const rootEntries = u16le(b, v + 17);
  out.push({ at: v, len: 90, what: 'FAT boot sector (BPB)' });
  if (!bps || !spc) return out;
  const fatAt = v + reserved * bps;
  out.push({ at: fatAt, len: Math.min(fatSectors * bps, 4096), what: 'FAT' });
  const rootDirAt = fatAt + fats * fatSectors * bps;
  const dataAt = rootDirAt + Math.ceil((rootEntries * 32) / bps) * bps;
  const clusterBytes = spc * bps;
  const fat32 = rootEntries === 0;
  const next = (c: number) => (fat32 ? u32le(b, fatAt + c * 4) & 0x0fffffff : u16le(b, fatAt + c * 2));
  const chain = (c: number) => {
    const cs: number[] = [];
    while (c >= 2 && c < 0x0ffffff7 && cs.length < 4096 && !(fat32 ? false : c >= 0xfff7)) {
      cs.push(c);
      c = next(c);
    }
    return cs;
  };
  const at = (c: number) => dataAt + (c - 2) * clusterBytes;
  const dir = (spans: [number, number][], d: number) => {
    for (const [start, len] of spans) {
      out.push({ at: start, len, what: 'FAT directory' });
      for (let o = start; o < start + len; o += 32) {
        if (b[o] === 0) return;
        if (b[o] === 0xe5 || b[o + 11] === 0x0f || b[o] === 0x2e) continue;
        const first = (u16le(b, o + 20) << 16) | u16le(b, o + 26);
        if (b[o + 11]! & 0x10) {
          if (d < 6) dir(chain(first).map((c) => [at(c), clusterBytes]), d + 1);
        } else {
          const cs = chain(first);
          const size = u32le(b, o + 28);
          if (cs.length > 0 && at(cs[0]!) + size <= b.length) out.push(...regions(b.subarray(at(cs[0]!), at(cs[0]!) + size), at(cs[0]!), depth - 1));
        }
      }
    }
  };
  dir(fat32 ? chain(u32le(b, v + 44)).map((c) => [at(c), clusterBytes]) : [[rootDirAt, rootEntries * 32]], 0);
  return out;
}

/** One mutation applied to a file's bytes, described so a failure can say what was done. */
export interface Mutation {
  bytes: Uint8Array;
  what: string;
}

const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0x00ffffff];
const TEXT_EDITS = ['<', '>', '&', '"', "'", ':', '-', ' ', '\n', '{', '[', '*', '9', '<x>', '</data>', 'sha512', 'zzz', '&#0;'];

function mutateText(b: Uint8Array, r: Region, rng: Rng): Mutation {
  const s = Buffer.from(b);
  const at = r.at + rng.int(Math.max(1, r.len));
  const insert = Buffer.from(rng.pick(TEXT_EDITS));
  const cut = rng.int(3) === 0 ? rng.int(64) : rng.int(2);
  return { bytes: Buffer.concat([s.subarray(0, at), insert, s.subarray(at + cut)]), what: `text edit at ${at} (${JSON.stringify(insert.toString())}, cut ${cut}) in ${r.what}` };
}

/** One seeded mutation of `b`: mostly inside its structure, sometimes anywhere. */
export function mutate(b: Uint8Array, rng: Rng, textOnly = false): Mutation {
  const rs = regions(b).filter((r) => r.len > 0 && r.at < b.length);
  const r: Region = rs.length > 0 && rng.int(8) !== 0 ? rng.pick(rs) : { at: 0, len: b.length, what: 'anywhere', text: textOnly };
  if (r.text || textOnly) return mutateText(b, r, rng);
  const out = Buffer.from(b);
  const op = rng.int(10);
  const at = Math.min(b.length - 1, r.at + rng.int(Math.max(1, r.len)));
  if (op < 4) {
    const n = 1 + rng.int(op === 0 ? 8 : 2);
    for (let i = 0; i < n; i++) {
      const p = Math.min(b.length - 1, r.at + rng.int(Math.max(1, r.len)));
      out[p]! ^= 1 + rng.int(255);
    }
    return { bytes: out, what: `${n} byte flip(s) in ${r.what} at ${r.at}` };
  }
  if (op < 7) {
    const v = rng.pick(HUGE);
    const p = Math.min(at, b.length - 4);
    if (rng.int(2)) out.writeUInt32LE(v, p);
    else out.writeUInt32BE(v, p);
    return { bytes: out, what: `length field 0x${v.toString(16)} at ${p} in ${r.what}` };
  }
  if (op < 8) {
    const n = 1 + rng.int(64);
    out.fill(0, at, Math.min(b.length, at + n));
    return { bytes: out, what: `${n} zero bytes at ${at} in ${r.what}` };
  }
  return { bytes: out.subarray(0, at), what: `truncated at ${at} (${r.what})` };
}

/**
 * A mutation of a gzip file: half the time of the compressed bytes, half the time of what they
 * decompress to (its cpio or tar headers), compressed again.
 */
export function mutateLayered(b: Uint8Array, rng: Rng): Mutation {
  if (has(b, 0, [0x1f, 0x8b]) && rng.int(2) === 0) {
    const inner = mutate(gunzipSync(b), rng);
    return { bytes: gzipSync(inner.bytes), what: `inside the gzip stream: ${inner.what}` };
  }
  return mutate(b, rng);
}
