/**
 * Name mapping for the two non-Rock-Ridge views: ECMA-119 level 1 (8.3 upper case, `;1` on files)
 * and Joliet (UCS-2BE). Both are per directory, because uniqueness is per directory.
 */
import { compareUtf8 } from '../utf8.js';

export interface NameRequest {
  /** The real (Rock Ridge) name. */
  readonly name: string;
  readonly isDir: boolean;
}

/** Upper case, then every code point that is no d-character becomes one `_` (`ß` is `SS` first). */
function dChars(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9_]/gu, '_');
}

/** Split at the last `.`, where a leading `.` does not count (`.treeinfo` has no extension). */
function splitExt(name: string): [string, string | undefined] {
  const i = name.lastIndexOf('.');
  return i > 0 ? [name.slice(0, i), name.slice(i + 1)] : [name, undefined];
}

/**
 * ECMA-119 level-1 identifiers for the children of one directory, in input order: files
 * `NAME.EXT;1`, directories `NAME`. Colliding names get a decimal counter at the end of NAME
 * (ordered by real name bytes), skipping any identifier another child already has.
 */
export function ecmaIdentifiers(children: readonly NameRequest[]): string[] {
  const mapped = children.map(({ name, isDir }) => {
    if (isDir) return { base: dChars(name).slice(0, 8), ext: undefined as string | undefined };
    const [b, e] = splitExt(name);
    return { base: dChars(b).slice(0, 8), ext: dChars(e ?? '').slice(0, 3) };
  });
  const full = (base: string, ext: string | undefined) => (ext === undefined ? base : `${base}.${ext}`);
  const groups = new Map<string, number[]>();
  mapped.forEach((m, i) => {
    const key = full(m.base, m.ext);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const used = new Set(groups.keys());
  const out = mapped.map((m) => full(m.base, m.ext));
  for (const [key, members] of groups) {
    if (members.length < 2) continue;
    used.delete(key);
    members.sort((a, b) => compareUtf8(children[a]!.name, children[b]!.name));
    let counter = 0;
    for (const i of members) {
      const m = mapped[i]!;
      let id: string;
      do {
        const digits = String(counter++);
        id = full(m.base.slice(0, 8 - digits.length) + digits, m.ext);
      } while (used.has(id));
      used.add(id);
      out[i] = id;
    }
  }
  return out.map((id, i) => (children[i]!.isDir ? id : `${id};1`));
}

/** Sort key of an ECMA identifier: the bytes without the `;1` version (ECMA-119 §9.3). */
export function ecmaSortKey(identifier: string): string {
  return identifier.endsWith(';1') ? identifier.slice(0, -2) : identifier;
}

export interface JolietPolicy {
  /** Characters per name: 64 (Joliet) or 103 (the `-joliet-long` convention). */
  readonly limit: number;
  /** What to do with a longer name: refuse, or cut the base and keep the extension. */
  readonly overflow: 'refuse' | 'truncate';
}

export class NameTooLong extends Error {}

const JOLIET_BAD = /[\u0000-\u001f*/:;?\\]/;
/** A name Joliet takes as it is when short enough: no forbidden character, no surrogate. */
const JOLIET_AS_IS = /^[^\u0000-\u001f*/:;?\\\ud800-\udfff]*$/;

function jolietChars(name: string): string[] {
  const out: string[] = [];
  for (const ch of name) out.push(ch.length !== 1 || JOLIET_BAD.test(ch) ? '_' : ch);
  return out;
}

/** Characters a name takes in Joliet (UCS-2: a character outside the BMP becomes one `_`). */
export function jolietLength(name: string): number {
  return jolietChars(name).length;
}

/**
 * Joliet identifiers for the children of one directory, in input order (as JS strings of UCS-2
 * code units). Forbidden and non-BMP characters become `_`; a name over the limit is refused or
 * cut; collisions get a counter before the extension.
 */
export function jolietIdentifiers(children: readonly NameRequest[], policy: JolietPolicy): string[] {
  const split = ({ name, isDir }: NameRequest) => {
    const chars = jolietChars(name);
    if (chars.length > policy.limit && policy.overflow === 'refuse') {
      throw new NameTooLong(`name longer than ${policy.limit} Joliet characters: ${name}`);
    }
    const dot = isDir ? -1 : chars.lastIndexOf('.');
    return dot > 0 ? { base: chars.slice(0, dot), ext: chars.slice(dot) } : { base: chars, ext: [] as string[] };
  };
  const fit = (base: string[], ext: string[], suffix: string): string => {
    const room = policy.limit - ext.length - suffix.length;
    // an extension longer than the whole limit is cut too
    if (room < 1) return (base.slice(0, 1).join('') + suffix + ext.join('')).slice(0, policy.limit);
    return base.slice(0, room).join('') + suffix + ext.join('');
  };
  // most names are their own identifier: only the others, and colliding ones, are split into characters
  const own = (c: NameRequest): string => {
    if (c.name.length <= policy.limit && JOLIET_AS_IS.test(c.name)) return c.name;
    const { base, ext } = split(c);
    return fit(base, ext, '');
  };
  const out = children.map(own);
  const groups = new Map<string, number[]>();
  out.forEach((id, i) => {
    const g = groups.get(id);
    if (g) g.push(i);
    else groups.set(id, [i]);
  });
  const used = new Set(out);
  for (const [id, members] of groups) {
    if (members.length < 2) continue;
    used.delete(id);
    members.sort((a, b) => compareUtf8(children[a]!.name, children[b]!.name));
    let counter = 0;
    for (const i of members) {
      const { base, ext } = split(children[i]!);
      let next: string;
      do next = fit(base, ext, String(counter++));
      while (used.has(next));
      used.add(next);
      out[i] = next;
    }
  }
  return out;
}

/** UCS-2BE bytes of a Joliet identifier (code units are already BMP). */
export function ucs2be(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[2 * i] = c >>> 8;
    out[2 * i + 1] = c & 0xff;
  }
  return out;
}
