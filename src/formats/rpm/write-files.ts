/**
 * The file list of a package being written: validated, sorted by full path (byte order, as
 * rpmbuild does; the payload follows the same order), numbered, and split into the compressed
 * DIRNAMES/BASENAMES/DIRINDEXES form (`rpm.md` "File list").
 */
import type { Source } from '../../tree/source.js';
import { comparePaths } from '../../tree/tree.js';
import { FILEFLAG } from './tags.js';

export type FileFlag = 'config' | 'noreplace' | 'doc' | 'ghost' | 'license' | 'readme' | 'missingok';

interface FileCommon {
  /** Absolute path as installed, e.g. `/lib/modules/<K>/extra/foo/foo.ko`. */
  path: string;
  /** Permission bits (07777); defaults 0644 files, 0755 directories, 0777 symlinks. */
  mode?: number;
  user?: string;
  group?: string;
  /** Defaults to the package's build time. */
  mtime?: number;
  flags?: FileFlag[];
}

export type RpmFile =
  | (FileCommon & { type: 'file'; /** absent only for %ghost files */ content?: Source })
  | (FileCommon & { type: 'dir' })
  | (FileCommon & { type: 'symlink'; target: string });

/** One file as the header and the payload describe it. */
export interface FileRecord {
  path: string;
  /** Full st_mode, type bits included. */
  mode: number;
  size: number;
  mtime: number;
  user: string;
  group: string;
  flags: number;
  linkTo: string;
  /** FILEINODES value and cpio c_ino: 1..n in file order. */
  ino: number;
  /** Regular non-ghost files only. */
  content?: Source;
  /** Ghost files are listed in the header but have no payload member. */
  ghost: boolean;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** rpm's 32-bit size fields; rpmbuild switches to LONG* tags at this size (`rpm.md` rule 12). */
export const MAX_RPM_SIZE = 0xffffffff;

const FLAG_BITS: Readonly<Record<FileFlag, number>> = {
  config: FILEFLAG.CONFIG,
  noreplace: FILEFLAG.CONFIG | FILEFLAG.NOREPLACE,
  doc: FILEFLAG.DOC,
  ghost: FILEFLAG.GHOST,
  license: FILEFLAG.LICENSE,
  readme: FILEFLAG.README,
  missingok: FILEFLAG.MISSINGOK,
};

function checkPath(path: string): void {
  const bad = (why: string): never => {
    throw new RangeError(`file path ${JSON.stringify(path)}: ${why}`);
  };
  if (!path.startsWith('/') || path === '/') bad('must be absolute and not the root');
  if (/[\0-\x1f\x7f]/.test(path) || /\p{Surrogate}/u.test(path)) bad('control characters or invalid Unicode');
  for (const part of path.slice(1).split('/')) if (part === '' || part === '.' || part === '..') bad('empty, "." or ".." component');
}

function checkOwner(name: string, path: string): string {
  if (name === '' || /[\s\0:]/.test(name)) throw new RangeError(`file ${path}: bad owner name ${JSON.stringify(name)}`);
  return name;
}

const utf8 = new TextEncoder();

/** Validate, sort and number the files; sizes are checked from their declarations, before any read. */
export function planFiles(files: readonly RpmFile[], defaultMtime: number): FileRecord[] {
  const sorted = [...files].sort((a, b) => comparePaths(a.path, b.path));
  const records: FileRecord[] = [];
  sorted.forEach((f, i) => {
    checkPath(f.path);
    if (i > 0 && sorted[i - 1]!.path === f.path) throw new RangeError(`file ${f.path} is listed twice`);
    let flags = 0;
    for (const flag of f.flags ?? []) flags |= FLAG_BITS[flag];
    const ghost = (flags & FILEFLAG.GHOST) !== 0;
    const perm = f.mode ?? (f.type === 'file' ? 0o644 : f.type === 'dir' ? 0o755 : 0o777);
    if (!Number.isInteger(perm) || perm < 0 || perm > 0o7777) throw new RangeError(`file ${f.path}: mode ${perm} is not within 07777`);
    const mtime = f.mtime ?? defaultMtime;
    if (!Number.isInteger(mtime) || mtime < 0 || mtime > 0xffffffff) throw new RangeError(`file ${f.path}: bad mtime ${mtime}`);
    const base = { path: f.path, mtime, user: checkOwner(f.user ?? 'root', f.path), group: checkOwner(f.group ?? 'root', f.path), flags, ino: i + 1, ghost };
    if (f.type === 'file') {
      if (!ghost && !f.content) throw new RangeError(`file ${f.path} has no content`);
      if (ghost && f.content) throw new RangeError(`file ${f.path}: a %ghost file has no content in the package`);
      const size = f.content?.size ?? 0;
      if (size >= MAX_RPM_SIZE) throw new RangeError(`file ${f.path} (${f.content!.origin}) is ${size} bytes: RPM files of 4 GiB - 1 or more are not supported`);
      records.push({ ...base, mode: S_IFREG | perm, size, linkTo: '', ...(f.content ? { content: f.content } : {}) });
    } else if (f.type === 'dir') {
      records.push({ ...base, mode: S_IFDIR | perm, size: 0, linkTo: '' });
    } else {
      if (f.target === '' || f.target.includes('\0')) throw new RangeError(`symlink ${f.path} needs a target`);
      records.push({ ...base, mode: S_IFLNK | perm, size: utf8.encode(f.target).length, linkTo: f.target });
    }
  });
  // rpm cannot install below a file or a symlink of the same package
  const leaves = new Set(records.filter((r) => (r.mode & 0o170000) !== S_IFDIR).map((r) => r.path));
  for (const r of records) {
    for (let i = r.path.lastIndexOf('/'); i > 0; i = r.path.lastIndexOf('/', i - 1)) {
      if (leaves.has(r.path.slice(0, i))) throw new RangeError(`file ${r.path} lies below ${r.path.slice(0, i)}, which is not a directory`);
    }
  }
  const total = records.reduce((n, r) => n + r.size, 0);
  if (total >= MAX_RPM_SIZE) throw new RangeError(`files total ${total} bytes: RPM packages of 4 GiB - 1 or more are not supported`);
  return records;
}

/** DIRNAMES (each ending in `/`, in first-use order), and per file BASENAMES and DIRINDEXES. */
export function compressedNames(records: readonly FileRecord[]): { dirNames: string[]; baseNames: string[]; dirIndexes: number[] } {
  const dirNames: string[] = [];
  const index = new Map<string, number>();
  const baseNames: string[] = [];
  const dirIndexes: number[] = [];
  for (const r of records) {
    const cut = r.path.lastIndexOf('/') + 1;
    const dir = r.path.slice(0, cut);
    let i = index.get(dir);
    if (i === undefined) {
      i = dirNames.push(dir) - 1;
      index.set(dir, i);
    }
    dirIndexes.push(i);
    baseNames.push(r.path.slice(cut));
  }
  return { dirNames, baseNames, dirIndexes };
}
