/**
 * `verify` for modern XenServer update packs and driver disks (`xenserver.md` §4): what xapi's
 * `update-upload`/`update-apply` and the host installer check — `update.xml` (uuid, name-label,
 * version, non-empty description), the two detached signatures and every RPM's header
 * signature (with the public key the user imports), sha256 repodata that matches the files,
 * the comps groups `update` (and `drivers`), the generated `update-`/`control-` packages, and with
 * a dom0 kernel given, whether the precheck passes on it and a driver is there for it.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { PublicKey } from 'openpgp';
import { checkRepository, type RepositoryCheck } from '../formats/repodata/check.js';
import { readMetadataBytes } from '../formats/repodata/read.js';
import { openRpm, type RpmPackage } from '../formats/rpm/read.js';
import { SIGTAG, TAG } from '../formats/rpm/tags.js';
import { flagsOp, satisfies } from '../formats/rpm/vercmp.js';
import { parseUpdateXml, type UpdateDocument } from '../formats/xenserver/update.js';
import type { OpenedMedium } from '../media/medium.js';
import { readKeysFromBytes, readPublicKeys, verifyArmoredDetached, verifyBinaryDetached } from '../sign/verify.js';
import { readSource } from '../tree/source.js';
import { Findings } from '../findings.js';

export interface UpdatePackDetails {
  update?: UpdateDocument;
  signatures: { file: string; status: 'good' | 'bad' | 'missing' | 'unchecked'; keyId?: string }[];
  packages: { file: string; nevra: string; signedBy?: string }[];
  groups: { id: string; packages: string[] }[];
  driverDisk: boolean;
}

/** The host installer and xapi recognise a modern pack by `update.xml` at the root. */
export function isUpdatePack(medium: OpenedMedium): boolean {
  return medium.get('update.xml')?.type === 'file';
}

const compsParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: true, isArray: (name) => name === 'group' || name === 'packagereq' });

/** Group ids and their package names from a comps file. */
function parseGroups(xml: Uint8Array): { id: string; packages: string[] }[] {
  const text = new TextDecoder().decode(xml);
  if (XMLValidator.validate(text) !== true) throw new Error('groups file is not well-formed XML');
  const doc = compsParser.parse(text) as { comps?: { group?: { id?: unknown; packagelist?: { packagereq?: unknown[] } }[] } };
  return (doc.comps?.group ?? []).map((g) => ({ id: String(g.id ?? ''), packages: (g.packagelist?.packagereq ?? []).map(String) }));
}

async function openOnMedium(medium: OpenedMedium, path: string): Promise<RpmPackage> {
  const at = medium.locate(path);
  return openRpm(at.file, { offset: at.offset, size: at.size });
}

/**
 * The public keys to check signatures with: the file given, else the key file named by
 * `update.xml` beside the medium (where dudkit writes it) or at its root. A key found this way
 * shows the pack is consistent, not who made it; the report says which file was used.
 */
async function findKeys(medium: OpenedMedium, keyFile: string | undefined, keyName: string | undefined, f: Findings): Promise<PublicKey[] | undefined> {
  if (keyFile) {
    // import-update-key copies the file to /etc/pki/rpm-gpg/<its basename>; the apply config xapi
    // writes points gpgkey at /etc/pki/rpm-gpg/<key attribute> (xen-api ocaml/xapi/xapi_pool_update.ml)
    if (keyName !== undefined && basename(keyFile) !== keyName) {
      f.error('XS_UPDATE_KEY_NAME', 'update.xml', `users would import the key as /etc/pki/rpm-gpg/${basename(keyFile)}, but update.xml names key="${keyName}": xapi's dnf looks for /etc/pki/rpm-gpg/${keyName} and the apply fails (ship the key as ${keyName})`);
    }
    return readPublicKeys(keyFile);
  }
  if (!keyName || keyName.includes('/')) return undefined;
  const beside = join(dirname(resolve(medium.path)), keyName);
  if (await stat(beside).then((st) => st.isFile(), () => false)) {
    f.info('XS_UPDATE_KEY_BESIDE', '', `signatures checked with ${beside} (found beside the medium)`);
    return readPublicKeys(beside);
  }
  if (medium.get(keyName)?.type === 'file') {
    f.info('XS_UPDATE_KEY_ON_MEDIUM', '', `signatures checked with ${keyName} from the medium itself`);
    return readKeysFromBytes(await readSource(medium.source(keyName)), keyName);
  }
  return undefined;
}

/** What every check of one pack shares: the medium, the findings so far and the account. */
interface Check {
  medium: OpenedMedium;
  f: Findings;
  details: UpdatePackDetails;
}

const read = (medium: OpenedMedium, path: string) => readSource(medium.source(path));

export interface UpdateVerifyOptions {
  /** The public key file users import (`--key`). */
  key?: string;
  /** The dom0 kernels (`uname -r`) of the hosts and host installers the pack is for. */
  kernels?: readonly string[];
  /** false (`--no-signature-check`): signatures that cannot be checked are a warning, not an error. */
  signatureCheck?: boolean;
}

export async function verifyXenserverUpdate(medium: OpenedMedium, opts: UpdateVerifyOptions = {}): Promise<{ findings: Findings; details: UpdatePackDetails }> {
  const c: Check = { medium, f: new Findings(), details: { signatures: [], packages: [], groups: [], driverDisk: false } };
  const doc = await checkUpdateXml(c);
  const keys = await findKeys(medium, opts.key, doc?.key, c.f);
  await checkDetachedSignatures(c, keys, doc, opts.signatureCheck ?? true);
  const rpmFiles = medium.files.filter((m) => m.type === 'file' && m.path.endsWith('.rpm')).map((m) => m.path);
  const repo = await checkRepodata(c, rpmFiles);
  await checkGroups(c, repo, doc?.nameLabel ?? '');
  const packages = await checkPackages(c, rpmFiles, keys, doc);
  for (const k of opts.kernels ?? []) checkKernel(c, k, packages, doc);
  return { findings: c.f, details: c.details };
}

/** update.xml, as update-upload parses it; a modern pack carries no legacy pack files. */
async function checkUpdateXml({ medium, f, details }: Check): Promise<UpdateDocument | undefined> {
  const parsed = parseUpdateXml(await read(medium, 'update.xml'));
  for (const p of parsed.problems) f.error('XS_UPDATE_XML', 'update.xml', `${p} (xapi: "The uploaded update package is invalid.")`);
  const doc = parsed.doc;
  if (doc) details.update = doc;
  if (doc && !doc.key) f.warning('XS_UPDATE_NO_KEY_ATTR', 'update.xml', 'no key attribute: xapi installs the packages with gpgcheck=0');
  for (const legacy of ['XS-REPOSITORY', 'XS-PACKAGES', '.treeinfo']) if (medium.get(legacy)) f.error('XS_UPDATE_LEGACY_FILES', legacy, 'a modern update pack carries no legacy pack files and no .treeinfo');
  return doc;
}

/** The detached signatures xapi checks with gpg (GOODSIG required). */
async function checkDetachedSignatures({ medium, f, details }: Check, keys: PublicKey[] | undefined, doc: UpdateDocument | undefined, required: boolean): Promise<void> {
  for (const file of ['update.xml', 'repodata/repomd.xml']) {
    const asc = `${file}.asc`;
    if (!medium.get(asc)) {
      f.error('XS_UPDATE_SIGNATURE_MISSING', asc, `missing: xapi refuses the upload ("Invalid signature")`);
      details.signatures.push({ file: asc, status: 'missing' });
      continue;
    }
    if (!medium.get(file)) continue;
    if (!keys) {
      details.signatures.push({ file: asc, status: 'unchecked' });
      continue;
    }
    const check = await verifyArmoredDetached(new TextDecoder().decode(await read(medium, asc)), await read(medium, file), keys);
    details.signatures.push({ file: asc, status: check.ok ? 'good' : 'bad', ...(check.keyId ? { keyId: check.keyId } : {}) });
    if (!check.ok) f.error('XS_UPDATE_SIGNATURE_BAD', asc, `${check.problem ?? 'not a good signature'} (xapi: "Invalid signature")`);
  }
  if (keys) return;
  const give = `give the public key users import with --key${doc?.key ? ` (update.xml names ${doc.key})` : ''}`;
  // xapi uploads only packs whose signatures are good (GOODSIG and TRUST_ULTIMATE): one dudkit cannot check may be tampered with
  if (required) f.error('XS_UPDATE_SIGNATURES_UNCHECKED', '', `signatures not checked, so a tampered pack would pass: ${give}, or say --no-signature-check`);
  else f.warning('XS_UPDATE_SIGNATURES_UNCHECKED', '', `signatures not checked (--no-signature-check): ${give}`);
}

/** Every file and package matches the repodata, checksums sha256 (the installer reads only those). */
async function checkRepodata({ medium, f }: Check, rpmFiles: string[]): Promise<RepositoryCheck> {
  const repo = await checkRepository(async (p) => (medium.get(p)?.type === 'file' ? medium.source(p) : undefined), rpmFiles);
  for (const p of repo.problems) f.error('REPODATA_PROBLEM', 'repodata', p);
  for (const d of repo.repomd?.data ?? []) if (d.checksum.type !== 'sha256') f.error('XS_UPDATE_REPOMD_CHECKSUM_TYPE', 'repodata/repomd.xml', `${d.type} checksum is ${d.checksum.type}, not sha256`);
  for (const p of repo.packages) {
    if (p.checksum.type !== 'sha256') f.error('XS_UPDATE_PRIMARY_CHECKSUM_TYPE', p.href, `primary.xml checksum is ${p.checksum.type}, not sha256: the host installer only reads sha256`);
    if (!p.href.startsWith('Packages/')) f.warning('XS_UPDATE_NOT_UNDER_PACKAGES', p.href, 'not under Packages/ (the DDK builder puts every RPM there)');
  }
  return repo;
}

/** The comps groups: xapi installs @update; the host installer loads @drivers from driver disks. */
async function checkGroups({ medium, f, details }: Check, repo: RepositoryCheck, label: string): Promise<void> {
  const groupData = repo.repomd?.data.find((d) => d.type === 'group');
  if (!groupData) f.error('XS_UPDATE_NO_GROUP_FILE', 'repodata/repomd.xml', 'no group file: `xe update-apply` installs @update');
  else if (medium.get(groupData.href)) {
    try {
      details.groups = parseGroups(await readMetadataBytes(medium.source(groupData.href)));
    } catch (err) {
      f.error('XS_UPDATE_GROUP_FILE_UNREADABLE', groupData.href, (err as Error).message);
    }
  }
  const update = details.groups.find((g) => g.id === 'update');
  if (groupData && !update) f.error('XS_UPDATE_NO_UPDATE_GROUP', 'groups', 'no group with id "update": `xe update-apply` runs `install @update`');
  else if (update && label && !update.packages.includes(`update-${label}`)) f.error('XS_UPDATE_GROUP_PACKAGE', 'groups', `group "update" does not name update-${label}`);
  details.driverDisk = details.groups.some((g) => g.id === 'drivers');
  if (!details.driverDisk) f.info('XS_UPDATE_NO_DRIVERS_GROUP', 'groups', 'no "drivers" group: an update pack, not a driver disk the host installer can load');
}

/** The packages: signed by the key, payloads the dom0 rpm reads, the generated pair present; returned by name. */
async function checkPackages({ medium, f, details }: Check, rpmFiles: string[], keys: PublicKey[] | undefined, doc: UpdateDocument | undefined): Promise<Map<string, RpmPackage>> {
  const label = doc?.nameLabel ?? '';
  const names = new Map<string, RpmPackage>();
  let payloadSize = 0;
  for (const path of rpmFiles) {
    let pkg: RpmPackage;
    try {
      pkg = await openOnMedium(medium, path);
    } catch (err) {
      f.error('RPM_UNREADABLE', path, (err as Error).message);
      continue;
    }
    names.set(pkg.name, pkg);
    const packet = pkg.signature.bin(SIGTAG.RSA) ?? pkg.signature.bin(SIGTAG.DSA);
    const entry: UpdatePackDetails['packages'][number] = { file: path, nevra: pkg.nevra };
    if (!packet) f.error('XS_UPDATE_RPM_UNSIGNED', path, 'not signed: with gpgcheck=1 (set by xapi) dnf refuses it');
    else if (keys) {
      const check = await verifyBinaryDetached(packet, pkg.header.bytes, keys);
      if (check.keyId) entry.signedBy = check.keyId;
      if (!check.ok) f.error('XS_UPDATE_RPM_SIGNATURE_BAD', path, `header signature: ${check.problem}`);
    }
    if (pkg.payloadCompressor === 'zstd') f.error('XS_UPDATE_ZSTD_PAYLOAD', path, 'zstd payload: the dom0 rpm 4.11 of XenServer 7/8 and XCP-ng 8 cannot read it');
    details.packages.push(entry);
    if (label && pkg.name !== `update-${label}` && pkg.name !== `control-${label}`) payloadSize += pkg.header.number(TAG.SIZE) ?? 0;
  }
  if (!doc || !label) return names;
  const upd = names.get(`update-${label}`);
  if (!upd) f.error('XS_UPDATE_NO_UPDATE_PACKAGE', 'Packages', `no update-${label} package: nothing is installed by @update`);
  else if (!upd.files.some((x) => x.path === `/var/update/applied/${doc.uuid}`)) f.error('XS_UPDATE_APPLIED_MARKER', upd.path, `does not own /var/update/applied/${doc.uuid}: the host never shows the update as applied`);
  if (doc.control && !names.has(doc.control)) f.error('XS_UPDATE_CONTROL_MISSING', 'update.xml', `control package ${doc.control} is not in the pack: update-apply fails`);
  if (doc.installationSize !== undefined && doc.installationSize !== payloadSize) f.warning('XS_UPDATE_INSTALLATION_SIZE', 'update.xml', `installation-size ${doc.installationSize} differs from the payload packages' installed size ${payloadSize}`);
  return names;
}

const MODULE_FILE = /\.ko(\.(xz|gz|zst))?$/;

/**
 * On a host (or host installer) whose dom0 kernel is `kernel`: the precheck installs the control
 * package, whose `kernel-uname-r` requirement only that kernel's package provides — dnf's "nothing
 * provides kernel-uname-r = X needed by control-…" is UPDATE_PRECHECK_FAILED_WRONG_SERVER_VERSION
 * (xen-api python3/extensions/pool_update.precheck, `classify_dnf_failure`); and some package
 * must carry modules under /lib/modules/<kernel>/, or no driver loads.
 */
function checkKernel({ f }: Check, kernel: string, packages: Map<string, RpmPackage>, doc: UpdateDocument | undefined): void {
  const control = doc?.control ? packages.get(doc.control) : undefined;
  const host = { name: 'kernel-uname-r', op: '=' as const, evr: kernel };
  for (const r of control?.requires ?? []) {
    const op = flagsOp(r.flags);
    const want = { name: r.name, ...(op && r.version ? { op, evr: r.version } : {}) };
    if (r.name === 'kernel-uname-r' && !satisfies(host, want)) {
      f.error('XS_UPDATE_WRONG_KERNEL', control!.path, `requires kernel-uname-r ${op ?? ''} ${r.version}: on kernel ${kernel} dnf finds "nothing provides kernel-uname-r ${op ?? ''} ${r.version}" and the precheck fails with UPDATE_PRECHECK_FAILED_WRONG_SERVER_VERSION`);
    }
  }
  const dir = `/lib/modules/${kernel}/`;
  const drivers = [...packages.values()].filter((p) => p.files.some((x) => x.path.startsWith(dir) && MODULE_FILE.test(x.path)));
  if (drivers.length === 0) {
    const others = [...new Set([...packages.values()].flatMap((p) => p.files.map((x) => /^\/lib\/modules\/([^/]+)\/.*\.ko/.exec(x.path)?.[1]).filter((k): k is string => k !== undefined)))];
    f.error('XS_UPDATE_NO_MODULES_FOR_KERNEL', 'Packages', `no package has modules under ${dir}: no driver loads on kernel ${kernel}${others.length > 0 ? ` (the modules are for ${others.join(', ')})` : ''}`);
  }
}

export function updatePackText(path: string, d: UpdatePackDetails): string {
  const lines = [`${path}: XenServer update pack${d.driverDisk ? ' (driver disk)' : ''}`];
  if (d.update) lines.push(`  ${d.update.nameLabel} ${d.update.version} uuid ${d.update.uuid}: ${d.update.description}`);
  for (const s of d.signatures) lines.push(`  ${s.file}: ${s.status}${s.keyId ? ` (key ${s.keyId})` : ''}`);
  for (const p of d.packages) lines.push(`  ${p.file}${p.signedBy ? ` signed by ${p.signedBy}` : ''}`);
  lines.push(`  groups: ${d.groups.map((g) => `${g.id} (${g.packages.join(', ')})`).join('; ') || 'none'}`);
  return lines.join('\n');
}
