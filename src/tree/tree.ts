import { UserError } from '../errors.js';
import { compareUtf8 } from '../formats/utf8.js';
import type { BuildRun } from './artifacts.js';
import type { Source } from './source.js';
import type { Scratch } from './scratch.js';

/**
 * Content that is generated from other entries of the same tree (repodata from the RPMs beside
 * it, a nested ISO from a sub-tree): built once, after the entries it depends on, before the
 * emitter plans the image. Large results are spooled to the scratch folder, never kept in memory.
 */
export interface Generated {
  readonly kind: 'generated';
  /** Tree paths whose resolved sources `build` receives, in this order. */
  readonly deps: readonly string[];
  /**
   * What determines the bytes besides the dependencies' (an `identityOf` the recipe and its
   * options): entries of equal keys and equal dependencies are built once per build and shared.
   * None: built each time it is planned.
   */
  readonly key?: string;
  build(deps: Source[], scratch: Scratch, run: BuildRun): Promise<Source>;
}

export type Content = Source | Generated;

/**
 * A folder whose files are only known once built (repodata names carry their own checksums).
 * `build` returns paths relative to the folder; they may not collide with other entries.
 */
export interface GeneratedDir {
  readonly deps: readonly string[];
  /** As `Generated.key`. */
  readonly key?: string;
  build(deps: Source[], scratch: Scratch, run: BuildRun): Promise<{ path: string; source: Source; mode?: number }[]>;
}

export interface FileEntry { readonly type: 'file'; readonly path: string; readonly mode: number; readonly content: Content }
export interface DirEntry { readonly type: 'dir'; readonly path: string; readonly mode: number }
export interface SymlinkEntry { readonly type: 'symlink'; readonly path: string; readonly target: string }
export interface GeneratedDirEntry { readonly type: 'generated-dir'; readonly path: string; readonly mode: number; readonly content: GeneratedDir }
export type Entry = FileEntry | DirEntry | SymlinkEntry | GeneratedDirEntry;

/** A resolved file: every generated content already built. */
export interface ResolvedFile extends FileEntry { readonly content: Source }
export type ResolvedEntry = ResolvedFile | DirEntry | SymlinkEntry;

export function isGenerated(c: Content): c is Generated {
  return (c as Generated).kind === 'generated';
}

/** Check a tree path: relative POSIX, no empty, `.` or `..` components, no NUL. */
export function checkPath(path: string): string {
  if (path === '' || path.startsWith('/') || path.includes('\0')) throw new UserError(`unsafe path in output tree: ${JSON.stringify(path)}`);
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') throw new UserError(`unsafe path in output tree: ${JSON.stringify(path)}`);
  }
  return path;
}

/** Byte-wise comparison of UTF-8 paths: the one order every emitter uses. */
export const comparePaths: (a: string, b: string) => number = compareUtf8;

/**
 * A virtual file tree. Parents are implied (created as 0755 directories); adding the same path
 * twice is an error, because silently replacing a file loses data.
 */
export class Tree {
  private readonly map = new Map<string, Entry>();

  file(path: string, content: Content, mode = 0o644): this {
    return this.put({ type: 'file', path: checkPath(path), mode, content });
  }

  dir(path: string, mode = 0o755): this {
    return this.put({ type: 'dir', path: checkPath(path), mode });
  }

  /** A folder whose content is generated from other entries (see GeneratedDir). */
  generatedDir(path: string, content: GeneratedDir, mode = 0o755): this {
    return this.put({ type: 'generated-dir', path: checkPath(path), mode, content });
  }

  symlink(path: string, target: string): this {
    if (target === '' || target.includes('\0')) throw new UserError(`bad symlink target for ${path}`);
    return this.put({ type: 'symlink', path: checkPath(path), target });
  }

  has(path: string): boolean {
    return this.map.has(path);
  }

  get(path: string): Entry | undefined {
    return this.map.get(path);
  }

  /** Add every entry of `other` under `prefix` ('' for the root); generated entries keep their dependencies. */
  graft(prefix: string, other: Tree): this {
    const at = (p: string) => (prefix ? `${prefix}/${p}` : p);
    for (const e of other.entries()) {
      const path = at(e.path);
      if (e.type === 'dir' && this.map.get(path)?.type === 'dir') continue;
      if (e.type === 'generated-dir') this.put({ ...e, path, content: { ...e.content, deps: e.content.deps.map(at) } });
      else if (e.type === 'file' && isGenerated(e.content)) this.put({ ...e, path, content: { ...e.content, deps: e.content.deps.map(at) } });
      else this.put({ ...e, path });
    }
    return this;
  }

  /**
   * All entries, parents implied, sorted by path bytes (so parents come before children). Nothing
   * lies below a file or symlink, whatever order the entries were added in: an emitter writing
   * `a/x` after a symlink `a` would write wherever the link points.
   */
  entries(): Entry[] {
    const all = new Map(this.map);
    for (const path of this.map.keys()) {
      let i = path.lastIndexOf('/');
      while (i > 0) {
        const parent = path.slice(0, i);
        const there = all.get(parent);
        if (!there) all.set(parent, { type: 'dir', path: parent, mode: 0o755 });
        else if (there.type !== 'dir' && there.type !== 'generated-dir') throw new UserError(`${path}: parent ${parent} is not a directory`);
        i = parent.lastIndexOf('/');
      }
    }
    return [...all.values()].sort((a, b) => comparePaths(a.path, b.path));
  }

  private put(entry: Entry): this {
    const existing = this.map.get(entry.path);
    if (existing && !(existing.type === 'dir' && entry.type === 'dir')) {
      throw new UserError(`two entries for the same output path: ${entry.path}`);
    }
    for (let i = entry.path.lastIndexOf('/'); i > 0; i = entry.path.lastIndexOf('/', i - 1)) {
      const parent = this.map.get(entry.path.slice(0, i));
      if (parent && parent.type !== 'dir' && parent.type !== 'generated-dir') throw new UserError(`${entry.path}: parent ${parent.path} is not a directory`);
    }
    this.map.set(entry.path, entry);
    return this;
  }
}
