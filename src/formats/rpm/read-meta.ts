/**
 * What a main header means: dependencies with their operators, scriptlets with interpreters, the
 * file list rebuilt from the compressed (or legacy) file-name tags, the changelog. Pure functions
 * over a decoded Header; parallel arrays are checked for equal lengths so a corrupt header gives a
 * FormatError here rather than `undefined` further on.
 */
import { FormatError } from '../../errors.js';
import type { Header } from './header.js';
import { DIGEST_ALGO, FILEFLAG, SENSE, TAG, tagLabel } from './tags.js';

export type DependencyOp = '' | '<' | '<=' | '=' | '>=' | '>';

export interface RpmDependency {
  name: string;
  op: DependencyOp;
  /** `[E:]V[-R]`, empty when unversioned. */
  version: string;
  /** Raw sense flags (RPMLIB, INTERP, SCRIPT_POST… besides the comparison bits). */
  flags: number;
}

export type DependencyKind = 'provides' | 'requires' | 'conflicts' | 'obsoletes' | 'recommends' | 'suggests' | 'supplements' | 'enhances';

const DEPENDENCY_TAGS: Record<DependencyKind, [name: number, flags: number, version: number]> = {
  provides: [TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION],
  requires: [TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION],
  conflicts: [TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION],
  obsoletes: [TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION],
  recommends: [TAG.RECOMMENDNAME, TAG.RECOMMENDFLAGS, TAG.RECOMMENDVERSION],
  suggests: [TAG.SUGGESTNAME, TAG.SUGGESTFLAGS, TAG.SUGGESTVERSION],
  supplements: [TAG.SUPPLEMENTNAME, TAG.SUPPLEMENTFLAGS, TAG.SUPPLEMENTVERSION],
  enhances: [TAG.ENHANCENAME, TAG.ENHANCEFLAGS, TAG.ENHANCEVERSION],
};

const OPS: Record<number, DependencyOp> = {
  0: '',
  [SENSE.LESS]: '<',
  [SENSE.LESS | SENSE.EQUAL]: '<=',
  [SENSE.EQUAL]: '=',
  [SENSE.GREATER | SENSE.EQUAL]: '>=',
  [SENSE.GREATER]: '>',
};

export function senseOp(flags: number): DependencyOp {
  return OPS[flags & (SENSE.LESS | SENSE.GREATER | SENSE.EQUAL)] ?? '';
}

/** As `rpm -q --provides` prints it: `name`, or `name op version`. */
export function formatDependency(d: RpmDependency): string {
  return d.op && d.version ? `${d.name} ${d.op} ${d.version}` : d.name;
}

/** One array of a set of parallel arrays: `n` items, or `n` fallbacks when the tag is absent. */
function parallel<T>(h: Header, tag: number, n: number, read: (tag: number) => T[], fallback: T): T[] {
  if (!h.has(tag)) return Array<T>(n).fill(fallback);
  const v = read(tag);
  if (v.length !== n) throw new FormatError(`header: ${tagLabel(tag)} has ${v.length} items, expected ${n}`);
  return v;
}

export function dependencies(h: Header, kind: DependencyKind): RpmDependency[] {
  const [nameTag, flagsTag, versionTag] = DEPENDENCY_TAGS[kind];
  const names = h.strings(nameTag);
  const flags = parallel(h, flagsTag, names.length, (t) => h.numbers(t), 0);
  const versions = parallel(h, versionTag, names.length, (t) => h.strings(t), '');
  return names.map((name, i) => {
    const f = flags[i]!;
    const version = versions[i]!;
    return { name, op: version ? senseOp(f) : '', version, flags: f };
  });
}

export type ScriptKind = 'pretrans' | 'prein' | 'postin' | 'preun' | 'postun' | 'posttrans' | 'verify';

export interface RpmScript {
  kind: ScriptKind;
  /** Script body; undefined for `%post -p <program>` scriptlets that only run a program. */
  body?: string;
  /** Interpreter and its arguments (`["/bin/sh"]` when the header names none). */
  interpreter: string[];
}

const SCRIPT_TAGS: [ScriptKind, number, number][] = [
  ['pretrans', TAG.PRETRANS, TAG.PRETRANSPROG],
  ['prein', TAG.PREIN, TAG.PREINPROG],
  ['postin', TAG.POSTIN, TAG.POSTINPROG],
  ['preun', TAG.PREUN, TAG.PREUNPROG],
  ['postun', TAG.POSTUN, TAG.POSTUNPROG],
  ['posttrans', TAG.POSTTRANS, TAG.POSTTRANSPROG],
  ['verify', TAG.VERIFYSCRIPT, TAG.VERIFYSCRIPTPROG],
];

export function scripts(h: Header): RpmScript[] {
  const out: RpmScript[] = [];
  for (const [kind, bodyTag, progTag] of SCRIPT_TAGS) {
    if (!h.has(bodyTag) && !h.has(progTag)) continue;
    const prog = h.strings(progTag);
    const script: RpmScript = { kind, interpreter: prog.length ? prog : ['/bin/sh'] };
    const body = h.string(bodyTag);
    if (body !== undefined) script.body = body;
    out.push(script);
  }
  return out;
}

export type FileType = 'file' | 'dir' | 'symlink' | 'other';

export interface RpmFile {
  /** Absolute path as installed. */
  path: string;
  mode: number;
  type: FileType;
  size: number;
  mtime: number;
  /** Hex digest (FILEDIGESTALGO), empty for non-regular files. */
  digest: string;
  linkTo: string;
  flags: number;
  user: string;
  group: string;
  rdev: number;
  inode: number;
  device: number;
  lang: string;
  /** Ghost files are listed but have no payload member. */
  ghost: boolean;
  config: boolean;
}

function fileType(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    default:
      return 'other';
  }
}

function filePaths(h: Header): string[] {
  if (h.has(TAG.BASENAMES)) {
    const base = h.strings(TAG.BASENAMES);
    const dirs = h.strings(TAG.DIRNAMES);
    const idx = h.numbers(TAG.DIRINDEXES);
    if (idx.length !== base.length) throw new FormatError(`header: ${tagLabel(TAG.DIRINDEXES)} has ${idx.length} items, expected ${base.length}`);
    return base.map((b, i) => {
      const d = dirs[idx[i]!];
      if (d === undefined) throw new FormatError(`header: file ${i} (${b}) points at directory ${idx[i]} of ${dirs.length}`);
      return d + b;
    });
  }
  return h.strings(TAG.OLDFILENAMES);
}

export function files(h: Header): RpmFile[] {
  const paths = filePaths(h);
  const n = paths.length;
  const nums = (tag: number) => parallel(h, tag, n, (t) => h.numbers(t), 0);
  const strs = (tag: number, fallback = '') => parallel(h, tag, n, (t) => h.strings(t), fallback);
  const sizes = h.has(TAG.LONGFILESIZES) ? nums(TAG.LONGFILESIZES) : nums(TAG.FILESIZES);
  const [modes, mtimes, flags, rdevs, inodes, devices] = [TAG.FILEMODES, TAG.FILEMTIMES, TAG.FILEFLAGS, TAG.FILERDEVS, TAG.FILEINODES, TAG.FILEDEVICES].map(nums);
  const [digests, links, langs] = [TAG.FILEDIGESTS, TAG.FILELINKTOS, TAG.FILELANGS].map((t) => strs(t));
  const users = strs(TAG.FILEUSERNAME, 'root');
  const groups = strs(TAG.FILEGROUPNAME, 'root');
  return paths.map((path, i) => {
    const mode = modes![i]!;
    const f = flags![i]!;
    return {
      path,
      mode,
      type: fileType(mode),
      size: sizes[i]!,
      mtime: mtimes![i]!,
      digest: digests![i]!,
      linkTo: links![i]!,
      flags: f,
      user: users[i]!,
      group: groups[i]!,
      rdev: rdevs![i]!,
      inode: inodes![i]!,
      device: devices![i]!,
      lang: langs![i]!,
      ghost: (f & FILEFLAG.GHOST) !== 0,
      config: (f & FILEFLAG.CONFIG) !== 0,
    };
  });
}

/** FILEDIGESTALGO (MD5 when absent, as rpm assumes) and its node:crypto name. */
export function fileDigestAlgo(h: Header): { id: number; name: string } {
  const id = h.number(TAG.FILEDIGESTALGO) ?? 1;
  const name = DIGEST_ALGO[id];
  if (!name) throw new FormatError(`header: unknown ${tagLabel(TAG.FILEDIGESTALGO)} ${id}`);
  return { id, name };
}

export interface RpmChangelogEntry {
  time: number;
  author: string;
  text: string;
}

export function changelog(h: Header): RpmChangelogEntry[] {
  const times = h.numbers(TAG.CHANGELOGTIME);
  const [names, texts] = [TAG.CHANGELOGNAME, TAG.CHANGELOGTEXT].map((t) => parallel(h, t, times.length, (x) => h.strings(x), ''));
  return times.map((time, i) => ({ time, author: names![i]!, text: texts![i]! }));
}

const SCRIPT_LABELS: Record<ScriptKind, string> = {
  pretrans: 'pretrans',
  prein: 'preinstall',
  postin: 'postinstall',
  preun: 'preuninstall',
  postun: 'postuninstall',
  posttrans: 'posttrans',
  verify: 'verify',
};

/** As `rpm -q --scripts` prints one scriptlet. */
export function formatScript(s: RpmScript): string {
  const label = SCRIPT_LABELS[s.kind];
  if (s.body === undefined) return `${label} program: ${s.interpreter.join(' ')}\n`;
  return `${label} scriptlet (using ${s.interpreter.join(' ')}):\n${s.body}\n`;
}
