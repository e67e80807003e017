/**
 * Dependencies of a package being written: validation, sense flags, the order rpmbuild uses, and
 * the `rpmlib(...)` feature requirements derived from what the package actually uses (never listed
 * by hand per package, `rpm.md` "Dependencies").
 */
import { SENSE } from './tags.js';
import { opFlags, type Op } from './vercmp.js';

export type ScriptPhase = 'pretrans' | 'pre' | 'post' | 'preun' | 'postun' | 'posttrans';

export interface Dependency {
  name: string;
  /** With `version`: a versioned dependency; both absent: any version. */
  op?: Op;
  /** `[E:]V[-R]` */
  version?: string;
  /** Requires only: the scriptlets that need it (`Requires(post):` …); none = needed at run time. */
  phases?: ScriptPhase[];
}

/** One (name, flags, version) triple as the header stores it. */
export interface DepEntry {
  name: string;
  flags: number;
  version: string;
}

export const PHASE_SENSE: Readonly<Record<ScriptPhase, number>> = {
  pretrans: SENSE.PRETRANS,
  pre: SENSE.SCRIPT_PRE,
  post: SENSE.SCRIPT_POST,
  preun: SENSE.SCRIPT_PREUN,
  postun: SENSE.SCRIPT_POSTUN,
  posttrans: SENSE.POSTTRANS,
};

/** Characters rpm accepts in a version or release (rpmbuild's `rpmCharCheck` set). */
const EVR_RE = /^(\d+:)?[A-Za-z0-9._+~^]+(-[A-Za-z0-9._+~^]+)?$/;

export type DepKind = 'provides' | 'requires' | 'conflicts' | 'obsoletes';

/** Validate one dependency and turn it into its header triple; RangeError names the problem. */
export function depEntry(d: Dependency, kind: DepKind): DepEntry {
  const what = `${kind} ${JSON.stringify(d.name)}`;
  // Rich (boolean) dependencies would need rpmlib(RichDependencies) and a parser to validate them.
  if (d.name.startsWith('(')) throw new RangeError(`${what}: rich (boolean) dependencies are not supported`);
  if (d.name === '' || /[\s\0,]/.test(d.name)) throw new RangeError(`${what}: a dependency name must be non-empty, without whitespace or commas`);
  if ((d.op === undefined) !== (d.version === undefined || d.version === '')) throw new RangeError(`${what}: give both an operator and a version, or neither`);
  if (d.version !== undefined && d.version !== '' && !EVR_RE.test(d.version)) throw new RangeError(`${what}: bad version ${JSON.stringify(d.version)} (expected [E:]V[-R] of letters, digits and ._+~^)`);
  if (d.phases?.length && kind !== 'requires') throw new RangeError(`${what}: only requires can be tied to scriptlets`);
  let flags = d.op === undefined ? 0 : opFlags(d.op);
  for (const p of d.phases ?? []) flags |= PHASE_SENSE[p];
  return { name: d.name, flags, version: d.version ?? '' };
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** rpmbuild's order (by name, then version, then flags, byte-wise), exact duplicates dropped. */
export function sortDeps(list: readonly DepEntry[]): DepEntry[] {
  const sorted = [...list].sort((a, b) => Buffer.compare(utf8(a.name), utf8(b.name)) || Buffer.compare(utf8(a.version), utf8(b.version)) || a.flags - b.flags);
  return sorted.filter((d, i) => i === 0 || d.name !== sorted[i - 1]!.name || d.version !== sorted[i - 1]!.version || d.flags !== sorted[i - 1]!.flags);
}

/** What the package uses that needs a newer rpm to read or install. */
export interface RpmlibFeatures {
  /** FILEDIGESTALGO other than MD5 */
  fileDigests: boolean;
  payload: 'gzip' | 'xz';
  /** a scriptlet interpreter with arguments (its *PROG tag is a STRING_ARRAY) */
  interpreterArgs: boolean;
  /** every version string of the package: its own V and R and its dependencies' */
  versions: readonly string[];
}

const RPMLIB_FLAGS = SENSE.RPMLIB | SENSE.LESS | SENSE.EQUAL;

export function rpmlibRequires(f: RpmlibFeatures): DepEntry[] {
  const need: [string, string][] = [
    ['CompressedFileNames', '3.0.4-1'],
    ['PayloadFilesHavePrefix', '4.0-1'],
  ];
  if (f.fileDigests) need.push(['FileDigests', '4.6.0-1']);
  if (f.payload === 'xz') need.push(['PayloadIsXz', '5.2-1']);
  if (f.interpreterArgs) need.push(['ScriptletInterpreterArgs', '4.0.3-1']);
  if (f.versions.some((v) => v.includes('~'))) need.push(['TildeInVersions', '4.10.0-1']);
  if (f.versions.some((v) => v.includes('^'))) need.push(['CaretInVersions', '4.15.0-1']);
  return need.map(([feature, version]) => ({ name: `rpmlib(${feature})`, flags: RPMLIB_FLAGS, version }));
}
