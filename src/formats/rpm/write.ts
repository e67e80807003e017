/**
 * RPM v4 binary package writer (no rpmbuild): a typed package description in, a `Source` streaming
 * the finished package out. Follows `rpm.md` "Write procedure": plan the file list, spool the
 * compressed payload once while hashing, build the main header (which carries the payload
 * digests), then the signature header over it, then lead + signature header + main header +
 * payload. The payload stays in the scratch spool; the returned Source reads it from there, so the
 * Scratch must outlive the Source.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../../errors.js';
import { BlockMemo } from '../compress/pieces.js';
import type { Scratch } from '../../tree/scratch.js';
import { sliceSource, type Source } from '../../tree/source.js';
import { encodeHeader, type HeaderEntry } from './header.js';
import { cpioSize, spoolPayload, type PayloadCompressor, type PayloadMemos } from './payload.js';
import { FILEFLAG, LEAD, LEAD_ARCHNUM, RPM_TYPE, SENSE, SIGTAG, TAG } from './tags.js';
import { depEntry, PHASE_SENSE, rpmlibRequires, sortDeps, type DepEntry, type DepKind, type Dependency, type ScriptPhase } from './write-deps.js';
import { compressedNames, MAX_RPM_SIZE, planFiles, type FileRecord, type RpmFile } from './write-files.js';

export type { Dependency, ScriptPhase } from './write-deps.js';
export type { FileFlag, RpmFile } from './write-files.js';
export type { PayloadCompressor } from './payload.js';

export interface Scriptlet {
  body: string;
  /** Absolute path, optionally with arguments; default `/bin/sh`. */
  interpreter?: string | string[];
}

export interface ChangelogEntry {
  time: number;
  name: string;
  text: string;
}

export interface RpmPackage {
  name: string;
  /** Written only when non-zero. */
  epoch?: number;
  version: string;
  release: string;
  /** `x86_64`, `aarch64`, `noarch` … */
  arch: string;
  summary: string;
  description: string;
  license: string;
  /** Default `Unspecified`. */
  group?: string;
  url?: string;
  vendor?: string;
  packager?: string;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH); also the default file mtime. */
  buildTime: number;
  /** Default `dudkit`. */
  buildHost?: string;
  /** Default `<name>-<version>-<release>.src.rpm`. */
  sourceRpm?: string;
  /** `N = [E:]V-R`, `N(<isa>) = [E:]V-R` and (with %config files) `config(N)` are added. */
  provides?: Dependency[];
  /** Scriptlet interpreters and `rpmlib()` features are added. */
  requires?: Dependency[];
  conflicts?: Dependency[];
  obsoletes?: Dependency[];
  scripts?: Partial<Record<ScriptPhase, Scriptlet>>;
  /** Any order; written newest first. */
  changelog?: ChangelogEntry[];
  files: RpmFile[];
}

export interface WriteRpmOptions {
  /** Default xz. Driver disks need xz or gzip (`redhat-dud.md` §3.3); rpm < 4.7 needs gzip. */
  compressor?: PayloadCompressor;
  /** Default as rpmbuild: 2 for xz (`w2.xzdio`), 9 for gzip. */
  level?: number;
  /** Default sha256; md5 for rpm < 4.6 targets (RHEL 5, XenServer ≤ 6.5), `rpm.md` rule 8. */
  fileDigest?: 'sha256' | 'md5';
  /** xz blocks or gzip pieces compressed at once (default: the cores, at most 3; xz within 128 MiB); the package bytes are the same for any count. */
  threads?: number;
  /** Zero bytes kept in the signature header so `rpmsign` can sign in place; default 4128 as rpm. */
  reservedSpace?: number;
  /**
   * OpenPGP signing: receives the exact main-header bytes and returns signature-header entries
   * (268 RSA or 267 DSA/EdDSA, BIN). Their size is taken from the reserved space.
   */
  sign?: (mainHeader: Uint8Array) => Promise<HeaderEntry[]>;
  /** Shown the payload compression, the slow part: one phase, advanced by uncompressed bytes. */
  progress?: { phase(label: string, total?: number): void; advance(amount: number): void };
}

/** The finished package: stream it like any Source. */
export interface BuiltRpm extends Source {
  /** `N-V-R.A.rpm` */
  readonly fileName: string;
  /** Where the main header lies in the file (createrepo's header-range). */
  readonly headerRange: { start: number; end: number };
  /** Uncompressed payload size (PAYLOADSIZE). */
  readonly archiveSize: number;
}

const BUILD_HOST = 'dudkit';
/** What RPMVERSION claims (display only); fixed for deterministic output. */
const RPM_VERSION = '4.18.0';
const RESERVED_SPACE = 4128;
const PAYLOAD_LEVEL: Readonly<Record<PayloadCompressor, number>> = { xz: 2, gzip: 9 };
/** OpenPGP hash ids (FILEDIGESTALGO, PAYLOADDIGESTALGO). */
const HASH_SHA256 = 8;

const SCRIPT_TAGS: Readonly<Record<ScriptPhase, [body: number, prog: number]>> = {
  pretrans: [TAG.PRETRANS, TAG.PRETRANSPROG],
  pre: [TAG.PREIN, TAG.PREINPROG],
  post: [TAG.POSTIN, TAG.POSTINPROG],
  preun: [TAG.PREUN, TAG.PREUNPROG],
  postun: [TAG.POSTUN, TAG.POSTUNPROG],
  posttrans: [TAG.POSTTRANS, TAG.POSTTRANSPROG],
};
const PHASES = Object.keys(SCRIPT_TAGS) as ScriptPhase[];

/** rpm's `%{_isa}` suffix per arch: rpmbuild also provides `N(<isa>) = [E:]V-R`. */
const ISA: Readonly<Record<string, string>> = {
  x86_64: 'x86-64',
  i686: 'x86-32',
  aarch64: 'aarch-64',
  ppc64le: 'ppc-64',
  ppc64: 'ppc-64',
  s390x: 's390-64',
  armv7hl: 'arm-32',
  riscv64: 'riscv-64',
  loongarch64: 'loongarch-64',
};

const NAME_RE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/;
const VR_RE = /^[A-Za-z0-9._+~^]+$/;
const ARCH_RE = /^[A-Za-z0-9_]+$/;

export function rpmFileName(pkg: Pick<RpmPackage, 'name' | 'version' | 'release' | 'arch'>): string {
  return `${pkg.name}-${pkg.version}-${pkg.release}.${pkg.arch}.rpm`;
}

function evrOf(pkg: RpmPackage): string {
  return `${pkg.epoch ? `${pkg.epoch}:` : ''}${pkg.version}-${pkg.release}`;
}

function checkPackage(pkg: RpmPackage): void {
  if (!NAME_RE.test(pkg.name)) throw new RangeError(`bad package name ${JSON.stringify(pkg.name)}`);
  if (!VR_RE.test(pkg.version)) throw new RangeError(`bad version ${JSON.stringify(pkg.version)} (letters, digits and ._+~^ only; no "-")`);
  if (!VR_RE.test(pkg.release)) throw new RangeError(`bad release ${JSON.stringify(pkg.release)} (letters, digits and ._+~^ only; no "-")`);
  if (!ARCH_RE.test(pkg.arch)) throw new RangeError(`bad arch ${JSON.stringify(pkg.arch)}`);
  if (pkg.epoch !== undefined && (!Number.isInteger(pkg.epoch) || pkg.epoch < 0 || pkg.epoch > 0x7fffffff)) throw new RangeError(`bad epoch ${pkg.epoch}`);
  if (pkg.summary.trim() === '' || /[\r\n]/.test(pkg.summary)) throw new RangeError('the summary must be one non-empty line');
  if (pkg.description.trim() === '') throw new RangeError('the description is empty');
  if (pkg.license.trim() === '') throw new RangeError('the license is empty');
  if (!Number.isInteger(pkg.buildTime) || pkg.buildTime < 0 || pkg.buildTime > 0xffffffff) throw new RangeError(`bad build time ${pkg.buildTime}`);
}

function interpreterOf(s: Scriptlet, phase: ScriptPhase): string[] {
  const argv = s.interpreter === undefined ? ['/bin/sh'] : typeof s.interpreter === 'string' ? [s.interpreter] : s.interpreter;
  if (!argv[0]?.startsWith('/') || argv.some((a) => a === '' || a.includes('\0'))) throw new RangeError(`%${phase}: the interpreter must be an absolute path (got ${JSON.stringify(s.interpreter)})`);
  return argv;
}

/** Three parallel arrays of a dependency kind; nothing when the list is empty. */
function depTags(deps: readonly DepEntry[], name: number, flags: number, version: number): HeaderEntry[] {
  if (deps.length === 0) return [];
  return [
    { tag: name, type: RPM_TYPE.STRING_ARRAY, value: deps.map((d) => d.name) },
    { tag: flags, type: RPM_TYPE.INT32, value: deps.map((d) => d.flags) },
    { tag: version, type: RPM_TYPE.STRING_ARRAY, value: deps.map((d) => d.version) },
  ];
}

const str = (tag: number, value: string | undefined): HeaderEntry[] => (value ? [{ tag, type: RPM_TYPE.STRING, value }] : []);
const i18n = (tag: number, value: string): HeaderEntry => ({ tag, type: RPM_TYPE.I18NSTRING, value: [value] });
const int32 = (tag: number, value: number[]): HeaderEntry => ({ tag, type: RPM_TYPE.INT32, value });
const strings = (tag: number, value: string[]): HeaderEntry => ({ tag, type: RPM_TYPE.STRING_ARRAY, value });

interface Planned {
  records: FileRecord[];
  provides: DepEntry[];
  requires: DepEntry[];
  conflicts: DepEntry[];
  obsoletes: DepEntry[];
  scripts: { phase: ScriptPhase; body: string; argv: string[] }[];
}

/** Everything that can be checked before a byte is read: names, versions, files, dependencies. */
function plan(pkg: RpmPackage, opts: Required<Pick<WriteRpmOptions, 'compressor' | 'fileDigest'>>): Planned {
  checkPackage(pkg);
  const records = planFiles(pkg.files, pkg.buildTime);
  const list = (deps: Dependency[] | undefined, kind: DepKind): DepEntry[] => (deps ?? []).map((d) => depEntry(d, kind));
  const scripts = PHASES.flatMap((phase) => {
    const s = pkg.scripts?.[phase];
    return s ? [{ phase, body: s.body, argv: interpreterOf(s, phase) }] : [];
  });
  const evr = evrOf(pkg);
  const isa = ISA[pkg.arch];
  // As rpmbuild: a package with %config files provides and requires config(N) = EVR.
  const config = records.some((r) => r.flags & FILEFLAG.CONFIG) ? [{ name: `config(${pkg.name})`, flags: SENSE.CONFIG | SENSE.EQUAL, version: evr }] : [];
  const provides = [{ name: pkg.name, flags: SENSE.EQUAL, version: evr }, ...(isa ? [{ name: `${pkg.name}(${isa})`, flags: SENSE.EQUAL, version: evr }] : []), ...config, ...list(pkg.provides, 'provides')];
  const interpreters = scripts.map((s) => ({ name: s.argv[0]!, flags: SENSE.INTERP | PHASE_SENSE[s.phase], version: '' }));
  const requires = [...list(pkg.requires, 'requires'), ...interpreters, ...config];
  const conflicts = list(pkg.conflicts, 'conflicts');
  const obsoletes = list(pkg.obsoletes, 'obsoletes');
  const versions = [pkg.version, pkg.release, ...[provides, requires, conflicts, obsoletes].flat().map((d) => d.version)];
  requires.push(...rpmlibRequires({ fileDigests: opts.fileDigest !== 'md5', payload: opts.compressor, interpreterArgs: scripts.some((s) => s.argv.length > 1), versions }));
  return { records, provides: sortDeps(provides), requires: sortDeps(requires), conflicts: sortDeps(conflicts), obsoletes: sortDeps(obsoletes), scripts };
}

function mainHeaderEntries(pkg: RpmPackage, p: Planned, payload: { digest: string; digestAlt: string; fileDigests: string[] }, opts: { compressor: PayloadCompressor; level: number; fileDigest: 'sha256' | 'md5' }): HeaderEntry[] {
  const r = p.records;
  const e: HeaderEntry[] = [
    strings(TAG.HEADERI18NTABLE, ['C']),
    ...str(TAG.NAME, pkg.name),
    ...str(TAG.VERSION, pkg.version),
    ...str(TAG.RELEASE, pkg.release),
    ...(pkg.epoch ? [int32(TAG.EPOCH, [pkg.epoch])] : []),
    i18n(TAG.SUMMARY, pkg.summary),
    i18n(TAG.DESCRIPTION, pkg.description),
    int32(TAG.BUILDTIME, [pkg.buildTime]),
    ...str(TAG.BUILDHOST, pkg.buildHost ?? BUILD_HOST),
    int32(TAG.SIZE, [r.reduce((n, f) => n + f.size, 0)]),
    ...str(TAG.VENDOR, pkg.vendor),
    ...str(TAG.LICENSE, pkg.license),
    ...str(TAG.PACKAGER, pkg.packager),
    i18n(TAG.GROUP, pkg.group ?? 'Unspecified'),
    ...str(TAG.URL, pkg.url),
    ...str(TAG.OS, 'linux'),
    ...str(TAG.ARCH, pkg.arch),
    ...str(TAG.SOURCERPM, pkg.sourceRpm ?? `${pkg.name}-${pkg.version}-${pkg.release}.src.rpm`),
    ...str(TAG.RPMVERSION, RPM_VERSION),
    ...depTags(p.provides, TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION),
    ...depTags(p.requires, TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION),
    ...depTags(p.conflicts, TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION),
    ...depTags(p.obsoletes, TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION),
    ...str(TAG.PAYLOADFORMAT, 'cpio'),
    ...str(TAG.PAYLOADCOMPRESSOR, opts.compressor),
    ...str(TAG.PAYLOADFLAGS, String(opts.level)),
    ...str(TAG.ENCODING, 'utf-8'),
    strings(TAG.PAYLOADDIGEST, [payload.digest]),
    int32(TAG.PAYLOADDIGESTALGO, [HASH_SHA256]),
    strings(TAG.PAYLOADDIGESTALT, [payload.digestAlt]),
  ];
  for (const s of p.scripts) {
    const [bodyTag, progTag] = SCRIPT_TAGS[s.phase];
    e.push({ tag: bodyTag, type: RPM_TYPE.STRING, value: s.body });
    e.push(s.argv.length > 1 ? strings(progTag, s.argv) : { tag: progTag, type: RPM_TYPE.STRING, value: s.argv[0]! });
  }
  const log = [...(pkg.changelog ?? [])].sort((a, b) => b.time - a.time);
  if (log.length > 0) e.push(int32(TAG.CHANGELOGTIME, log.map((c) => c.time)), strings(TAG.CHANGELOGNAME, log.map((c) => c.name)), strings(TAG.CHANGELOGTEXT, log.map((c) => c.text)));
  if (r.length > 0) {
    const names = compressedNames(r);
    e.push(
      int32(TAG.FILESIZES, r.map((f) => f.size)),
      { tag: TAG.FILEMODES, type: RPM_TYPE.INT16, value: r.map((f) => f.mode) },
      { tag: TAG.FILERDEVS, type: RPM_TYPE.INT16, value: r.map(() => 0) },
      int32(TAG.FILEMTIMES, r.map((f) => f.mtime)),
      strings(TAG.FILEDIGESTS, payload.fileDigests),
      strings(TAG.FILELINKTOS, r.map((f) => f.linkTo)),
      int32(TAG.FILEFLAGS, r.map((f) => f.flags)),
      strings(TAG.FILEUSERNAME, r.map((f) => f.user)),
      strings(TAG.FILEGROUPNAME, r.map((f) => f.group)),
      int32(TAG.FILEVERIFYFLAGS, r.map(() => -1)),
      int32(TAG.FILEDEVICES, r.map(() => 1)),
      int32(TAG.FILEINODES, r.map((f) => f.ino)),
      strings(TAG.FILELANGS, r.map(() => '')),
      int32(TAG.DIRINDEXES, names.dirIndexes),
      strings(TAG.BASENAMES, names.baseNames),
      strings(TAG.DIRNAMES, names.dirNames),
    );
    if (opts.fileDigest === 'sha256') e.push(int32(TAG.FILEDIGESTALGO, [HASH_SHA256]));
  }
  return e;
}

/** The 96-byte lead; only its magic, major and signature type are read by anyone. */
export function encodeLead(pkg: Pick<RpmPackage, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): Uint8Array {
  const out = new Uint8Array(LEAD.SIZE);
  const dv = new DataView(out.buffer);
  out.set(LEAD.MAGIC, 0);
  out[4] = LEAD.MAJOR;
  out[5] = LEAD.MINOR;
  dv.setUint16(6, LEAD.TYPE_BINARY);
  dv.setUint16(8, LEAD_ARCHNUM[pkg.arch] ?? 0);
  const nvr = `${pkg.name}-${pkg.epoch ? `${pkg.epoch}:` : ''}${pkg.version}-${pkg.release}`;
  out.set(Buffer.from(nvr, 'utf8').subarray(0, LEAD.NAME_SIZE - 1), 10);
  dv.setUint16(76, LEAD.OS_LINUX);
  dv.setUint16(78, LEAD.SIGNATURE_TYPE);
  return out;
}

const OWN_SIGTAGS = new Set<number>([SIGTAG.SHA1, SIGTAG.SHA256, SIGTAG.SIZE, SIGTAG.MD5, SIGTAG.PAYLOADSIZE, SIGTAG.RESERVEDSPACE]);

async function signatureHeader(header: Uint8Array, md5: Uint8Array, payloadSize: number, archiveSize: number, opts: WriteRpmOptions): Promise<Uint8Array> {
  const signed = opts.sign ? await opts.sign(header) : [];
  for (const s of signed) if (OWN_SIGTAGS.has(s.tag)) throw new RangeError(`signing hook returned signature tag ${s.tag}, which the writer computes itself`);
  // Keep the signature header the same size signed or not, as rpmsign does.
  const used = signed.reduce((n, s) => n + 16 + (s.value as Uint8Array).length, 0);
  const reserved = Math.max(0, (opts.reservedSpace ?? RESERVED_SPACE) - used);
  const entries: HeaderEntry[] = [
    { tag: SIGTAG.SHA1, type: RPM_TYPE.STRING, value: createHash('sha1').update(header).digest('hex') },
    { tag: SIGTAG.SHA256, type: RPM_TYPE.STRING, value: createHash('sha256').update(header).digest('hex') },
    { tag: SIGTAG.SIZE, type: RPM_TYPE.INT32, value: [header.length + payloadSize] },
    { tag: SIGTAG.MD5, type: RPM_TYPE.BIN, value: md5 },
    { tag: SIGTAG.PAYLOADSIZE, type: RPM_TYPE.INT32, value: [archiveSize] },
    ...(reserved > 0 ? [{ tag: SIGTAG.RESERVEDSPACE, type: RPM_TYPE.BIN, value: new Uint8Array(reserved) }] : []),
    ...signed,
  ];
  const sig = encodeHeader(entries, 62);
  const pad = (8 - (sig.length % 8)) % 8;
  if (pad === 0) return sig;
  const out = new Uint8Array(sig.length + pad);
  out.set(sig);
  return out;
}

/** One memo of compressed xz blocks and gzip pieces per build (its scratch), shared by every package written in it. */
const memos = new WeakMap<Scratch, PayloadMemos>();
function memosOf(scratch: Scratch): PayloadMemos {
  let m = memos.get(scratch);
  if (!m) memos.set(scratch, (m = { xz: new BlockMemo(() => scratch.path('xz-block')), gzip: new BlockMemo(() => scratch.path('gzip-piece')) }));
  return m;
}

/** MD5 over the main header and the spooled payload: the one re-read, of the compressed bytes. */
async function md5Of(header: Uint8Array, payload: Source): Promise<Uint8Array> {
  const h = createHash('md5').update(header);
  for await (const chunk of payload.open()) h.update(chunk);
  return h.digest();
}

/**
 * Write a binary package. Bad descriptions and oversized files are refused (UserError naming the
 * package) before anything is read.
 */
export async function writeRpm(pkg: RpmPackage, scratch: Scratch, options: WriteRpmOptions = {}): Promise<BuiltRpm> {
  const fileName = rpmFileName(pkg);
  const compressor = options.compressor ?? 'xz';
  const level = options.level ?? PAYLOAD_LEVEL[compressor];
  const fileDigest = options.fileDigest ?? 'sha256';
  let planned: Planned;
  try {
    if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`bad ${compressor} level ${level}`);
    const reserved = options.reservedSpace ?? RESERVED_SPACE;
    // the signature header holds at most 64 KiB of data (rpm's hdrblobRead)
    if (!Number.isInteger(reserved) || reserved < 0 || reserved > 32768) throw new RangeError(`bad reserved space ${reserved} (0 to 32768 bytes)`);
    planned = plan(pkg, { compressor, fileDigest });
  } catch (err) {
    if (err instanceof RangeError) throw new UserError(err.message, fileName);
    throw err;
  }

  const progress = options.progress;
  progress?.phase(`compressing the payload of ${fileName} (${compressor})`, cpioSize(planned.records));
  const onArchived = progress ? (n: number) => progress.advance(n) : undefined;
  const payload = await spoolPayload(planned.records, scratch.path(`${fileName}.payload`), {
    compressor,
    level,
    fileDigest,
    ...(options.threads ? { threads: options.threads } : {}),
    memo: memosOf(scratch),
    ...(onArchived ? { onArchived } : {}),
  }).catch((err: unknown) => {
    throw err instanceof RangeError ? new UserError(err.message, fileName) : err;
  });
  const header = encodeHeader(mainHeaderEntries(pkg, planned, payload, { compressor, level, fileDigest }), 63);
  if (header.length + payload.size >= MAX_RPM_SIZE) throw new UserError(`header and payload total ${header.length + payload.size} bytes: RPM packages of 4 GiB - 1 or more are not supported`, fileName);
  const payloadSource = sliceSource(payload.path, 0, payload.size, `${fileName} payload`);
  const sig = await signatureHeader(header, await md5Of(header, payloadSource), payload.size, payload.archiveSize, options);
  const lead = encodeLead(pkg);
  const start = lead.length + sig.length;
  return {
    fileName,
    origin: fileName,
    size: start + header.length + payload.size,
    headerRange: { start, end: start + header.length },
    archiveSize: payload.archiveSize,
    async *open() {
      yield lead;
      yield sig;
      yield header;
      yield* payloadSource.open();
    },
  };
}
