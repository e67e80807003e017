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

/**
 * Relocation (RRIP §4.1.5): `CL` in the placeholder where a deep directory was, pointing to its
 * extent; `PL` in the moved directory's `..`, pointing to the original parent; `RE` on the moved
 * directory's record. The LBAs are known only after allocation: the planner fills them in.
 */
export function cl(): Uint8Array {
  return entry('CL', 8);
}
export function pl(): Uint8Array {
  return entry('PL', 8);
}
export function re(): Uint8Array {
  return entry('RE', 0);
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

function textComponent(bytes: Uint8Array, continues: boolean): Uint8Array {
  const r = new Uint8Array(2 + bytes.length);
  r[0] = continues ? 0x01 : 0;
  r[1] = bytes.length;
  r.set(bytes, 2);
  return r;
}

/**
 * Symbolic link target as `SL` entries: components split at `/`. When the target needs several
 * entries, each entry ends inside a text component (flag 0x01 on that component): Linux and
 * libarchive disagree about the separator at an entry boundary between whole components, but both
 * join a continued component without one.
 */
export function sl(target: string): Uint8Array[] {
  const ROOM = MAX_ENTRY - 5;
  const queue: Uint8Array[] = [];
  if (target.startsWith('/')) queue.push(Uint8Array.of(0x08, 0));
  for (const part of target.split('/')) {
    if (part === '') continue;
    if (part === '.') queue.push(Uint8Array.of(0x02, 0));
    else if (part === '..') queue.push(Uint8Array.of(0x04, 0));
    else {
      const bytes = Buffer.from(part);
      for (let off = 0; off < bytes.length; off += ROOM - 2) {
        queue.push(textComponent(bytes.subarray(off, off + ROOM - 2), off + ROOM - 2 < bytes.length));
      }
    }
  }
  const batches: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let used = 0;
  while (queue.length > 0) {
    const r = queue.shift()!;
    if (used + r.length <= ROOM) {
      cur.push(r);
      used += r.length;
      continue;
    }
    const room = ROOM - used;
    const isText = (c: Uint8Array) => c[1]! > 0;
    if (isText(r) && room >= 3) {
      const n = room - 2;
      cur.push(textComponent(r.subarray(2, 2 + n), true));
      queue.unshift(textComponent(r.subarray(2 + n), (r[0]! & 1) === 1));
    } else {
      // move the tail of the last text component (and what follows it) to the next entry
      let i = cur.length - 1;
      while (i >= 0 && cur[i]![1]! < 2) i--;
      if (i >= 0) {
        const [t, ...carry] = cur.splice(i);
        const text = t!.subarray(2);
        cur.push(textComponent(text.subarray(0, text.length - 1), true));
        queue.unshift(textComponent(text.subarray(text.length - 1), (t![0]! & 1) === 1), ...carry, r);
      } else {
        queue.unshift(r);
      }
    }
    batches.push(cur);
    cur = [];
    used = 0;
  }
  batches.push(cur);
  return batches.map((batch, i) => {
    const e = entry('SL', 1 + batch.reduce((n, c) => n + c.length, 0));
    e[4] = i < batches.length - 1 ? 0x01 : 0;
    let p = 5;
    for (const c of batch) {
      e.set(c, p);
      p += c.length;
    }
    return e;
  });
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
