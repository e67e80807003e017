/**
 * One package as repository metadata sees it: read from the start of the RPM's stream (lead,
 * signature header, main header) while the whole stream is hashed once for the package id, then
 * mapped to createrepo_c's model (`parsehdr.c`): dependencies with its requires filtering, file
 * types, changelog limit and date bumping. Only the two headers are ever held in memory.
 */
import { open } from 'node:fs/promises';
import { FormatError, UserError } from '../../errors.js';
import { hashInline, type Hashing, type StreamHasher } from '../../tree/hashing.js';
import { sliceSource, type Source } from '../../tree/source.js';
import { decodeHeader, type Header, headerSize } from '../rpm/header.js';
import { FILEFLAG, LEAD, SENSE, SIGTAG, TAG } from '../rpm/tags.js';
import { rpmvercmp } from '../rpm/vercmp.js';

export type ChecksumType = 'sha256' | 'sha1';
export type DepFlags = 'LT' | 'GT' | 'EQ' | 'LE' | 'GE';

export interface RepoDependency {
  name: string;
  /** Present only for versioned dependencies, together with epoch and ver. */
  flags?: DepFlags;
  epoch?: string;
  ver?: string;
  rel?: string;
  /** Requires only: needed by a pre/post scriptlet. */
  pre?: boolean;
}

export interface RepoFile {
  path: string;
  type?: 'dir' | 'ghost';
}

export interface RepoChangelog {
  author: string;
  date: number;
  text: string;
}

export const DEPENDENCY_KINDS = ['provides', 'requires', 'conflicts', 'obsoletes', 'suggests', 'enhances', 'recommends', 'supplements'] as const;
export type DependencyKind = (typeof DEPENDENCY_KINDS)[number];

export interface RepoPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  checksumType: ChecksumType;
  /** Hex digest of the whole RPM file: the package id. */
  checksum: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  buildTime: number;
  size: { package: number; installed: number; archive: number };
  /** Byte range of the main header in the file. */
  headerRange: { start: number; end: number };
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourcerpm: string;
  deps: Record<DependencyKind, RepoDependency[]>;
  /** Every file in header order. */
  files: RepoFile[];
  /** At most the changelog limit, oldest first, dates strictly increasing within equal runs. */
  changelogs: RepoChangelog[];
}

/** createrepo_c's default `--changelog-limit`. */
export const CHANGELOG_LIMIT = 10;

const LEAD_AND_INTRO = LEAD.SIZE + 16;

/** The first bytes of a package that a worker reading it hands back: a kmod's headers take a few KiB. */
const HEAD_KEPT = 64 << 10;

/**
 * Read a package from its source in one pass: the headers from the first bytes, the checksum and
 * size from all of them. Throws FormatError for anything that is not a readable RPM. `buffer`:
 * where a package on disk is read into (one per concurrent reader, reused from package to
 * package); `hashing`: where its bytes are hashed (inline, or a worker pool's lane, which reads
 * a package on disk itself and hands back its first bytes).
 */
export async function readRepoPackage(
  source: Source,
  checksumType: ChecksumType,
  changelogLimit = CHANGELOG_LIMIT,
  buffer?: Uint8Array,
  hashing: Hashing = hashInline(checksumType),
): Promise<RepoPackage> {
  if (source.file && hashing.hashFile) {
    const { path, offset } = source.file;
    const [head, checksum] = await hashing.hashFile(path, offset, source.size, HEAD_KEPT);
    // headers longer than the bytes handed back (thousands of files): the rest of them read here
    const rest = head.length < source.size ? sliceSource(path, offset + head.length, source.size - head.length, source.origin).open() : [];
    const { sig, main } = await readHeaders(chain(head, rest), false);
    return packageFromHeaders(sig, main, { checksumType, checksum, size: source.size, changelogLimit });
  }
  const reused = buffer !== undefined && source.file !== undefined;
  const [{ sig, main, size }, checksum] = await hashing.hash((hasher) => readHeaders(reused ? readInto(source, buffer) : source.open(), reused, hasher));
  return packageFromHeaders(sig, main, { checksumType, checksum, size, changelogLimit });
}

async function* chain(first: Uint8Array, rest: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  yield* rest;
}

/**
 * The two headers from the first of `chunks` (`reused`: each a view of one buffer, valid until
 * the next), with every byte passed to `hasher` and counted; without one, only as far as the
 * headers reach.
 */
async function readHeaders(chunks: AsyncIterable<Uint8Array>, reused: boolean, hasher?: StreamHasher): Promise<{ sig: Header; main: Header; size: number }> {
  let size = 0;
  /** The bytes seen while the headers are incomplete. */
  let head: Uint8Array | undefined;
  let headLength = 0;
  let needed = LEAD_AND_INTRO;
  let headers: { sig: Header; main: Header } | undefined;

  for await (const chunk of chunks) {
    await hasher?.update(chunk);
    size += chunk.length;
    if (headers) continue;
    // the chunk may be the reused buffer, overwritten by the next read: what is kept of it is
    // copied, and only when kept (the headers usually lie whole in the first chunk)
    const buf = head === undefined ? chunk : Buffer.concat([head, chunk]);
    const owned = !reused || buf !== chunk;
    headLength = buf.length;
    // grow the target as each header's size becomes known, then decode once
    while (!headers && headLength >= needed) {
      const next = headerBytesNeeded(buf);
      if (next > needed) needed = next;
      else headers = decodeHeaders(owned ? buf : buf.slice(0, needed));
    }
    if (!headers) head = owned ? buf : buf.slice();
    else if (!hasher) break;
  }
  if (!headers) {
    if (headLength < LEAD_AND_INTRO) checkLead(head ?? new Uint8Array(0));
    throw new FormatError(`truncated RPM: ${headLength} bytes, the headers need ${needed}`);
  }
  return { ...headers, size };
}

/**
 * A file source's bytes read into `buffer`, each chunk a view of it valid until the next one:
 * a repository of a thousand packages allocates a few buffers, not one per package.
 */
async function* readInto(source: Source, buffer: Uint8Array): AsyncGenerator<Uint8Array> {
  const { path, offset } = source.file!;
  const fh = await open(path, 'r');
  try {
    let done = 0;
    while (done < source.size) {
      const { bytesRead } = await fh.read(buffer, 0, Math.min(buffer.length, source.size - done), offset + done);
      if (bytesRead === 0) throw new UserError(`changed while being read (expected ${source.size} bytes, got ${done})`, source.origin);
      done += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function checkLead(buf: Uint8Array): void {
  if (buf.length < LEAD.MAGIC.length || !LEAD.MAGIC.every((b, i) => buf[i] === b)) throw new FormatError('not an RPM package (bad lead magic)');
  if (buf.length >= 5 && buf[4] !== 3 && buf[4] !== 4) throw new FormatError(`unsupported RPM format version ${buf[4]}`);
}

function sigPadding(sigLength: number): number {
  return (8 - (sigLength % 8)) % 8;
}

/** How many leading bytes the lead and both headers take, as far as `buf` lets us know. */
function headerBytesNeeded(buf: Uint8Array): number {
  checkLead(buf);
  const sigLength = headerSize(buf.subarray(LEAD.SIZE, LEAD_AND_INTRO), 'signature');
  const mainStart = LEAD.SIZE + sigLength + sigPadding(sigLength);
  if (buf.length < mainStart + 16) return mainStart + 16;
  return mainStart + headerSize(buf.subarray(mainStart, mainStart + 16), 'main');
}

function decodeHeaders(buf: Uint8Array): { sig: Header; main: Header } {
  const { header: sig, length } = decodeHeader(buf, LEAD.SIZE, 62);
  const { header: main } = decodeHeader(buf, LEAD.SIZE + length + sigPadding(length), 63);
  return { sig, main };
}

export interface PackageFileFacts {
  checksumType: ChecksumType;
  checksum: string;
  size: number;
  changelogLimit?: number;
}

/** Map decoded headers to repository metadata (createrepo_c `parsehdr.c` rules). */
export function packageFromHeaders(sig: Header, h: Header, file: PackageFileFacts): RepoPackage {
  const str = (tag: number): string => h.string(tag) ?? '';
  const isSource = isSourceHeader(h);
  const files = fileList(h);
  const provides = dependencies(h, TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION);
  return {
    name: str(TAG.NAME),
    arch: isSource ? 'src' : str(TAG.ARCH),
    epoch: String(h.number(TAG.EPOCH) ?? 0),
    version: str(TAG.VERSION),
    release: str(TAG.RELEASE),
    checksumType: file.checksumType,
    checksum: file.checksum,
    summary: str(TAG.SUMMARY),
    description: str(TAG.DESCRIPTION),
    packager: str(TAG.PACKAGER),
    url: str(TAG.URL),
    buildTime: h.number(TAG.BUILDTIME) ?? 0,
    size: {
      package: file.size,
      installed: h.number(TAG.LONGSIZE) ?? h.number(TAG.SIZE) ?? 0,
      archive: sig.number(SIGTAG.LONGARCHIVESIZE) ?? sig.number(SIGTAG.PAYLOADSIZE) ?? h.number(TAG.ARCHIVESIZE) ?? 0,
    },
    headerRange: { ...h.range },
    license: str(TAG.LICENSE),
    vendor: str(TAG.VENDOR),
    group: str(TAG.GROUP),
    buildhost: str(TAG.BUILDHOST),
    sourcerpm: h.string(TAG.SOURCERPM) ?? (isSource ? '' : '(none)'),
    deps: {
      provides: provides.map((d) => d.dep),
      requires: filterRequires(dependencies(h, TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION), provides, files),
      conflicts: dependencies(h, TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION).map((d) => d.dep),
      obsoletes: dependencies(h, TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION).map((d) => d.dep),
      suggests: dependencies(h, TAG.SUGGESTNAME, TAG.SUGGESTFLAGS, TAG.SUGGESTVERSION).map((d) => d.dep),
      enhances: dependencies(h, TAG.ENHANCENAME, TAG.ENHANCEFLAGS, TAG.ENHANCEVERSION).map((d) => d.dep),
      recommends: dependencies(h, TAG.RECOMMENDNAME, TAG.RECOMMENDFLAGS, TAG.RECOMMENDVERSION).map((d) => d.dep),
      supplements: dependencies(h, TAG.SUPPLEMENTNAME, TAG.SUPPLEMENTFLAGS, TAG.SUPPLEMENTVERSION).map((d) => d.dep),
    },
    files,
    changelogs: changelogs(h, file.changelogLimit ?? CHANGELOG_LIMIT),
  };
}

/**
 * Source or binary, as rpm decides when it reads a package (`applyRetrofits`): SOURCEPACKAGE
 * says source, SOURCERPM says binary; with neither, a package whose only directory is "" is a
 * source package, anything else a binary one whose SOURCERPM reads "(none)".
 */
function isSourceHeader(h: Header): boolean {
  if (h.has(TAG.SOURCEPACKAGE)) return true;
  if (h.has(TAG.SOURCERPM)) return false;
  const dirs = h.has(TAG.DIRNAMES) ? h.strings(TAG.DIRNAMES) : [...new Set(h.strings(TAG.OLDFILENAMES).map((p) => p.slice(0, p.lastIndexOf('/') + 1)))];
  return dirs.length === 1 && dirs[0] === '';
}

/** Primary files (`cr_is_primary`): what yum/dnf resolve file dependencies against. */
export function isPrimaryFile(path: string): boolean {
  return path.startsWith('/etc/') || path === '/usr/lib/sendmail' || path.includes('bin/');
}

const FLAG_NAMES: Record<number, DepFlags> = { 2: 'LT', 4: 'GT', 8: 'EQ', 10: 'LE', 12: 'GE' };
const SENSE_MASK = SENSE.LESS | SENSE.GREATER | SENSE.EQUAL;
const PRE_FLAGS = SENSE.PREREQ | SENSE.SCRIPT_PRE | SENSE.SCRIPT_POST;

/** A dependency with what the requires filter compares: raw flags and version string. */
interface RawDependency {
  dep: RepoDependency;
  flags: number;
  version: string;
}

function dependencies(h: Header, nameTag: number, flagsTag: number, versionTag: number): RawDependency[] {
  const names = h.strings(nameTag);
  const flags = h.numbers(flagsTag);
  const versions = h.strings(versionTag);
  const out: RawDependency[] = [];
  names.forEach((name, i) => {
    if (name === '') return;
    const f = flags[i] ?? 0;
    const version = versions[i] ?? '';
    const dep: RepoDependency = { name };
    const sense = FLAG_NAMES[f & SENSE_MASK];
    if (sense && version !== '') Object.assign(dep, { flags: sense }, splitVersion(version));
    if (f & PRE_FLAGS) dep.pre = true;
    out.push({ dep, flags: f, version });
  });
  return out;
}

/** `[E:]V[-R]`: epoch `0` unless a number precedes the first `:`; release after the last `-`. */
export function splitVersion(v: string): { epoch: string; ver: string; rel?: string } {
  let epoch = '0';
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    if (/^\d+$/.test(v.slice(0, colon))) epoch = v.slice(0, colon);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash < 0 ? { epoch, ver: rest } : { epoch, ver: rest.slice(0, dash), rel: rest.slice(dash + 1) };
}

/**
 * createrepo_c's requires filter: drop `rpmlib(...)`, requirements on the package's own primary
 * files, requirements identical (name, sense, version) to one of its provides, and exact
 * duplicates; of the `libc.so.6…` requirements keep only the highest, placed last.
 */
function filterRequires(requires: RawDependency[], provides: RawDependency[], files: RepoFile[]): RepoDependency[] {
  const ownPrimary = new Set(files.map((f) => f.path).filter(isPrimaryFile));
  const provided = new Set(provides.map((p) => depKey(p.dep.name, p.flags, p.version)));
  const seen = new Set<string>();
  const out: RepoDependency[] = [];
  let libc: RepoDependency | undefined;
  for (const r of requires) {
    const name = r.dep.name;
    if (name.startsWith('rpmlib(')) continue;
    if (name.startsWith('/') && ownPrimary.has(name)) continue;
    if (provided.has(depKey(name, r.flags, r.version))) continue;
    const key = `${depKey(name, r.flags, r.version)}\0${r.dep.pre ? 1 : 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (name.startsWith('libc.so.6')) {
      if (!libc || compareLibcDependency(libc.name, name) < 0) libc = r.dep;
      continue;
    }
    out.push(r.dep);
  }
  if (libc) out.push(libc);
  return out;
}

function depKey(name: string, flags: number, version: string): string {
  return `${name}\0${flags & SENSE_MASK}\0${version}`;
}

/**
 * Order of `libc.so.6(GLIBC_x.y)(64bit)`-style names by the version inside the first
 * parentheses (createrepo_c `cr_compare_dependency`): no parentheses < empty ones < versions.
 */
function compareLibcDependency(a: string, b: string): number {
  const inner = (s: string): string | null | undefined => {
    const open = s.indexOf('(');
    if (open < 0) return undefined;
    const close = s.indexOf(')', open);
    if (close < 0) return null;
    return s.slice(open + 1, close);
  };
  const va = inner(a);
  const vb = inner(b);
  const rank = (v: string | null | undefined): number => (v === undefined ? 0 : v === null ? -1 : v === '' ? 1 : 2);
  if (rank(va) !== 2 || rank(vb) !== 2) return Math.sign(rank(va) - rank(vb));
  const num = (v: string): string => v.replace(/^[^0-9]*/, '');
  const [na, nb] = [num(va!), num(vb!)];
  if (na === '' || nb === '') return Math.sign(na.length - nb.length);
  return rpmvercmp(na, nb);
}

function fileList(h: Header): RepoFile[] {
  let paths: string[];
  if (h.has(TAG.BASENAMES)) {
    const dirs = h.strings(TAG.DIRNAMES);
    const index = h.numbers(TAG.DIRINDEXES);
    paths = h.strings(TAG.BASENAMES).map((base, i) => {
      const dir = dirs[index[i] ?? -1];
      if (dir === undefined) throw new FormatError(`DIRINDEXES entry ${i} points past DIRNAMES`);
      return dir + base;
    });
  } else {
    paths = h.strings(TAG.OLDFILENAMES);
  }
  const modes = h.numbers(TAG.FILEMODES);
  const flags = h.numbers(TAG.FILEFLAGS);
  return paths.map((path, i) => {
    if (((modes[i] ?? 0) & 0o170000) === 0o040000) return { path, type: 'dir' as const };
    if ((flags[i] ?? 0) & FILEFLAG.GHOST) return { path, type: 'ghost' as const };
    return { path };
  });
}

/**
 * The newest `limit` entries, written oldest first. Where several share a time, each newer one
 * gets one second more than the entry written before it, as createrepo_c does, so dates strictly
 * increase within the run.
 */
function changelogs(h: Header, limit: number): RepoChangelog[] {
  const times = h.numbers(TAG.CHANGELOGTIME);
  const names = h.strings(TAG.CHANGELOGNAME);
  const texts = h.strings(TAG.CHANGELOGTEXT);
  const n = Math.min(times.length, names.length, texts.length, limit);
  const out: RepoChangelog[] = [];
  let lastTime = 0;
  for (let i = 0; i < n; i++) {
    const entry = { author: trimAuthor(names[i]!), date: times[i]!, text: texts[i]! };
    out.unshift(entry);
    if (entry.date === lastTime) {
      let t = entry.date;
      for (let j = 1; j < out.length && out[j]!.date === t; j++) out[j]!.date = ++t;
    } else {
      lastTime = entry.date;
    }
  }
  return out;
}

/** Trailing spaces removed, but never the first character (createrepo_c's loop stops at 1). */
function trimAuthor(s: string): string {
  let end = s.length;
  while (end > 1 && s[end - 1] === ' ') end--;
  return s.slice(0, end);
}
