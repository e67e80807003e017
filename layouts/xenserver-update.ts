/**
 * Modern XenServer update pack (XenServer 7.1+, Citrix Hypervisor 8, XenServer 8, XCP-ng;
 * `xenserver.md` §4): a signed yum repository on an ISO. `update.xml` (+ `.asc`), the driver and
 * data RPMs plus the generated `update-<label>` and `control-<label>` under `Packages/` (all
 * signed), `repodata/` with sha256 checksums, the comps groups `update` (and `drivers` for a
 * driver disk) and `repomd.xml.asc`. The public key users import is written beside the output.
 *
 * The signing key and the control scripts are read in the `prepare` step (also when the pack is
 * nested, as `release-zip`'s `of:` does), so the plan and its generators read nothing else.
 * Signatures are dated SOURCE_DATE_EPOCH (or the key's creation, if later) and RSA signatures
 * are deterministic, so rebuilds are byte-identical.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { asUserError, UserError } from '../src/errors.js';
import { MAX_LENGTH, tooLong } from '../src/manifest/limits.js';
import type { CompsGroup } from '../src/formats/repodata/comps.js';
import { readRepoPackage } from '../src/formats/repodata/package.js';
import { repodataDir, type RepoTreePackage } from '../src/formats/repodata/write.js';
import { rpmFileName, writeRpm, type BuiltRpm, type Dependency, type RpmPackage as RpmSpec } from '../src/formats/rpm/write.js';
import { classifyRpm } from '../src/formats/xenserver/rules.js';
import { controlPackage, parseRequirement, updatePackage, type PayloadPackage, type UpdateRpmsInput } from '../src/formats/xenserver/update-rpms.js';
import { GUIDANCE, LABEL_RE, updateDocumentProblems, updateRpmVersion, updateXml, uuidV5, UUID_RE, type UpdateDocument } from '../src/formats/xenserver/update.js';
import type { DriverSet } from '../src/model/driverset.js';
import { xenDriverPackages } from '../src/packages/xenserver.js';
import { loadSigningKey, type SigningKey } from '../src/sign/key.js';
import { DEFAULT_PASSPHRASE_ENV, passphraseFrom } from '../src/sign/passphrase.js';
import { resignedRpm } from '../src/sign/rpm.js';
import { armoredDetachedSignature, rpmHeaderSigner } from '../src/sign/sign.js';
import type { Scratch } from '../src/tree/scratch.js';
import { bytesSource, fileSource, readSource, type Source } from '../src/tree/source.js';
import { Tree, type Generated, type GeneratedDir } from '../src/tree/tree.js';
import { defineLayout, type Derived, type LayoutEnv, type PrepareEnv } from './types.js';

/** DDK Makefile variables (`xenserver.md` §2) accepted as option names. */
const DDK_ALIASES: Readonly<Record<string, string>> = {
  LABEL: 'label',
  TEXT: 'text',
  UUID: 'uuid',
  PACK_UUID: 'uuid',
  PACK_VERSION: 'version',
  BASE_REQUIRES: 'baseRequires',
  GPG_KEY_FILE: 'keyName',
  GPG_UID: 'keyUid',
  RPM_VERSION: 'rpmVersion',
  RPM_RELEASE: 'rpmRelease',
  DATA_RPM_VERSION: 'dataRpmVersion',
  DATA_RPM_RELEASE: 'dataRpmRelease',
};

const kernelRelease = z.string().max(MAX_LENGTH.kernel, tooLong(MAX_LENGTH.kernel)).regex(/^[A-Za-z0-9._+~^-]+$/, 'must be a full `uname -r`');
const rpmWord = z.union([z.string(), z.number()]).transform(String).pipe(z.string().max(MAX_LENGTH.version, tooLong(MAX_LENGTH.version)).regex(/^[A-Za-z0-9._+~^]+$/, 'letters, digits and ._+~^ only'));

const optionsObject = z.strictObject({
  out: z.string().min(1).optional(),
  /** iso (default for .iso names) or directory. */
  format: z.enum(['iso', 'directory']).optional(),
  /** The pack's identity: same pack → same uuid on every rebuild. Default: derived (UUID v5) from vendor, label and version. */
  uuid: z.string().regex(UUID_RE, 'must be a lower-case RFC 4122 UUID (8-4-4-4-12 hex), e.g. from `uuidgen`').optional(),
  /** `name-label`; default the driver name with other characters than [A-Za-z0-9_-] made `-`. */
  label: z.string().max(MAX_LENGTH.name, tooLong(MAX_LENGTH.name)).regex(LABEL_RE, 'must be letters, digits, "_" or "-" (no dots)').optional(),
  /** `<name-description>`, shown by xapi; default the manifest's summary. */
  text: z.string().trim().min(1, 'must not be empty (xapi refuses the upload)').optional(),
  /** Pack version; default the manifest's version. */
  version: z.union([z.string(), z.number()]).transform(String).pipe(z.string().max(MAX_LENGTH.version, tooLong(MAX_LENGTH.version)).min(1)).optional(),
  /** Armoured OpenPGP secret key (RSA ≥ 2048, v4) that signs everything; relative to the manifest. */
  key: z.string().min(1, 'a modern pack must be signed: give the secret key file'),
  /** Basename of the public key file users import (`key` attribute); default `RPM-GPG-KEY-<vendor>`. */
  keyName: z.string().min(1).transform((s) => s.slice(s.lastIndexOf('/') + 1)).pipe(z.string().max(MAX_LENGTH.name, tooLong(MAX_LENGTH.name)).regex(/^[A-Za-z0-9._+-]+$/, 'must be a plain file name')).optional(),
  /** When given, the key must carry a user ID containing it (`GPG_UID`). */
  keyUid: z.string().min(1).optional(),
  /** Environment variable holding the key's passphrase. */
  passphraseEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default(DEFAULT_PASSPHRASE_ENV),
  /** Requires of `control-<label>`, e.g. `product-version = 8.2.1`; default `kernel-uname-r = <the one dom0 kernel>`. */
  baseRequires: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  afterApplyGuidance: z.array(z.enum(GUIDANCE)).default(['restartHost']),
  rollsup: z.array(z.strictObject({ nameLabel: z.string().regex(LABEL_RE), uuid: z.string().regex(UUID_RE) })).default([]),
  enforceHomogeneity: z.boolean().default(false),
  /** Scripts shipped in `control-<label>` as `/var/update/<uuid>/precheck` and `…/remove`. */
  precheck: z.string().min(1).optional(),
  remove: z.string().min(1).optional(),
  /** Also a host-installer driver disk (comps group `drivers`); default: when the pack has exactly one driver. */
  driverDisk: z.boolean().optional(),
  /** Driver package recipe (`src/packages/xenserver.ts`): builds to package and the dom0 kernels. */
  kernels: z.union([z.array(kernelRelease).min(1), z.record(kernelRelease, kernelRelease)]).optional(),
  moduleDir: z.enum(['extra', 'updates']).default('updates'),
  rpmVersion: rpmWord.optional(),
  rpmRelease: rpmWord.optional(),
  dataRpmVersion: rpmWord.optional(),
  dataRpmRelease: rpmWord.optional(),
  modprobe: z.array(z.string()).optional(),
  /** dom0 rpm 4.11 reads xz and gzip, not zstd. */
  payload: z.enum(['xz', 'gzip']).default('xz'),
  checksums: z.array(z.enum(['md5', 'sha256'])).default([]),
});

export const xenserverUpdateOptions = z.preprocess((raw, ctx) => {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const to = DDK_ALIASES[k] ?? k;
    if (to in out || (to !== k && to in raw)) ctx.addIssue({ code: 'custom', message: `${k} and ${to} name the same option: give one`, path: [k] });
    out[to] = v;
  }
  return out;
}, optionsObject);
type Options = z.output<typeof optionsObject>;

const labelOf = (set: DriverSet, o: Pick<Options, 'label'>): string => o.label ?? set.meta.name.replace(/[^A-Za-z0-9_-]/g, '-');
const versionOf = (set: DriverSet, o: Pick<Options, 'version'>): string => o.version ?? set.meta.version;

/** What the pack reads besides the driver set, in `prepare`: the signing key and the control scripts. */
interface Prepared {
  key: SigningKey;
  scripts: Partial<Record<'precheck' | 'remove', Source>>;
}

/** The signing key, read and unlocked, checked against what the hosts verify. */
async function signingKey(o: Options, env: PrepareEnv): Promise<SigningKey> {
  const path = resolve(env.baseDir, o.key);
  const key = await loadSigningKey(path, passphraseFrom(o.passphraseEnv, path));
  if (key.algorithm !== 'rsa' || (key.bits ?? 0) < 2048) throw new UserError(`update packs need an RSA key of at least 2048 bits (this is ${key.algorithm} ${key.bits ?? ''}): the dom0 rpm and xapi's gpg check RSA signatures`, path);
  if (o.keyUid && !key.userIds.some((u) => u.includes(o.keyUid!))) throw new UserError(`no user ID of this key contains "${o.keyUid}" (has: ${key.userIds.join(', ')})`, path);
  return key;
}

async function prepare(o: Options, env: PrepareEnv): Promise<Prepared> {
  const key = await signingKey(o, env);
  const scripts: Prepared['scripts'] = {};
  for (const which of ['precheck', 'remove'] as const) {
    const given = o[which];
    if (!given) continue;
    const path = resolve(env.baseDir, given);
    scripts[which] = await fileSource(path).catch((err: unknown) => asUserError(err, path));
  }
  return { key, scripts };
}

/** An RPM written when the tree is built, its header signed with the pack key. */
function signedRpm(spec: RpmSpec, o: Options, epoch: number, key: SigningKey, scratch: Scratch): Promise<BuiltRpm> {
  return writeRpm(spec, scratch, { compressor: o.payload, sign: rpmHeaderSigner(key, epoch) });
}

interface Payload {
  path: string;
  pkg: PayloadPackage;
  content: Generated;
  isDriver: boolean;
}

function payloadPackages(set: DriverSet, o: Options, env: LayoutEnv, key: SigningKey, decisions: string[]): { payload: Payload[]; kernels: string[] } {
  const label = labelOf(set, o);
  const kernels: string[] = [];
  const out: Payload[] = [];
  const built = (spec: RpmSpec, isDriver: boolean): Payload => ({
    path: `Packages/${rpmFileName(spec)}`,
    pkg: { name: spec.name, ...(spec.epoch ? { epoch: spec.epoch } : {}), version: spec.version, release: spec.release },
    content: { kind: 'generated', deps: [], build: (_d, scratch) => signedRpm(spec, o, env.epoch, key, scratch) },
    isDriver,
  });
  if (set.kernels.length > 0) {
    const drivers = xenDriverPackages(set, {
      label,
      moduleDir: o.moduleDir,
      buildTime: env.epoch,
      ...(o.kernels ? { kernels: o.kernels } : {}),
      ...(o.rpmVersion ? { rpmVersion: o.rpmVersion } : {}),
      ...(o.rpmRelease ? { rpmRelease: o.rpmRelease } : {}),
      ...(o.dataRpmVersion ? { dataRpmVersion: o.dataRpmVersion } : {}),
      ...(o.dataRpmRelease ? { dataRpmRelease: o.dataRpmRelease } : {}),
      ...(o.modprobe ? { modprobe: o.modprobe } : {}),
    });
    for (const m of drivers.modules) {
      out.push(built(m, true));
      kernels.push(m.name.slice(label.length + 1, -'-modules'.length));
    }
    if (drivers.data) out.push(built(drivers.data, false));
    decisions.push(...drivers.decisions);
  }
  for (const r of set.rpms) {
    if (r.pkg.isSource) {
      env.warn(`${r.fileName}: source packages are not part of an update pack (the release zip carries sources)`);
      continue;
    }
    if (r.pkg.payloadCompressor === 'zstd') throw new UserError('zstd payload: the dom0 rpm 4.11 of XenServer 7/8 and XCP-ng 8 cannot read it; rebuild it with xz or gzip', r.origin);
    const c = classifyRpm({ name: r.pkg.name, group: r.pkg.group ?? '', files: r.pkg.files.map((f) => f.path) });
    if (c.type === 'driver-rpm' && c.kernel && c.kernel !== 'any') kernels.push(c.kernel);
    decisions.push(`${r.fileName}: given (sources: rpm), re-signed with the pack key; ${c.type}${c.kernel ? `, dom0 kernel ${c.kernel}${c.kernel === 'any' ? '' : ' (the /lib/modules/<K>/ its modules are under)'}` : ''}`);
    out.push({
      path: `Packages/${r.fileName}`,
      pkg: { name: r.pkg.name, ...(r.pkg.epoch ? { epoch: r.pkg.epoch } : {}), version: r.pkg.version, release: r.pkg.release },
      // every RPM of the pack carries the pack key's signature: given ones are re-signed
      content: { kind: 'generated', deps: [], build: async () => resignedRpm(r.pkg, key, env.epoch) },
      isDriver: c.type === 'driver-rpm',
    });
  }
  if (out.length === 0) throw new UserError('nothing to put in the update pack: give kernel modules or RPMs');
  return { payload: out, kernels: [...new Set(kernels)] };
}

function baseRequirements(o: Options, kernels: string[]): Dependency[] {
  if (o.baseRequires !== undefined) {
    return (Array.isArray(o.baseRequires) ? o.baseRequires : [o.baseRequires]).map((text) => {
      const dep = parseRequirement(text);
      if (!dep) throw new UserError(`baseRequires: ${JSON.stringify(text)} is not "<name> [<op> <version>]"`);
      return dep;
    });
  }
  // the host kernel package provides kernel-uname-r: this ties the pack to the kernel ABI
  if (kernels.length === 1) return [{ name: 'kernel-uname-r', op: '=', version: kernels[0]! }];
  throw new UserError(`baseRequires: the pack has modules for ${kernels.length === 0 ? 'no known' : `${kernels.length}`} dom0 kernels (${kernels.join(', ') || 'none'}); say what control-<label> requires, e.g. baseRequires: "product-version = 8.2.1"`);
}

/** `repodata/` with `repomd.xml.asc` over the final `repomd.xml`; read-only modes as on the ISO. */
function signedRepodata(packages: RepoTreePackage[], groups: CompsGroup[], epoch: number, key: SigningKey): GeneratedDir {
  const repodata = repodataDir(packages, { epoch, groups, checksum: 'sha256', signRepomd: (repomd) => armoredDetachedSignature(key, repomd, epoch) });
  return {
    deps: repodata.deps,
    build: async (deps, scratch, run) => (await repodata.build(deps, scratch, run)).map((f) => ({ ...f, mode: 0o444 })),
  };
}

function plan(set: DriverSet, o: Options, env: LayoutEnv, { key, scripts }: Prepared, decisions: string[]): { tree: Tree; keyName: string; publicKey: Derived } {
  const label = labelOf(set, o);
  const version = versionOf(set, o);
  const text = o.text ?? set.meta.summary;
  const keyName = o.keyName ?? `RPM-GPG-KEY-${set.meta.vendor}`;
  let uuid = o.uuid;
  if (!uuid) {
    uuid = uuidV5(`xenserver-update:${set.meta.vendor}:${label}:${version}`);
    env.warn(`xenserver-update: no uuid given; using ${uuid}, derived from vendor "${set.meta.vendor}", label "${label}" and version "${version}". Put \`uuid: ${uuid}\` in the target to keep it if any of these change`);
  }
  const { payload, kernels } = payloadPackages(set, o, env, key, decisions);
  const drivers = payload.filter((p) => p.isDriver).length;
  const driverDisk = o.driverDisk ?? drivers === 1;
  if (driverDisk && drivers !== 1) throw new UserError(`driverDisk: a driver disk carries exactly one driver package (this pack has ${drivers}); the host installer loads one driver per disk`);

  const docBase: Omit<UpdateDocument, 'installationSize'> = {
    uuid,
    nameLabel: label,
    version,
    description: text,
    afterApplyGuidance: o.afterApplyGuidance,
    key: keyName,
    control: `control-${label}`,
    enforceHomogeneity: o.enforceHomogeneity,
    rollsup: o.rollsup,
  };
  // installation-size = Σ installed SIZE of the payload packages, read from their headers
  const payloadPaths = payload.map((p) => p.path);
  let sized: Promise<UpdateDocument> | undefined;
  const documentOf = (deps: Source[]): Promise<UpdateDocument> =>
    (sized ??= (async () => {
      let total = 0;
      for (const d of deps) total += (await readRepoPackage(d, 'sha256')).size.installed;
      return { ...docBase, installationSize: total };
    })());
  // refuse bad values before anything is built (the size is only known then)
  const problems = updateDocumentProblems({ ...docBase, installationSize: 0 });
  if (problems.length > 0) throw new UserError(`update.xml: ${problems.join('; ')}`);
  const baseRequires = baseRequirements(o, kernels);
  decisions.push(`control-${labelOf(set, o)}: Requires ${baseRequires.map((d) => `${d.name}${d.op ? ` ${d.op} ${d.version}` : ''}`).join(', ')}: ${o.baseRequires ? 'baseRequires: gives it' : 'the one dom0 kernel the pack has modules for (its kernel package provides kernel-uname-r)'}`);
  const rpmInput = (doc: UpdateDocument): UpdateRpmsInput => ({ doc, payload: payload.map((p) => p.pkg), baseRequires, license: set.meta.license, vendor: set.meta.vendorName ?? set.meta.vendor, buildTime: env.epoch });
  const rpmName = (name: string) => rpmFileName({ name, version: updateRpmVersion(version), release: '1', arch: 'noarch' });

  const tree = new Tree();
  tree.dir('Packages', 0o555);
  for (const p of payload) tree.file(p.path, p.content, 0o444);
  const updateRpm = `Packages/${rpmName(`update-${label}`)}`;
  const controlRpm = `Packages/${rpmName(`control-${label}`)}`;
  tree.file(updateRpm, { kind: 'generated', deps: payloadPaths, build: async (deps, scratch) => signedRpm(updatePackage(rpmInput(await documentOf(deps))), o, env.epoch, key, scratch) }, 0o444);
  tree.file(controlRpm, { kind: 'generated', deps: payloadPaths, build: async (deps, scratch) => signedRpm(controlPackage({ ...rpmInput(await documentOf(deps)), ...scripts }), o, env.epoch, key, scratch) }, 0o444);
  tree.file('update.xml', { kind: 'generated', deps: payloadPaths, build: async (deps) => bytesSource(updateXml(await documentOf(deps)), 'generated update.xml') }, 0o444);
  tree.file('update.xml.asc', { kind: 'generated', deps: ['update.xml'], build: async ([xml]) => bytesSource(await armoredDetachedSignature(key, await readSource(xml!), env.epoch), 'generated update.xml.asc') }, 0o444);

  const group = (id: string, name: string): CompsGroup => ({ id, name, description: text, default: true, uservisible: true, packages: [{ name: `update-${label}`, type: 'mandatory' }] });
  const groups = [group('update', 'update'), ...(driverDisk ? [group('drivers', 'Host Installer Driver Update')] : [])];
  const rpms = [...payloadPaths, updateRpm, controlRpm].map((path) => ({ path, href: path }));
  tree.generatedDir('repodata', signedRepodata(rpms, groups, env.epoch, key), 0o555);

  // beside the pack: users import it on each host
  const publicKey: Derived = { name: () => keyName, make: () => bytesSource(key.publicArmored, keyName) };
  return { tree, keyName, publicKey };
}

export const xenserverUpdate = defineLayout({
  kind: 'xenserver-update',
  options: xenserverUpdateOptions,
  inputs: (o: Options) => ({ key: o.key, precheck: o.precheck, remove: o.remove }),
  defaultOut: (set, o) => `${labelOf(set, o)}-${versionOf(set, o)}.iso`,
  prepare,
  plan(set, o, env, prepared) {
    const format = o.format ?? (/\.iso$/i.test(env.outName) ? 'iso' : 'directory');
    const decisions: string[] = [];
    const { tree, keyName, publicKey } = plan(set, o, env, prepared, decisions);
    const label = labelOf(set, o);
    const text = o.text ?? set.meta.summary;
    // ISO 9660 id fields hold printable ASCII only; the application id is informational
    const application = Buffer.from(text, 'utf8').subarray(0, 128).toString('latin1');
    return {
      tree,
      decisions,
      medium: format === 'iso'
        ? { kind: 'iso', volumeId: label.slice(0, 32), joliet: { limit: 103, overflow: 'refuse' }, implantMd5: false, ...(/^[\x20-\x7e]*$/.test(application) ? { application } : {}) }
        : { kind: 'directory' },
      derived: [...checksumFiles(format === 'iso' ? o.checksums : []), publicKey],
      notes: [
        `public key written beside the pack as ${keyName}: on each host run /opt/xensource/debug/import-update-key ${keyName}`,
        format === 'iso'
          ? `install: xe update-upload file-name=${env.outName}, then xe update-apply uuid=<the uuid it prints> host=<host>`
          : 'a folder: serve it over HTTP or NFS as a host-installer driver source, or build an .iso for xe update-upload',
      ],
    };
  },
});
