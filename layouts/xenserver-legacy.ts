/**
 * XenServer 5.6–7.0 supplemental pack (`xenserver.md` §3): a flat ISO with `XS-REPOSITORY`,
 * `XS-PACKAGES`, the `install` script and the RPMs (driver RPMs per dom0 kernel, the optional data
 * RPM, given RPMs as they are) in install order; beside it `<name>.iso.md5` (the emitter's MD5 tap,
 * md5sum format) and `<name>.metadata.md5` (a plan sidecar: MD5 of the two metadata files).
 *
 * Options take the DDK Makefile names too (`LABEL`, `TEXT`, `PACK_VERSION`, … §2), so values carry
 * over from a DDK build.
 */
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { MAX_LENGTH, tooLong } from '../src/manifest/limits.js';
import { UserError } from '../src/errors.js';
import { rpmFileName, type RpmPackage as RpmSpec, type WriteRpmOptions } from '../src/formats/rpm/write.js';
import { TAG } from '../src/formats/rpm/tags.js';
import { flagsOp, rpmvercmp } from '../src/formats/rpm/vercmp.js';
import { dom0Kernel } from '../src/formats/xenserver/dom0.js';
import { installScript } from '../src/formats/xenserver/install.js';
import { IDENT_RE, metadataMd5Line, TESTS, xsPackages, xsRepository, type Requirement, type XsPackage } from '../src/formats/xenserver/legacy.js';
import { classifyRpm, installOrder, type OrderItem } from '../src/formats/xenserver/rules.js';
import { buildProblem, isMainRequirement, padMain, splitBuild, versionProblem } from '../src/formats/xenserver/version.js';
import type { DriverSet } from '../src/model/driverset.js';
import { generatedRpm } from '../src/packages/generated.js';
import { xenDriverPackages, xenRpmFormat } from '../src/packages/xenserver.js';
import { bytesSource, digestOf, type Source } from '../src/tree/source.js';
import { Tree, type Content, type Generated } from '../src/tree/tree.js';
import { defineLayout, type Derived, type LayoutEnv, type Plan } from './types.js';

/** DDK Makefile variable → option. */
const ALIASES: Readonly<Record<string, string>> = {
  LABEL: 'label',
  TEXT: 'text',
  PACK_VERSION: 'version',
  PACK_BUILD: 'build',
  RPM_VERSION: 'rpmVersion',
  RPM_RELEASE: 'rpmRelease',
  DATA_RPM_VERSION: 'dataRpmVersion',
  DATA_RPM_RELEASE: 'dataRpmRelease',
  VENDOR_CODE: 'originator',
  VENDOR_NAME: 'vendorName',
};

/** DDK variables with no meaning for a legacy pack: refused with the reason, not ignored. */
const NOT_LEGACY: Readonly<Record<string, string>> = {
  UUID: 'legacy packs (XenServer ≤ 7.0) have no UUID; it belongs to an xenserver-update target',
  PACK_UUID: 'legacy packs (XenServer ≤ 7.0) have no UUID; it belongs to an xenserver-update target',
  BASE_REQUIRES: 'legacy packs take `requires`, e.g. "xs:main eq 7.0.0"',
  GPG_KEY_FILE: 'legacy packs are not signed',
  GPG_UID: 'legacy packs are not signed',
  SPEC: 'dudkit packages built modules (sources: ko, rpm), not spec files',
  DATA_SPEC: 'dudkit builds the data RPM from `firmware:` and `modprobe:`, not from a spec file',
};

/** Rename DDK keys to option names; a key given both ways, or a key that means nothing here, is an issue. */
function normaliseKeys(input: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (k in NOT_LEGACY) {
      ctx.addIssue({ code: 'custom', path: [k], message: NOT_LEGACY[k]! });
      continue;
    }
    const name = ALIASES[k] ?? k;
    if (name in out) ctx.addIssue({ code: 'custom', path: [k], message: `given twice (as ${name} and as ${k})` });
    out[name] = v;
  }
  return out;
}

const printable = z.string().regex(/^[\x20-\x7e]+$/, 'must be printable ASCII (the XenServer ≤ 7.0 tools are Python 2)');
const word = z.union([z.string(), z.number()]).transform(String);
const rpmWord = word.pipe(z.string().max(MAX_LENGTH.version, tooLong(MAX_LENGTH.version)).regex(/^[A-Za-z0-9._+~^]+$/, 'must be an RPM version or release (no `-`)'));
const ident = z.string().max(MAX_LENGTH.name, tooLong(MAX_LENGTH.name)).regex(IDENT_RE, 'must match [A-Za-z0-9._-]+');
const baseVersion = word.pipe(z.string().regex(/^\d+(\.\d+){1,2}$/, 'must be a XenServer release like 6.5.0 or 7.0.0'));
/** A version the legacy installer can compare (§3.2.1); a `-build` part is split off by the layout. */
const packVersion = word.pipe(printable).superRefine((v, ctx) => {
  const problem = versionProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const packBuild = word.pipe(printable).superRefine((v, ctx) => {
  const problem = buildProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
/** Numbers only: the installers drop a build part of a requirement (`eq 7.0.0-125380c` is met by any 7.0.0), so none is written. */
const requiredVersion = printable.superRefine((v, ctx) => {
  const problem = versionProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
  else if (v.includes('-')) ctx.addIssue({ code: 'custom', message: `"${v}" has a build part, which the installers ignore when they compare: write ${splitBuild(v).version}` });
});
const kernel = z.string().max(MAX_LENGTH.kernel, tooLong(MAX_LENGTH.kernel)).regex(/^[A-Za-z0-9._+~^-]+$/, 'must be a kernel release (`uname -r`)');

/** `originator:name test version`, e.g. `xs:main eq 6.5.0`. */
const REQUIRES_RE = new RegExp(`^([A-Za-z0-9._-]+):([A-Za-z0-9._-]+)\\s+(${TESTS.join('|')})\\s+(\\S+)$`);
const requirement = z.preprocess(
  (v, ctx) => {
    if (typeof v !== 'string') return v;
    const m = REQUIRES_RE.exec(v.trim());
    if (m) return { originator: m[1], name: m[2], test: m[3], version: m[4] };
    ctx.addIssue({ code: 'custom', message: `"${v}" must read "originator:name test version" with test one of ${TESTS.join(' ')}, e.g. "xs:main eq 7.0.0"` });
    return z.NEVER;
  },
  z.strictObject({ originator: ident, name: ident, test: z.enum(TESTS), version: requiredVersion, product: printable.optional() }),
);

export const xenserverLegacyOptions = z.preprocess(
  normaliseKeys,
  z.strictObject({
    out: z.string().min(1).optional(),
    /** `LABEL`: `<repository name>`, driver RPM names `<label>-<kver>-modules`, `<label>.iso`; default the driver name. */
    label: ident.optional(),
    /** `TEXT`: the description and the ISO volume id, so at most 32 bytes; default the summary. */
    text: printable
      .refine((s) => s.trim() !== '', 'must not be blank: xapi drops a pack with an empty description')
      .superRefine((s, ctx) => {
        if (s.length > 32) ctx.addIssue({ code: 'custom', message: `is ${s.length} characters; it is also the ISO volume id, which holds 32 (shorten it)` });
      })
      .refine((s) => !s.startsWith('_'), 'must not start with "_" (an ISO volume id starting with "_" names a file)')
      .optional(),
    /** Must equal the host's PRODUCT_BRAND or PLATFORM_NAME. */
    product: printable.default('XenServer'),
    /** The base release the pack targets: the default requirement and the RPM format (≤ 6.5: gzip and MD5). */
    xenserver: baseVersion.optional(),
    /** Default `xs:main eq <xenserver>` (the reference builder's default). */
    requires: z.preprocess((v) => (typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)) ? [v] : v), z.array(requirement)).optional(),
    /** `PACK_VERSION`; default the manifest's version. A `-` starts the build (`2.4.1-7`: version 2.4.1, build 7). */
    version: packVersion.optional(),
    /** `PACK_BUILD` */
    build: packBuild.optional(),
    /** `--vendor-code`: default the manifest's vendor. */
    originator: ident.optional(),
    /** `--vendor-name`: the ISO application id; default vendorName, else vendor. */
    vendorName: printable.refine((s) => s.length <= 128, 'must be at most 128 characters (ISO application id)').optional(),
    enforceHomogeneity: z.boolean().default(false),
    hidden: z.boolean().default(false),
    memoryRequirementMb: z.number().int().positive().optional(),
    rpmVersion: rpmWord.optional(),
    rpmRelease: rpmWord.optional(),
    dataRpmVersion: rpmWord.optional(),
    dataRpmRelease: rpmWord.optional(),
    /** Where the modules go under /lib/modules/<kver>/ (the DDK guides of 6.x/7.x say extra). */
    moduleDir: z.enum(['extra', 'updates']).default('extra'),
    /** Builds to package (default all); a map packages a build for the dom0 `uname -r` given as value. */
    kernels: z.union([z.array(kernel).min(1), z.record(kernel, kernel)]).optional(),
    /** Lines of /etc/modprobe.d/<label>.conf in the data RPM. */
    modprobe: z.array(z.string().min(1)).optional(),
    /** Payload compressor for XenServer 7.0 (rpm 4.11); ≤ 6.5 always gets gzip. */
    payload: z.enum(['xz', 'gzip']).optional(),
    checksums: z.array(z.enum(['md5', 'sha256'])).default(['md5']),
  }),
);
type Options = z.output<typeof xenserverLegacyOptions>;

/** The identity, metadata and RPM format a target resolves to, defaults applied. */
interface Resolved {
  label: string;
  text: string;
  release: string;
  /** The pack version as written (`version`, without a build) and its build, if any. */
  version: string;
  build?: string;
  requires: Requirement[];
  rpm: Pick<WriteRpmOptions, 'compressor' | 'fileDigest'>;
}

/** The pack version and build: `version: 2.4.1-7` is version 2.4.1, build 7, as the installers read it. */
function versionAndBuild(set: DriverSet, o: Options): { version: string; build?: string } {
  const given = o.version ?? set.meta.version;
  const problem = versionProblem(given);
  if (problem) throw new UserError(`xenserver-legacy: version: ${o.version === undefined ? `defaults to the manifest's version, and ` : ''}${problem}; set version: (PACK_VERSION)`);
  const split = splitBuild(given);
  if (split.build !== undefined && o.build !== undefined) throw new UserError(`xenserver-legacy: version "${given}" carries the build "${split.build}" and build: gives "${o.build}": give the build once`);
  const build = split.build ?? o.build;
  return { version: split.version, ...(build !== undefined ? { build } : {}) };
}

function resolveOptions(set: DriverSet, o: Options): Resolved {
  const label = o.label ?? set.meta.name;
  if (!IDENT_RE.test(label)) throw new UserError(`xenserver-legacy: the driver name "${label}" cannot be a pack label; set label: ([A-Za-z0-9._-]+)`);
  const text = o.text ?? set.meta.summary;
  if (text.length > 32) throw new UserError(`xenserver-legacy: text defaults to the summary "${text}", ${text.length} characters, but it is also the ISO volume id, which holds 32: set text: (TEXT)`);
  const given = o.requires;
  const main = given?.find((r) => r.originator === 'xs' && r.name === 'main' && ['eq', 'ge', 'gt'].includes(r.test));
  const release = padMain(o.xenserver ?? main?.version ?? '7.0.0');
  // the base product's version has three arcs and a shorter one is lower (§3.2.1): `eq 7.0` would fail on 7.0.0
  const requires = given?.map((q) => (isMainRequirement(q.originator, q.name) ? { ...q, version: padMain(q.version) } : q)) ?? [{ originator: 'xs', name: 'main', test: 'eq', version: release }];
  const rpm = xenRpmFormat(release);
  if (o.payload) {
    if (rpm.compressor === 'gzip' && o.payload !== 'gzip') throw new UserError(`xenserver-legacy: payload ${o.payload}: XenServer ${release} (rpm 4.4) reads gzip payloads only`);
    rpm.compressor = o.payload;
  }
  return { label, text, release, ...versionAndBuild(set, o), requires, rpm };
}

/** Size and MD5 of each package, read once however many generated files need them. */
function digests(): (s: Source) => Promise<{ size: number; md5: string }> {
  const memo = new WeakMap<Source, Promise<{ size: number; md5: string }>>();
  return (s) => {
    let p = memo.get(s);
    if (!p) {
      p = digestOf(s).then((md5) => ({ size: s.size, md5 }));
      memo.set(s, p);
    }
    return p;
  };
}

interface PackEntry extends OrderItem {
  content: Content;
  type: XsPackage['type'];
  label: string;
  kernel?: string;
}

/** Format-rule violations (RangeError) as user errors naming the target. */
function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof RangeError ? new UserError(`xenserver-legacy: ${err.message}`) : err;
  }
}

function fromSpec(spec: RpmSpec, rpm: Resolved['rpm']): PackEntry {
  const file = rpmFileName(spec);
  const c = classifyRpm({ name: spec.name, group: spec.group ?? '', files: spec.files.map((f) => f.path) });
  const evr = `${spec.epoch ? `${spec.epoch}:` : ''}${spec.version}-${spec.release}`;
  return {
    id: file,
    content: generatedRpm(spec, rpm),
    type: c.type,
    label: c.label,
    ...(c.kernel ? { kernel: c.kernel } : {}),
    provides: [{ name: spec.name, op: '=', evr }, ...(spec.provides ?? []).map((d) => ({ name: d.name, ...(d.op ? { op: d.op, evr: d.version ?? '' } : {}) }))],
    requires: (spec.requires ?? []).map((d) => ({ name: d.name, ...(d.op ? { op: d.op, evr: d.version ?? '' } : {}) })),
    files: spec.files.map((f) => f.path),
  };
}

function fromGiven(r: DriverSet['rpms'][number], format: Resolved['rpm'], release: string, warn: (m: string) => void): PackEntry {
  const group = r.pkg.header.string(TAG.GROUP) ?? '';
  // used as given, but rpm 4.4 (XenServer ≤ 6.5) reads only gzip payloads and MD5 file digests
  const payload = r.pkg.header.string(TAG.PAYLOADCOMPRESSOR) ?? 'gzip';
  if (format.compressor === 'gzip' && format.fileDigest === 'md5' && (payload !== 'gzip' || (r.pkg.files.length > 0 && r.pkg.fileDigestAlgo.name !== 'md5'))) {
    warn(`${r.origin}: ${payload} payload, ${r.pkg.fileDigestAlgo.name} file digests: the rpm 4.4 of XenServer ${release} cannot install it (it needs gzip and MD5)`);
  }
  const files = r.pkg.files.map((f) => f.path);
  const c = classifyRpm({ name: r.pkg.name, group, files });
  if (c.options === '-i') throw new UserError(`${r.pkg.name} is a kernel package (its name is part of "kernel"); a driver pack never carries one`, r.origin);
  if (c.problems.length > 0) throw new UserError(`the pack builders would refuse it: ${c.problems[0]}`, r.origin);
  const dep = (d: { name: string; flags: number; version: string }) => {
    const op = flagsOp(d.flags);
    return { name: d.name, ...(op && d.version ? { op, evr: d.version } : {}) };
  };
  return { id: r.fileName, content: r.source, type: c.type, label: c.label, ...(c.kernel ? { kernel: c.kernel } : {}), provides: r.pkg.provides.map(dep), requires: r.pkg.requires.map(dep), files };
}

function plan(set: DriverSet, o: Options, env: LayoutEnv): Plan {
  const r = resolveOptions(set, o);
  const originator = o.originator ?? set.meta.vendor;
  const version = r.version;
  const packs = xenDriverPackages(set, {
    label: r.label,
    ...(o.rpmVersion ? { rpmVersion: o.rpmVersion } : {}),
    ...(o.rpmRelease ? { rpmRelease: o.rpmRelease } : {}),
    ...(o.dataRpmVersion ? { dataRpmVersion: o.dataRpmVersion } : {}),
    ...(o.dataRpmRelease ? { dataRpmRelease: o.dataRpmRelease } : {}),
    moduleDir: o.moduleDir,
    ...(o.kernels ? { kernels: o.kernels } : {}),
    ...(o.modprobe ? { modprobe: o.modprobe } : {}),
    dashedKernels: rpmvercmp(r.release, '6.5') < 0,
    buildTime: env.epoch,
  });
  const given = set.rpms.filter((g) => !g.pkg.isSource);
  if (set.rpms.length > given.length) env.warn('xenserver-legacy: source RPMs are not part of the pack; a release-zip target ships them');
  const entries = [...(packs.data ? [fromSpec(packs.data, r.rpm)] : []), ...packs.modules.map((m) => fromSpec(m, r.rpm)), ...given.map((g) => fromGiven(g, r.rpm, r.release, env.warn))];
  if (entries.length === 0) throw new UserError('xenserver-legacy: nothing to pack: give kernel modules, firmware or RPMs');
  const ordered = checked(() => installOrder(entries));
  const dom0 = dom0Kernel(r.release);
  for (const e of entries) {
    if (dom0 && e.type === 'driver-rpm' && e.kernel !== 'any' && e.kernel !== dom0) {
      env.warn(`xenserver-legacy: ${e.id} is for kernel ${e.kernel}, but XenServer ${r.release} runs ${dom0}: its installer skips the driver ("version mismatch")`);
    }
  }
  const repository = checked(() =>
    xsRepository({
        originator,
        name: r.label,
        product: o.product,
        version,
        ...(r.build !== undefined ? { build: r.build } : {}),
        description: r.text,
        requires: r.requires,
        enforceHomogeneity: o.enforceHomogeneity,
        hidden: o.hidden,
        ...(o.memoryRequirementMb ? { memoryRequirementMb: o.memoryRequirementMb } : {}),
      }),
  );

  const tree = new Tree().file('XS-REPOSITORY', bytesSource(repository, 'XS-REPOSITORY'), 0o444);
  for (const e of ordered) tree.file(e.id, e.content, 0o444);
  const files = ordered.map((e) => e.id);
  const digest = digests();
  const listed = async (deps: Source[]): Promise<XsPackage[]> =>
    Promise.all(ordered.map(async (e, i) => ({ type: e.type, label: e.label, file: e.id, ...(e.kernel ? { kernel: e.kernel } : {}), ...(await digest(deps[i]!)) })));
  const packagesXml: Generated = { kind: 'generated', deps: files, build: async (deps) => bytesSource(xsPackages(await listed(deps)), 'XS-PACKAGES') };
  const install: Generated = {
    kind: 'generated',
    deps: files,
    build: async (deps) => bytesSource(installScript({ originator, name: r.label, product: o.product, version, requires: r.requires, packages: await listed(deps) }), 'install'),
  };
  tree.file('XS-PACKAGES', packagesXml, 0o444).file('install', install, 0o555);

  // `<stem>.metadata.md5` beside `<stem>.iso` (in a release zip too, under the zip's name)
  const metadataMd5: Derived = {
    name: (iso) => `${iso.replace(/\.iso$/i, '')}.metadata.md5`,
    deps: ['XS-REPOSITORY', 'XS-PACKAGES'],
    async make({ medium, deps }) {
      return bytesSource(metadataMd5Line(await digestOf(deps)), `${medium.replace(/\.iso$/i, '')}.metadata.md5`);
    },
  };
  const decisions = [
    ...packs.decisions,
    ...(packs.data ? [`${rpmFileName(packs.data)}: firmware: entries and modprobe: rules, for every kernel (XS-PACKAGES type ${fromSpec(packs.data, r.rpm).type})`] : []),
    ...entries.filter((e) => given.some((g) => g.fileName === e.id)).map((e) => `${e.id}: given (sources: rpm); XS-PACKAGES type ${e.type}${e.kernel ? `, kernel ${e.kernel}${e.kernel === 'any' ? '' : ' (the /lib/modules/<K>/ its modules are under)'}` : ''}`),
  ];
  return {
    tree,
    decisions,
    medium: { kind: 'iso', volumeId: r.text, joliet: { limit: 103, overflow: 'refuse' }, implantMd5: false, application: o.vendorName ?? set.meta.vendorName ?? set.meta.vendor, rootMode: 0o555 },
    derived: [...checksumFiles(o.checksums), metadataMd5],
    notes: [`install on XenServer ${r.requires.map((q) => `${q.originator}:${q.name} ${q.test} ${q.version}`).join(', ')}: xe-install-supplemental-pack ${env.outName.replace(/^.*\//, '')} (or mount it and run ./install)`],
  };
}

export const xenserverLegacy = defineLayout({
  kind: 'xenserver-legacy',
  options: xenserverLegacyOptions,
  defaultOut: (set, o) => `${o.label ?? set.meta.name}.iso`,
  plan,
});
