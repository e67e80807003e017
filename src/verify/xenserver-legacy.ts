/**
 * `verify` for legacy XenServer supplemental packs (`xenserver.md` §3, acceptance checks 1–8):
 * what `xcp.repository`, the legacy host installer and xapi check — the two metadata files parse
 * and have the reference form, the description comes first and is non-empty, every listed
 * package is there with its size and MD5, each RPM is classified as listed, Requires met inside
 * the pack come from earlier packages, the volume id is the description, and the MD5 side files
 * beside an ISO hold the right values.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { openRpm } from '../formats/rpm/read.js';
import { flagsOp } from '../formats/rpm/vercmp.js';
import { TAG } from '../formats/rpm/tags.js';
import { IDENT_RE, parseXsPackages, parseXsRepository, TESTS, type ParsedPackage } from '../formats/xenserver/legacy.js';
import { classifyRpm, orderProblems, type OrderItem } from '../formats/xenserver/rules.js';
import { isMainRequirement, MAIN_ARCS, padMain, splitBuild, versionProblem } from '../formats/xenserver/version.js';
import type { OpenedMedium } from '../media/medium.js';
import { digestOf, fileSource, readSource, type Source } from '../tree/source.js';
import { Findings } from '../findings.js';

export interface LegacyPackDetails {
  identity: string;
  product: string;
  version: string;
  build?: string;
  description: string;
  volumeId?: string;
  requires: string[];
  metadataMd5: string;
  packages: { file: string; type: string; label: string; kernel?: string; size: number; md5: string }[];
}

/** A legacy pack: `XS-REPOSITORY` at the root. */
export function isLegacyPack(medium: OpenedMedium): boolean {
  return medium.get('XS-REPOSITORY')?.type === 'file';
}

const REQUIRED_REPOSITORY = ['originator', 'name', 'product', 'version'];
const REQUIRED_PACKAGE = ['label', 'size', 'md5', 'type'];
const TYPES = ['rpm', 'driver-rpm', 'firmware'];

/** The reference serialisation (§3.2): no declaration, LF, trailing LF, attributes sorted. */
function checkForm(text: string, file: string, root: string, f: Findings): void {
  if (!text.startsWith(`<${root}`)) f.error('XS_LEGACY_FORM_START', file, `does not start with <${root} (an XML declaration or BOM is not in the reference form)`);
  if (!text.endsWith('\n')) f.error('XS_LEGACY_FORM_LF', file, 'does not end with a line feed');
  if (text.includes('\r')) f.error('XS_LEGACY_FORM_CR', file, 'has CR characters (line ends must be LF)');
  text.split('\n').forEach((line, i) => {
    const names = [...line.matchAll(/\s([A-Za-z_:][-A-Za-z0-9_.:]*)="/g)].map((m) => m[1]!);
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (names.join(' ') !== sorted.join(' ')) f.warning('XS_LEGACY_FORM_ATTR_ORDER', file, `line ${i + 1}: attributes not in ASCII order (${names.join(' ')}): not the reference builder's form`);
  });
  if (/[^\x00-\x7f]/.test(text)) f.warning('XS_LEGACY_NON_ASCII', file, 'non-ASCII text: the Python 2 tools of XenServer ≤ 7.0 may fail on it');
}

async function sideFile(path: string): Promise<string | undefined> {
  return readFile(path, 'latin1').catch(() => undefined);
}

/**
 * `kernels`: the dom0 kernel (`uname -r`) of the host installer and host the pack is for; each is
 * an error when no driver RPM would load on it.
 */
export async function verifyXenserverLegacy(medium: OpenedMedium, kernels: readonly string[] = []): Promise<{ findings: Findings; details: LegacyPackDetails }> {
  const f = new Findings();
  const repoBytes = await readSource(medium.source('XS-REPOSITORY'));
  const pkgsFile = medium.get('XS-PACKAGES');
  const pkgBytes = pkgsFile?.type === 'file' ? await readSource(medium.source('XS-PACKAGES')) : new Uint8Array(0);
  if (!pkgsFile) f.error('XS_LEGACY_PACKAGES_MISSING', 'XS-PACKAGES', 'missing: the pack has no package list');
  const metadataMd5 = createHash('md5').update(repoBytes).update(pkgBytes).digest('hex');
  const details: LegacyPackDetails = { identity: '', product: '', version: '', description: '', requires: [], metadataMd5, packages: [] };
  if (medium.label !== undefined) details.volumeId = medium.label;

  checkRepositoryFile(medium, Buffer.from(repoBytes).toString('utf8'), f, details);
  const listed = pkgsFile ? readPackageList(Buffer.from(pkgBytes).toString('utf8'), f) : [];
  checkPackFiles(medium, listed, f);
  const order: OrderItem[] = [];
  for (const p of listed) {
    const item = await checkListedPackage(medium, p, f, details);
    if (item) order.push(item);
  }
  for (const problem of orderProblems(order)) f.error('XS_LEGACY_ORDER', 'XS-PACKAGES', problem);
  for (const k of kernels) checkDriverFor(k, details, f);
  if (medium.kind === 'iso') await checkSideFiles(medium, metadataMd5, f);
  return { findings: f, details };
}

/** XS-REPOSITORY as xcp.repository and xapi read it; its facts go into `details`. */
function checkRepositoryFile(medium: OpenedMedium, text: string, f: Findings, details: LegacyPackDetails): void {
  checkForm(text, 'XS-REPOSITORY', 'repository', f);
  try {
    const repo = parseXsRepository(text);
    const a = repo.attrs;
    for (const k of REQUIRED_REPOSITORY) if (!a[k]) f.error('XS_LEGACY_REPOSITORY_ATTR', 'XS-REPOSITORY', `<repository> has no ${k}`);
    for (const k of ['originator', 'name']) if (a[k] && !IDENT_RE.test(a[k])) f.error('XS_LEGACY_IDENT', 'XS-REPOSITORY', `${k} "${a[k]}" does not match [A-Za-z0-9._-]+`);
    if (!repo.first || repo.first.tag !== 'description' || !repo.first.firstIsText || repo.description.trim() === '') {
      f.error('XS_LEGACY_DESCRIPTION_FIRST', 'XS-REPOSITORY', 'the first child of <repository> is not a non-empty <description>: xapi leaves the pack out of software-version');
    }
    checkVersions(a, repo.requires, f);
    for (const q of repo.requires) {
      for (const k of ['originator', 'name', 'test', 'version']) if (!q[k]) f.error('XS_LEGACY_REQUIRES_ATTR', 'XS-REPOSITORY', `a <requires> has no ${k}`);
      if (q.test && !(TESTS as readonly string[]).includes(q.test)) f.error('XS_LEGACY_REQUIRES_TEST', 'XS-REPOSITORY', `requires ${q.originator}:${q.name}: test "${q.test}" is not one of ${TESTS.join(' ')}`);
    }
    Object.assign(details, {
      identity: `${a.originator ?? ''}:${a.name ?? ''}`,
      product: a.product ?? '',
      version: a.version ?? '',
      ...(a.build ? { build: a.build } : {}),
      description: repo.description,
      requires: repo.requires.map((q) => `${q.originator}:${q.name} ${q.test} ${q.version}`),
    });
    if (medium.kind === 'iso' && medium.label !== undefined && medium.label !== repo.description) {
      f.warning('XS_LEGACY_VOLUME_ID', '', `volume id "${medium.label}" is not the description "${repo.description}" (the reference builder writes TEXT as both)`);
    }
  } catch (err) {
    f.error('XS_LEGACY_REPOSITORY_UNREADABLE', 'XS-REPOSITORY', (err as Error).message);
  }
}

/**
 * The versions the installers compare (§3.2.1; host-installer repository.py before 1c4605a,
 * `LegacyRepository._parse_repofile` and `check_requires`, with python-libs `xcp/version.py`): the
 * pack's `version[-build]` and each requirement's, and `xs:main`/`xcp:main` with the inventory's
 * three arcs, since a shorter version is lower.
 */
function checkVersions(a: Record<string, string>, requires: Record<string, string>[], f: Findings): void {
  if (a.version) {
    const problem = versionProblem(a.build ? `${a.version}-${a.build}` : a.version);
    if (problem) f.error('XS_LEGACY_VERSION', 'XS-REPOSITORY', `pack version: ${problem} (when another pack requires this one)`);
  }
  for (const q of requires) {
    if (!q.version) continue;
    const what = `requires ${q.originator}:${q.name} ${q.test} ${q.version}`;
    const problem = versionProblem(q.version);
    if (problem) f.error('XS_LEGACY_VERSION', 'XS-REPOSITORY', `${what}: ${problem}`);
    else if (isMainRequirement(q.originator ?? '', q.name ?? '') && splitBuild(q.version).version.split('.').length !== MAIN_ARCS) {
      const arcs = splitBuild(q.version).version;
      f.error('XS_LEGACY_MAIN_ARCS', 'XS-REPOSITORY', `${what}: the host's version has ${MAIN_ARCS} arcs (PRODUCT_VERSION='7.0.0') and versions with more arcs are greater, so "${arcs}" never equals it and the installer stops ("Repository dependency error")${arcs.split('.').length < MAIN_ARCS ? `; write ${padMain(arcs)}` : ''}`);
    }
    if (!problem && (q.build || q.version.includes('-'))) f.warning('XS_LEGACY_REQUIRES_BUILD', 'XS-REPOSITORY', `${what}: a build part, which the installers do not compare alike (today's xcp.version ignores it)`);
  }
}

function readPackageList(text: string, f: Findings): ParsedPackage[] {
  checkForm(text, 'XS-PACKAGES', 'packages', f);
  try {
    return parseXsPackages(text);
  } catch (err) {
    f.error('XS_LEGACY_PACKAGES_UNREADABLE', 'XS-PACKAGES', (err as Error).message);
    return [];
  }
}

/** The pack's other files: the install script it runs, nothing unlisted, no repository list. */
function checkPackFiles(medium: OpenedMedium, listed: ParsedPackage[], f: Findings): void {
  if (medium.get('XS-REPOSITORY-LIST')) f.warning('XS_LEGACY_REPOSITORY_LIST', 'XS-REPOSITORY-LIST', 'present: the Python 3 xcp.repository parser fails on a non-empty list');
  const install = medium.get('install');
  if (!install || install.type !== 'file') f.error('XS_LEGACY_INSTALL_MISSING', 'install', 'missing: xe-install-supplemental-pack runs ./install from the pack');
  else if (medium.kind !== 'directory' && (install.mode & 0o111) === 0) f.error('XS_LEGACY_INSTALL_NOT_EXECUTABLE', 'install', 'not executable');
  const extra = medium.files.filter((x) => x.type === 'file' && !['XS-REPOSITORY', 'XS-PACKAGES', 'install', 'XS-REPOSITORY-LIST'].includes(x.path) && !listed.some((p) => p.file === x.path));
  for (const x of extra) f.warning('XS_LEGACY_UNLISTED', x.path, 'on the pack but not listed in XS-PACKAGES');
}

/** One XS-PACKAGES entry: there, with its size and MD5, classified as listed; its deps for the order check. */
async function checkListedPackage(medium: OpenedMedium, p: ParsedPackage, f: Findings, details: LegacyPackDetails): Promise<OrderItem | undefined> {
  const a = p.attrs;
  for (const k of REQUIRED_PACKAGE) if (!a[k]) f.error('XS_LEGACY_PACKAGE_ATTR', p.file, `<package> has no ${k}`);
  if (a.type && !TYPES.includes(a.type)) f.error('XS_LEGACY_PACKAGE_TYPE', p.file, `type "${a.type}" is obsolete or unknown (rpm, driver-rpm, firmware)`);
  if (a.type === 'driver-rpm' && !a.kernel) f.error('XS_LEGACY_DRIVER_KERNEL', p.file, 'a driver-rpm needs a kernel attribute');
  const file = medium.get(p.file);
  if (!file || file.type !== 'file') {
    f.error('XS_LEGACY_PACKAGE_MISSING', p.file, 'listed in XS-PACKAGES but missing ("FATAL: missing")');
    return undefined;
  }
  const md5 = await digestOf(medium.source(p.file));
  if (String(file.size) !== a.size) f.error('XS_LEGACY_PACKAGE_SIZE', p.file, `size ${file.size}, XS-PACKAGES says ${a.size}`);
  if (md5 !== a.md5) f.error('XS_LEGACY_PACKAGE_MD5', p.file, `MD5 ${md5}, XS-PACKAGES says ${a.md5} ("FATAL: MD5 mismatch")`);
  details.packages.push({ file: p.file, type: a.type ?? '', label: a.label ?? '', ...(a.kernel ? { kernel: a.kernel } : {}), size: file.size, md5 });
  if (!p.file.endsWith('.rpm')) return undefined;
  try {
    const loc = medium.locate(p.file);
    const pkg = await openRpm(loc.file, { offset: loc.offset, size: loc.size });
    const files = pkg.files.map((x) => x.path);
    const c = classifyRpm({ name: pkg.name, group: pkg.header.string(TAG.GROUP) ?? '', files });
    for (const problem of c.problems) f.error('XS_LEGACY_CLASSIFY', p.file, problem);
    if (c.type !== a.type) f.error('XS_LEGACY_TYPE_MISMATCH', p.file, `listed as ${a.type}, but its NAME and GROUP make it ${c.type}`);
    else if (c.label !== a.label || (c.kernel ?? '') !== (a.kernel ?? '')) f.error('XS_LEGACY_LABEL_MISMATCH', p.file, `listed as label "${a.label}" kernel "${a.kernel ?? ''}", the builder reads label "${c.label}" kernel "${c.kernel ?? ''}" from ${pkg.name}`);
    const dep = (d: { name: string; flags: number; version: string }) => {
      const op = flagsOp(d.flags);
      return { name: d.name, ...(op && d.version ? { op, evr: d.version } : {}) };
    };
    return { id: p.file, provides: pkg.provides.map(dep), requires: pkg.requires.map(dep), files };
  } catch (err) {
    f.error('RPM_UNREADABLE', p.file, `not a readable RPM: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * The legacy host installer loads a driver-rpm only when its `kernel` is `any` or equals its own
 * kernel ABI version, as one string, and logs "Skipping driver …, version mismatch" for the others
 * (host-installer repository.py before 1c4605a, `DriverRPMPackage.load` / `is_loadable`).
 */
function checkDriverFor(kernel: string, details: LegacyPackDetails, f: Findings): void {
  const drivers = details.packages.filter((p) => p.type === 'driver-rpm');
  if (drivers.some((p) => p.kernel === kernel || p.kernel === 'any')) return;
  const skipped = drivers.map((p) => `${p.file} (kernel ${p.kernel ?? ''})`).join(', ');
  f.error('XS_LEGACY_NO_DRIVER_FOR_KERNEL', 'XS-PACKAGES', `the installer loads no driver on kernel ${kernel}: ${drivers.length > 0 ? `it skips ${skipped} ("version mismatch")` : 'the pack has no driver-rpm'}`);
}

/** The MD5 side files beside an ISO image (§3.5), when they are there. */
async function checkSideFiles(medium: OpenedMedium, metadataMd5: string, f: Findings): Promise<void> {
  const stem = basename(medium.path).replace(/\.iso$/i, '');
  const dir = dirname(medium.path);
  const meta = await sideFile(join(dir, `${stem}.metadata.md5`));
  if (meta !== undefined && meta !== `${metadataMd5}\n`) f.error('XS_LEGACY_METADATA_MD5', `${stem}.metadata.md5`, `holds ${JSON.stringify(meta)}, the metadata MD5 is ${metadataMd5} (hash and LF)`);
  const isoMd5 = await sideFile(join(dir, `${basename(medium.path)}.md5`));
  if (isoMd5 !== undefined) {
    const want = `${await digestOf(await fileSource(medium.path))}  ${basename(medium.path)}\n`;
    if (isoMd5 !== want) f.error('XS_LEGACY_ISO_MD5', `${basename(medium.path)}.md5`, `holds ${JSON.stringify(isoMd5)}, md5sum gives ${JSON.stringify(want)}`);
  }
}

export function legacyPackText(path: string, d: LegacyPackDetails): string {
  return [
    `${path}: XenServer legacy supplemental pack ${d.identity} ${d.version}${d.build ? ` build ${d.build}` : ''} (${d.product})`,
    `  description: ${d.description}${d.volumeId !== undefined ? `   volume id: ${d.volumeId}` : ''}`,
    `  requires: ${d.requires.join(', ') || 'nothing'}`,
    `  metadata MD5: ${d.metadataMd5}`,
    ...d.packages.map((p) => `  ${p.type} ${p.label}${p.kernel ? ` (kernel ${p.kernel})` : ''}: ${p.file} ${p.size} bytes md5 ${p.md5}`),
  ].join('\n');
}
