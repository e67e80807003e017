/**
 * `verify` for RHEL 6–10 driver update disks: finds the disks the way anaconda does
 * (`find_repos()`), then checks what `dd_list`/`dd_extract`, depmod and dnf would do with them
 * (`redhat-dud.md` §2–§4, §8): which packages match each installer kernel, which modules and
 * firmware are extracted and where they land, which packages are installed on the target.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { decompressBuffer } from '../formats/compress/index.js';
import { parseModule } from '../formats/elf/index.js';
import { openRpm, type RpmPackage } from '../formats/rpm/read.js';
import { payloadReadSize, verifyDigests } from '../formats/rpm/read-verify.js';
import { parsePrimary, parseRepomd, readMetadataBytes } from '../formats/repodata/read.js';
import type { OpenedMedium } from '../media/medium.js';
import { checkDisk, diskPackageFromRpm, kernelsOfArch, matchesInstallerEnhancement, matchesKernel, matchKernels, relocatedModulePath, type DiskPackage, type KernelMatch } from '../rules/rhdd.js';
import { vermagicVerdict } from '../rules/vermagic.js';
import { ReadBudget, tooLarge } from '../tree/bounded.js';
import { readSource } from '../tree/source.js';
import { Findings } from '../findings.js';
import { kabiProblems, type KabiModule, type KabiSet } from '../rules/kabi.js';
import { silentProgress, type Progress } from '../progress.js';

export interface DiskTree {
  /** Folder holding `rhdd3` and `rpms/` ('' = the root). */
  root: string;
  title: string;
  arches: string[];
}

export interface PackageFacts {
  file: string;
  nevra: string;
  payloadCompressor: string;
  kernelModules: string[];
  modules: { path: string; vermagic?: string; valid: boolean }[];
}

export interface KernelFacts {
  kernel: string;
  arch: string;
  disk: string;
  packages: string[];
  extracted: { from: string; to: string }[];
  /** The lines `extract_drivers()` appends to /run/install/dd_packages: a NAME once per listed modules/firmwares package. */
  ddPackages: string[];
  /** The module names `load_drivers()` passes to `modprobe -a` (none when the disk is dropped). */
  loaded: string[];
  /** `modinfo -F alias` failed on these extracted modules: nothing relocated or loaded, dd_packages and DD-<N> already written. */
  dropped?: string[];
  installedOnTarget: string[];
}

export interface Rhdd3Details {
  label?: string;
  /** How the installer finds a disk inside another medium (its own label then does not matter). */
  foundBy?: string;
  disks: DiskTree[];
  packages: PackageFacts[];
  kernels: KernelFacts[];
}

/** anaconda's `find_repos()`: every folder with a `rhdd3` file and an `rpms/` folder. */
export function findDisks(medium: OpenedMedium): DiskTree[] {
  const out: DiskTree[] = [];
  for (const f of medium.files) {
    if (basename(f.path) !== 'rhdd3' || (f.type !== 'file' && f.type !== 'symlink')) continue;
    const root = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
    const rpms = root ? `${root}/rpms` : 'rpms';
    if (medium.get(rpms)?.type !== 'dir') continue;
    const arches = medium.files.filter((d) => d.type === 'dir' && d.path.startsWith(`${rpms}/`) && !d.path.slice(rpms.length + 1).includes('/')).map((d) => basename(d.path));
    out.push({ root, title: '', arches });
  }
  return out;
}

async function hashSource(medium: OpenedMedium, path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of medium.source(path).open()) {
    h.update(c);
    size += c.length;
  }
  return { sha256: h.digest('hex'), size };
}

/** Check a repository's metadata against the RPMs beside it, as dnf would on the target. */
async function checkRepodata(medium: OpenedMedium, repo: string, rpmFiles: string[], f: Findings): Promise<void> {
  const repomdPath = `${repo}/repodata/repomd.xml`;
  if (!medium.get(`${repo}/repodata`)) {
    f.warning('RHDD3_NO_REPODATA', repo, 'no repodata/: RHEL 6 rejects the disk (RHEL 7–10 generate it)');
    return;
  }
  if (!medium.get(repomdPath)) {
    f.error('REPOMD_MISSING', repo, 'repodata/ has no repomd.xml');
    return;
  }
  const repomd = parseRepomd(await readMetadataBytes(medium.source(repomdPath)));
  let primaryHref: string | undefined;
  for (const d of repomd.data) {
    const path = `${repo}/${d.href}`;
    if (!/^repodata\/[^/]+$/.test(d.href)) f.error('REPOMD_HREF', repomdPath, `${d.type} href ${d.href} is not repodata/<file>`);
    if (!medium.get(path)) {
      f.error('REPOMD_FILE_MISSING', repomdPath, `${d.type} points to ${d.href}, which is missing`);
      continue;
    }
    if (d.checksum.type !== 'sha256') f.warning('REPOMD_CHECKSUM_TYPE', repomdPath, `${d.type} checksum is ${d.checksum.type}, not sha256`);
    const { sha256, size } = await hashSource(medium, path);
    if (d.checksum.type === 'sha256' && d.checksum.value !== sha256) f.error('REPOMD_CHECKSUM', path, `checksum differs from repomd.xml (dnf fails with "checksum doesn't match")`);
    if (d.size !== undefined && d.size !== size) f.error('REPOMD_SIZE', path, `size ${size} differs from repomd.xml (${d.size})`);
    if (d.type === 'primary') primaryHref = path;
  }
  if (!primaryHref) {
    f.error('REPOMD_NO_PRIMARY', repomdPath, 'no primary metadata');
    return;
  }
  const listed = parsePrimary(await readMetadataBytes(medium.source(primaryHref)));
  const present = new Set(rpmFiles.map((p) => basename(p)));
  for (const p of listed) {
    if (p.href.includes('/')) f.error('PRIMARY_LOCATION', primaryHref, `package location ${p.href} is not a bare file name`);
    const file = `${repo}/${p.href}`;
    if (!present.has(p.href)) {
      f.error('PRIMARY_LISTS_ABSENT', primaryHref, `lists ${p.href}, which is not in ${repo}`);
      continue;
    }
    const { sha256, size } = await hashSource(medium, file);
    if (p.checksum.type === 'sha256' && p.checksum.value !== sha256) f.error('PRIMARY_CHECKSUM', file, 'sha256 differs from repodata (stale repodata: the target install fails with a checksum error)');
    if (p.size.package !== size) f.error('PRIMARY_SIZE', file, `size differs from repodata (${p.size.package})`);
    present.delete(p.href);
  }
  for (const missing of present) f.error('PRIMARY_UNLISTED', primaryHref, `does not list ${missing}`);
}

/** Check a module the package delivers the way the installer's modinfo does. */
async function checkModule(medium: string, path: string, bytes: Uint8Array, subject: string, f: Findings, budget: ReadBudget, symbols: Map<string, KabiModule>): Promise<PackageFacts['modules'][number]> {
  try {
    const info = parseModule((await decompressBuffer(bytes, budget, path)).data, basename(path));
    const kdir = path.split('/')[3];
    // the kernel's rule, the same build applies (rules/vermagic.ts)
    const verdict = kdir && /^\d/.test(kdir) ? vermagicVerdict(info, kdir) : undefined;
    if (verdict) f[verdict.severity]('VERMAGIC_RELEASE', subject, `${path}: ${verdict.message}`);
    symbols.set(`${basename(subject)}:${path}`, info);
    return { path, vermagic: info.vermagic, valid: true };
  } catch (err) {
    const limit = tooLarge(err);
    if (limit) throw new UserError(`${subject}: ${limit.message}`, medium);
    f.error('MODULE_INVALID', subject, `${path}: not a valid kernel module (${(err as Error).message}); the installer's modinfo fails and it drops the whole disk`);
    return { path, valid: false };
  }
}

/** The installer kernels to check: the ones asked for, else every `=`/`>=` version the packages name. */
function kernelsFor(arch: string, pkgs: DiskPackage[], asked: string[]): string[] {
  const ks = asked.length > 0 ? asked : [...new Set(pkgs.flatMap((p) => p.provides.filter((d) => d.name === 'kernel-modules' && (d.op === '=' || d.op === '>=') && d.version).map((d) => d.version)))];
  return kernelsOfArch(ks, arch);
}

export async function verifyRhdd3(
  medium: OpenedMedium,
  disks: DiskTree[],
  asked: string[],
  { foundBy, kabi, progress = silentProgress }: { foundBy?: string | undefined; kabi?: KabiSet | undefined; progress?: Progress } = {},
): Promise<{ findings: Findings; details: Rhdd3Details }> {
  const f = new Findings();
  const details: Rhdd3Details = { ...(medium.label !== undefined ? { label: medium.label } : {}), ...(foundBy !== undefined ? { foundBy } : {}), disks, packages: [], kernels: [] };
  if (foundBy !== undefined) f.info('FOUND_THROUGH_OUTER', '', `found through ${foundBy}, not by its own volume label`);
  else if (medium.label !== undefined) {
    if (medium.label === 'OEMDRV') f.info('LABEL_OEMDRV', '', 'volume label OEMDRV: the installer finds the disk by itself');
    else f.info('LABEL_OTHER', '', `volume label ${medium.label}: boot with inst.dd=hd:LABEL=${medium.label}`);
  }
  const runs: KernelRun[] = [];
  for (const disk of disks) {
    await checkDiskTree(medium, disk, f);
    for (const arch of disk.arches) runs.push(...(await checkArchFolder(medium, disk, arch, asked, f, details, progress)));
  }
  for (const run of runs) finishKernel(run, runs, f, details, kabi);
  return { findings: f, details };
}

/** One installer kernel's pass over one arch folder, before the modinfo step. */
interface KernelRun {
  match: KernelMatch;
  facts: KernelFacts;
  /** `<package>:<path>` of the modules in the folder that modinfo cannot read. */
  invalid: Set<string>;
  /** Each readable module's symbols, by `<package>:<path>`, for the kABI check. */
  symbols: Map<string, KabiModule>;
  repo: string;
  carriesDriver: boolean;
}

/**
 * driver_updates.py `_process_driver_disk()`: `extract_drivers()` runs over every tree of the
 * medium (writing dd_packages and DD-<N>), then `grab_driver_files()` runs `modinfo -F alias` on
 * every extracted module; one failure raises, and the whole medium loads nothing for that kernel.
 */
function finishKernel(run: KernelRun, runs: KernelRun[], f: Findings, details: Rhdd3Details, kabi?: KabiSet): void {
  const { match: m, facts } = run;
  const bad = runs.filter((r) => r.match.kernel === m.kernel && r.facts.arch === facts.arch).flatMap((r) => r.match.modules.map((x) => `${x.package}:${x.path}`).filter((x) => r.invalid.has(x)));
  details.kernels.push(facts);
  if (m.packages.length === 0) {
    f.error('RHDD3_NO_MATCH', m.kernel, `no package on ${run.repo} matches this installer kernel: nothing is loaded`);
    return;
  }
  if (bad.length > 0) {
    // nothing was copied or moved: the extracted files stay where dd_extract wrote them
    facts.extracted = m.extracted.map((x) => ({ from: `${x.package}:${x.path}`, to: x.path }));
    facts.loaded = [];
    facts.dropped = bad;
    const names = facts.installedOnTarget.length > 0 ? `; the target still installs ${facts.installedOnTarget.join(', ')}` : '';
    f.error('RHDD3_DISK_DROPPED', m.kernel, `modinfo fails on ${bad.join(', ')}: the installer drops the disk for ${m.kernel} after writing dd_packages (${facts.ddPackages.join(', ') || 'nothing'}) and copying the repo to /run/install/DD-<N>, so nothing is relocated and no driver is loaded${names}`);
    return;
  }
  if (run.carriesDriver && m.modules.length === 0) {
    const enhancementOnly = m.ddPackages.length === 0;
    const why = m.skipped.length > 0
      ? `its installer's dd_extract takes only .ko files, not ${m.skipped.map((s) => s.slice(s.lastIndexOf('/') + 1)).join(', ')}`
      : enhancementOnly
        ? `only installer-enhancement packages (${m.packages.join(', ')}) are listed, and the installer relocates and loads modules only after a kernel-modules package`
        : `only ${m.packages.join(', ')} match${m.packages.length === 1 ? 'es' : ''} on ${run.repo}`;
    f.error('RHDD3_NO_MODULE', m.kernel, `no module for kernel ${m.kernel}: ${why}, so no driver is loaded`);
  }
  if (kabi) checkKabiOf(run, kabi, f);
}

/** The modules kernel K loads from the folder against the kABI references for K (they see each other's exports). */
function checkKabiOf({ match: m, symbols }: KernelRun, kabi: KabiSet, f: Findings): void {
  const loaded = m.modules.flatMap((x) => {
    const info = symbols.get(`${x.package}:${x.path}`);
    return info ? [{ info, subject: x.package }] : [];
  });
  const medium = loaded.map((l) => l.info);
  for (const { info, subject } of loaded) {
    for (const p of kabiProblems(kabi, m.kernel, info, medium)) {
      f.error(p.kind === 'missing' ? 'KABI_MISSING' : p.kind === 'crc' ? 'KABI_CRC' : 'KABI_NAMESPACE', m.kernel, `${subject}: ${p.message}`);
    }
  }
}

/** The disk's `rhdd3` marker (its title) and `rpms/` folder, as RHEL 6 and later look for them. */
async function checkDiskTree(medium: OpenedMedium, disk: DiskTree, f: Findings): Promise<void> {
  const at = disk.root ? `${disk.root}/` : '';
  const marker = medium.get(`${at}rhdd3`)!;
  if (marker.type === 'file') {
    disk.title = new TextDecoder().decode(await readSource(medium.source(`${at}rhdd3`))).replace(/\n$/, '');
    if (marker.size === 0) f.warning('RHDD3_MARKER_EMPTY', `${at}rhdd3`, 'is empty: RHEL 6 rejects the disk');
  }
  if (disk.root) f.warning('RHDD3_NOT_AT_ROOT', `${at}rhdd3`, 'is not at the root of the medium: RHEL 6 looks only there');
  if (disk.arches.length === 0) f.error('RHDD3_NO_ARCH', `${at}rpms`, 'has no <arch> folder');
  if (disk.arches.includes('noarch')) f.warning('RHDD3_NOARCH_FOLDER', `${at}rpms/noarch`, 'is never read: noarch packages belong in every arch folder');
}

/** One `rpms/<arch>/` folder: its packages, the installer's rules over them, its repodata, what each kernel loads. */
async function checkArchFolder(medium: OpenedMedium, disk: DiskTree, arch: string, asked: string[], f: Findings, details: Rhdd3Details, progress: Progress): Promise<KernelRun[]> {
  const repo = `${disk.root ? `${disk.root}/` : ''}rpms/${arch}`;
  const inRepo = medium.files.filter((x) => x.path.startsWith(`${repo}/`));
  const rpmFiles = inRepo.filter((x) => x.type === 'file' && x.path.endsWith('.rpm') && !x.path.slice(repo.length + 1).includes('/')).map((x) => x.path);
  for (const deep of inRepo.filter((x) => x.path.endsWith('.rpm') && x.path.slice(repo.length + 1).includes('/'))) f.warning('RHDD3_RPM_SUBFOLDER', deep.path, 'is in a subfolder: the installer reads only rpms/<arch>/*.rpm');
  if (rpmFiles.length === 0) f.error('RHDD3_NO_RPMS', repo, 'has no RPMs');
  const pkgs: DiskPackage[] = [];
  const invalid = new Set<string>();
  const symbols = new Map<string, KabiModule>();
  for (const file of rpmFiles) {
    const checked = await checkPackageFile(medium, file, arch, f, symbols, progress);
    if (!checked) continue;
    pkgs.push(checked.disk);
    details.packages.push(checked.facts);
    for (const m of checked.facts.modules) if (!m.valid) invalid.add(`${checked.disk.fileName}:${m.path}`);
  }
  const kernels = kernelsFor(arch, pkgs, asked);
  for (const p of checkDisk(pkgs, kernels)) {
    f[p.severity](p.code, p.subject ? `${repo}/${p.subject}` : repo, p.message);
  }
  await checkRepodata(medium, repo, rpmFiles, f);
  // a disk that carries a driver is for loading it: a kernel that gets only firmware loads none
  const carriesDriver = pkgs.some((p) => p.files.some((x) => relocatedModulePath(x) !== undefined));
  for (const k of asked.filter((k) => !kernels.includes(k))) f.info('KERNEL_OTHER_ARCH', k, `not an ${arch} kernel; ${repo} is not used for it`);
  return matchKernels(pkgs, kernels).map((m) => ({ match: m, facts: kernelFacts(m, pkgs, arch, disk), invalid, symbols, repo, carriesDriver }));
}

/** One RPM as the installer reads it: arch, digests (rpm -K), payload compressor, the modules it delivers. */
async function checkPackageFile(medium: OpenedMedium, file: string, arch: string, f: Findings, symbols: Map<string, KabiModule>, progress: Progress): Promise<{ disk: DiskPackage; facts: PackageFacts } | undefined> {
  let pkg: RpmPackage;
  try {
    const loc = medium.locate(file);
    pkg = await openRpm(loc.file, loc);
  } catch (err) {
    f.error('RPM_UNREADABLE', file, (err as Error).message);
    return undefined;
  }
  if (pkg.isSource) f.warning('RHDD3_SOURCE_RPM', file, 'is a source RPM: put source RPMs under src/');
  else if (pkg.arch !== arch && pkg.arch !== 'noarch') f.error('RHDD3_ARCH_MISMATCH', file, `ARCH is ${pkg.arch}, in the ${arch} folder`);
  const disk = diskPackageFromRpm(basename(file), pkg);
  const kernelModules = disk.provides.filter((p) => p.name === 'kernel-modules').map((p) => `${p.op} ${p.version}`.trim());
  // the payload is read once: digests as rpm -K checks them, and the modules a driver package delivers
  const moduleBytes: [string, Uint8Array][] = [];
  // the package's modules, compressed and plain, are held together: one budget for them all
  const budget = new ReadBudget();
  // the modules dd_extract writes below lib/modules of a listed package, which modinfo then reads
  const listable = kernelModules.length > 0 || matchesInstallerEnhancement(disk);
  const onFile = { wants: (p: string) => listable && relocatedModulePath(p) !== undefined, take: (p: string, b: Uint8Array) => void moduleBytes.push([p, b]), budget };
  try {
    progress.phase(`checking ${file}`, payloadReadSize(pkg));
    for (const d of await verifyDigests(pkg, { payload: true, onFile, onBytes: (n) => progress.advance(n) })) {
      if (d.ok) continue;
      if (d.advisory) f.warning('RPM_SIZE_TAG', file, `${d.name} does not match (rpm does not check it)`);
      else if (d.name === 'Payload') f.error('RPM_DIGEST', file, `payload cannot be unpacked (${d.actual}): the installer extracts nothing from it`);
      else f.error('RPM_DIGEST', file, `${d.name} does not match (rpm -K fails)`);
    }
  } catch (err) {
    // a dudkit limit, not a defect of the medium: no finding, but an error naming the file
    const limit = tooLarge(err);
    if (limit) throw new UserError(`${file}: ${limit.message}`, medium.path);
    f.error('RPM_DIGESTS_UNCHECKED', file, `digests cannot be checked (${(err as Error).message.replace(`${pkg.path}: `, '')}): the installer extracts nothing from it`);
  }
  const modules: PackageFacts['modules'] = [];
  for (const [p, b] of moduleBytes) modules.push(await checkModule(medium.path, p, b, file, f, budget, symbols));
  return { disk, facts: { file, nevra: pkg.nevra, payloadCompressor: pkg.payloadCompressor, kernelModules, modules } };
}

/** What the installer running one kernel does with the folder: packages used, files extracted, modules loaded, packages installed. */
function kernelFacts(m: KernelMatch, pkgs: DiskPackage[], arch: string, disk: DiskTree): KernelFacts {
  const flagged = pkgs.filter((p) => m.packages.includes(p.fileName) && matchesKernel(p, m.kernel));
  return {
    kernel: m.kernel,
    arch,
    disk: disk.root || '/',
    packages: m.packages,
    extracted: m.extracted.map((x) => ({ from: `${x.package}:${x.path}`, to: x.to })),
    ddPackages: m.ddPackages,
    // grab_driver_files(): the module dict is keyed by file name up to ".ko"
    loaded: [...new Set(m.modules.map((x) => x.relocated.slice(x.relocated.lastIndexOf('/') + 1).split('.ko')[0]!))],
    installedOnTarget: [...new Set(flagged.map((p) => p.name))],
  };
}

export function rhdd3Text(path: string, d: Rhdd3Details): string {
  const found = d.foundBy !== undefined ? `found through ${d.foundBy}` : d.label === 'OEMDRV' ? 'found automatically' : `boot with inst.dd=hd:LABEL=${d.label}`;
  const lines = [`${path}: Red Hat driver update disk${d.label !== undefined || d.foundBy !== undefined ? ` (${d.label !== undefined ? `label ${d.label}, ` : ''}${found})` : ''}`];
  for (const disk of d.disks) lines.push(`disk at /${disk.root}: "${disk.title}", arches ${disk.arches.join(', ') || 'none'}`);
  for (const p of d.packages) {
    lines.push(`  ${p.file}: ${p.nevra}, ${p.payloadCompressor} payload${p.kernelModules.length ? `, kernel-modules ${p.kernelModules.join(' | ')}` : ''}`);
  }
  for (const k of d.kernels) {
    lines.push(`installer kernel ${k.kernel}: ${k.packages.length ? `uses ${k.packages.join(', ')}` : 'nothing matches'}`);
    for (const e of k.extracted) lines.push(`  ${e.from} -> ${e.to}`);
    if (k.ddPackages.length) lines.push(`  dd_packages: ${k.ddPackages.join(', ')}`);
    if (k.packages.length) lines.push(k.dropped ? `  loads nothing: modinfo fails on ${k.dropped.join(', ')}` : `  loads: ${k.loaded.join(', ') || 'nothing'}`);
    if (k.installedOnTarget.length) lines.push(`  installs on the target: ${k.installedOnTarget.join(', ')}`);
  }
  return lines.join('\n');
}
