/**
 * Identities of tree contents: a string that stands for a content's bytes within one build, so
 * that the same artifact planned twice (the kmod RPM of an `rhdd3` disk and of the same disk
 * nested in a `pxe` overlay) is recognised without building either. Equal identities mean equal
 * bytes; an unknown identity (undefined) only means "not shared". Identities name input sources
 * by file range or by object, so they hold within one process, never across builds.
 */
import { createHash } from 'node:crypto';
import type { Source } from './source.js';
import { isGenerated, type Entry, type Tree } from './tree.js';

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

function isSource(v: object): v is Source {
  const s = v as Partial<Source>;
  return typeof s.open === 'function' && typeof s.size === 'number';
}

/**
 * A source's identity: its own `key` (bytes: their hash), else its file range, else the object
 * itself (a source yields the same bytes on every `open()`).
 */
export function sourceIdentity(s: Source): string {
  if (s.key !== undefined) return s.key;
  if (s.file) return `file:${s.file.path}@${s.file.offset}+${s.size}`;
  return objectIdentity(s);
}

/** An object's identity within this process: the same object, the same identity. */
export function objectIdentity(o: object): string {
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = ++nextObjectId));
  return `object:${id}`;
}

/**
 * The identity of a plain description (an RPM recipe with its options, a medium's settings): its
 * JSON with every source replaced by the source's identity. Undefined when it holds a function
 * (a signing callback), whose effect on the bytes JSON cannot tell.
 */
export function identityOf(value: unknown): string | undefined {
  let opaque = false;
  const json = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'function') opaque = true;
    if (typeof v === 'object' && v !== null && isSource(v)) return { source: sourceIdentity(v) };
    if (v instanceof Uint8Array) return { bytes: createHash('sha256').update(v).digest('hex') };
    return v;
  });
  return opaque ? undefined : createHash('sha256').update(json).digest('hex');
}

/** A generated entry's identity: its kind, its key, its dependencies' identities. */
export function generatedIdentity(type: 'file' | 'generated-dir', key: string, deps: readonly string[]): string {
  return identityOf([type, key, deps])!;
}

/**
 * Every entry's identity, by path: a plain file's is its source's; a generated entry's combines its
 * `key` with its dependencies' identities (undefined when it has no key or a dependency has none).
 */
export function entryIdentities(entries: readonly Entry[]): Map<string, string | undefined> {
  const byPath = new Map<string, Entry>(entries.map((e) => [e.path, e]));
  const ids = new Map<string, string | undefined>();
  const visiting = new Set<string>();
  const of = (path: string): string | undefined => {
    if (ids.has(path)) return ids.get(path);
    const e = byPath.get(path);
    let id: string | undefined;
    if (e?.type === 'dir') id = `dir:${e.mode}`;
    else if (e?.type === 'symlink') id = `symlink:${e.target}`;
    else if (e) {
      const made = e.type === 'generated-dir' ? e.content : isGenerated(e.content) ? e.content : undefined;
      if (!made) id = sourceIdentity(e.content as Source);
      else if (made.key !== undefined && !visiting.has(path)) {
        visiting.add(path);
        const deps = made.deps.map(of);
        visiting.delete(path);
        if (deps.every((d): d is string => d !== undefined)) id = generatedIdentity(e.type, made.key, deps);
      }
    }
    ids.set(path, id);
    return id;
  };
  for (const e of entries) of(e.path);
  return ids;
}

/** The identity of a whole tree (paths, modes and contents); undefined when an entry has none. */
export function treeIdentity(tree: Tree): string | undefined {
  const entries = tree.entries();
  const ids = entryIdentities(entries);
  const parts: string[] = [];
  for (const e of entries) {
    const id = ids.get(e.path);
    if (id === undefined) return undefined;
    parts.push(`${e.type}\0${e.path}\0${'mode' in e ? e.mode : ''}\0${id}`);
  }
  return identityOf(parts);
}
