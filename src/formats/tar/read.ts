/**
 * The tar reader: the subset `dkms mktarball` archives use (GNU tar: ustar headers, GNU long names, pax
 * path records), read as a stream: every member's name is reported, and only the members the
 * caller asks for are kept in memory (kernel modules and dkms.conf, never the sources), within a
 * budget: a member's size is checked before any of it is read.
 */
import { FormatError } from '../../errors.js';
import type { ReadBudget } from '../../tree/bounded.js';
import { ByteReader } from '../bytes.js';
import { BLOCK, headerChecksum } from './header.js';

/** What a member's header says (the SUSE reader checks owners, magic and links). */
export interface TarMemberHeader {
  name: string;
  /** As stored, before `./` is removed. */
  rawName: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  linkTarget: string;
  /** Bytes 257–262: `ustar\0` (POSIX) or `ustar ` (GNU). */
  magic: string;
}

export interface TarListing {
  /** Every member name, `./` removed, in archive order. */
  names: string[];
  /** Every member's header, in archive order. */
  members: TarMemberHeader[];
  /** The kept members' contents by name. */
  files: Map<string, Uint8Array>;
}

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function field(h: Uint8Array, at: number, len: number): string {
  const f = h.subarray(at, at + len);
  const end = f.indexOf(0);
  return utf8.decode(end < 0 ? f : f.subarray(0, end));
}

/** Octal size field, or GNU base-256 when the top bit is set. */
function size(h: Uint8Array): number {
  const f = h.subarray(124, 136);
  if (f[0]! & 0x80) {
    let n = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    if (!Number.isSafeInteger(n)) throw new FormatError('tar member size is too large');
    return n;
  }
  const text = latin1.decode(f).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]*$/.test(text)) throw new FormatError(`bad tar size field ${JSON.stringify(text)}`);
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(h: Uint8Array): boolean {
  return parseInt(latin1.decode(h.subarray(148, 156)).replace(/[\0 ]/g, ''), 8) === headerChecksum(h);
}

/** `path=` from pax extended header records (`<len> key=value\n`). */
function paxPath(data: Uint8Array): string | undefined {
  const text = utf8.decode(data);
  let path: string | undefined;
  let at = 0;
  while (at < text.length) {
    const space = text.indexOf(' ', at);
    const len = parseInt(text.slice(at, space), 10);
    if (space < 0 || !(len > 0)) throw new FormatError('bad pax extended header');
    const record = text.slice(space + 1, at + len - 1);
    if (record.startsWith('path=')) path = record.slice(5);
    at += len;
  }
  return path;
}

/** Walk a tar stream; keep the regular files `keep` selects, charged to the budget before they are read. */
export async function readTar(input: AsyncIterable<Uint8Array>, keep: (name: string) => boolean, budget: ReadBudget): Promise<TarListing> {
  const q = new ByteReader(input, 0, 'tar archive');
  const listing: TarListing = { names: [], members: [], files: new Map() };
  let longName: string | undefined;
  for (;;) {
    if (await q.atEnd()) break; // some writers omit the two zero blocks
    const h = (await q.read(BLOCK, 'a member header')).slice();
    if (h.every((b) => b === 0)) break;
    if (!checksumOk(h)) throw new FormatError(`bad tar header checksum at member ${listing.names.length + 1}`);
    const type = String.fromCharCode(h[156]!);
    const n = size(h);
    const padded = Math.ceil(n / BLOCK) * BLOCK;
    if (type === 'g') {
      await q.skip(padded, 'a pax global header');
      continue;
    }
    if (type === 'L' || type === 'x') {
      budget.charge(n, 'a long-name record');
      const data = await q.read(n, 'a long-name record');
      await q.skip(padded - n, 'padding');
      const name = type === 'L' ? field(data, 0, data.length) : paxPath(data);
      if (name !== undefined) longName = name;
      continue;
    }
    const magic = latin1.decode(h.subarray(257, 263));
    const prefix = magic === 'ustar\0' ? field(h, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
    longName = undefined;
    const rawName = name;
    name = name.replace(/^(\.\/)+/, '').replace(/\/$/, '');
    if (name) listing.names.push(name);
    const regular = type === '0' || type === '\0' || type === '7';
    const octal = (at: number, len: number) => parseInt(latin1.decode(h.subarray(at, at + len)).replace(/[\0 ]/g, '') || '0', 8);
    listing.members.push({
      name, rawName, magic, type: regular ? 'file' : type === '5' ? 'dir' : type === '2' ? 'symlink' : 'other',
      mode: octal(100, 8), uid: octal(108, 8), gid: octal(116, 8), linkTarget: field(h, 157, 100),
    });
    if (regular && keep(name)) {
      budget.charge(n, name);
      // a copy: the reader's sub-arrays keep whole input chunks alive
      listing.files.set(name, (await q.read(n, name)).slice());
      await q.skip(padded - n, 'padding');
    } else {
      await q.skip(padded, name || 'a member');
    }
  }
  return listing;
}
