/**
 * System Use Sharing Protocol entries and the Rock Ridge (RRIP 1.10) entries dudkit writes, as
 * pure encoders, plus the split of one record's entries into what stays inline and what moves to
 * a continuation area.
 */
import { both32, dirDate } from './numbers.js';

function entry(sig: string, data: number): Uint8Array {
  const e = new Uint8Array(4 + data);
  e[0] = sig.charCodeAt(0);
  e[1] = sig.charCodeAt(1);
  e[2] = 4 + data;
  e[3] = 1;
  return e;
}

/** Largest entry: the length byte counts the whole entry. */
const MAX_ENTRY = 255;
export const CE_LENGTH = 28;

export function sp(): Uint8Array {
  const e = entry('SP', 3);
  e[4] = 0xbe;
  e[5] = 0xef;
  return e;
}

export function ce(lba: number, offset: number, length: number): Uint8Array {
  const e = entry('CE', 24);
  both32(e, 4, lba);
  both32(e, 12, offset);
  both32(e, 20, length);
  return e;
}

export const RRIP_1991A = {
  id: 'RRIP_1991A',
  descriptor: 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS',
  source: 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.',
};

/** The extension reference declaring RRIP 1.10 (237 bytes): Linux needs it to use Rock Ridge. */
export function er(): Uint8Array {
  const { id, descriptor, source } = RRIP_1991A;
  const e = entry('ER', 4 + id.length + descriptor.length + source.length);
  e[4] = id.length;
  e[5] = descriptor.length;
  e[6] = source.length;
  e[7] = 1;
  e.set(Buffer.from(id + descriptor + source, 'latin1'), 8);
  return e;
}

/** POSIX attributes, RRIP 1.10 form (no serial number); uid and gid 0. */
export function px(mode: number, links: number): Uint8Array {
  const e = entry('PX', 32);
  both32(e, 4, mode);
  both32(e, 12, links);
  return e;
}

/** Time stamps: modify, access, attributes, all `epoch`. */
export function tf(epoch: number): Uint8Array {
  const e = entry('TF', 22);
  e[4] = 0x0e;
  for (let i = 0; i < 3; i++) dirDate(e, 5 + 7 * i, epoch);
  return e;
}

/** Alternate name, split into several `NM` entries (flag 0x01 = continues) when long. */
export function nm(name: Uint8Array): Uint8Array[] {
  const room = MAX_ENTRY - 5;
  const out: Uint8Array[] = [];
  for (let off = 0; off < name.length || out.length === 0; off += room) {
    const part = name.subarray(off, off + room);
    const e = entry('NM', 1 + part.length);
    e[4] = off + room < name.length ? 0x01 : 0;
    e.set(part, 5);
    out.push(e);
  }
  return out;
}

/** Symbolic link target as `SL` entries: components split at `/`, long ones continued. */
export function sl(target: string): Uint8Array[] {
  const records: Uint8Array[] = [];
  if (target.startsWith('/')) records.push(Uint8Array.of(0x08, 0));
  for (const part of target.split('/')) {
    if (part === '') continue;
    if (part === '.') records.push(Uint8Array.of(0x02, 0));
    else if (part === '..') records.push(Uint8Array.of(0x04, 0));
    else {
      const bytes = Buffer.from(part);
      const room = MAX_ENTRY - 5 - 2;
      for (let off = 0; off < bytes.length; off += room) {
        const piece = bytes.subarray(off, off + room);
        const r = new Uint8Array(2 + piece.length);
        r[0] = off + room < bytes.length ? 0x01 : 0;
        r[1] = piece.length;
        r.set(piece, 2);
        records.push(r);
      }
    }
  }
  // pack component records into entries of at most 255 bytes; all but the last continue
  const out: Uint8Array[] = [];
  let batch: Uint8Array[] = [];
  let batchLen = 0;
  const flush = () => {
    const e = entry('SL', 1 + batchLen);
    let p = 5;
    for (const r of batch) {
      e.set(r, p);
      p += r.length;
    }
    out.push(e);
    batch = [];
    batchLen = 0;
  };
  for (const r of records) {
    if (batchLen + r.length > MAX_ENTRY - 5) flush();
    batch.push(r);
    batchLen += r.length;
  }
  flush();
  for (let i = 0; i < out.length - 1; i++) out[i]![4] = 0x01;
  return out;
}

/**
 * Keep entries inline while they fit in `room` bytes; if not all fit, keep as many as fit
 * together with a trailing `CE`, and return the rest for a continuation area.
 */
export function splitInline(entries: readonly Uint8Array[], room: number): { inline: Uint8Array[]; spill: Uint8Array[] } {
  const total = entries.reduce((n, e) => n + e.length, 0);
  if (total <= room) return { inline: [...entries], spill: [] };
  let used = 0;
  let i = 0;
  while (i < entries.length && used + entries[i]!.length + CE_LENGTH <= room) used += entries[i++]!.length;
  return { inline: entries.slice(0, i), spill: entries.slice(i) };
}
