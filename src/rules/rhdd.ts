/**
 * What the Red Hat installer (anaconda `dd_list` / `dd_extract`, `redhat-dud.md` §3) does with the
 * RPMs of a driver update disk, as pure functions: which packages match an installer kernel, where
 * their modules land, and which disks it would silently mishandle. Used by the rhdd3 layout (to
 * refuse such disks before writing them) and by `verify` (to check existing media).
 */
import type { FindingCode } from '../findings.js';
import type { RpmPackage } from '../formats/rpm/read.js';
import { opFlags, rawSenseMatches, type Op } from '../formats/rpm/vercmp.js';
import { kernelArch } from '../model/kernel-arch.js';
import { firmwareNames } from './firmware.js';

/** A package as the installer sees it: name, Provides, file names, payload compressor. */
export interface DiskPackage {
  fileName: string;
  name: string;
  arch: string;
  isSource: boolean;
  provides: { name: string; op: Op | ''; version: string }[];
  /** Absolute paths of the files (not folders) in the payload. */
  files: string[];
  payloadCompressor: string;
  description: string;
}

/** The installer kernels that read `rpms/<arch>/`: one of another arch never looks there; one naming no arch may be any. */
export function kernelsOfArch(kernels: Iterable<string>, arch: string): string[] {
  return [...kernels].filter((k) => (kernelArch(k) ?? arch) === arch);
}

export function diskPackageFromRpm(fileName: string, pkg: RpmPackage): DiskPackage {
  return {
    fileName,
    name: pkg.name,
    arch: pkg.arch,
    isSource: pkg.isSource,
    provides: pkg.provides.map((p) => ({ name: p.name, op: p.op, version: p.version })),
    files: pkg.files.filter((f) => f.type !== 'dir').map((f) => f.path),
    payloadCompressor: pkg.payloadCompressor,
    description: pkg.description,
  };
}

export interface Problem {
  code: FindingCode;
  severity: 'error' | 'warning';
  /** The package file (or '' for disk-wide problems). */
  subject: string;
  message: string;
}

/** The RHEL 6.0/6.1 compatibility hack present in every release: these versions match any kernel. */
const LEGACY_ANY = /^2\.6\.32-(71|131)(\D|$)/;
const MODULE_FILE = /\.ko(\.(xz|gz|zst|bz2))?$/;
/** The version `dd_list -a` compares `installer-enhancement` with on RHEL 7–10 (driver_updates.py `ANACONDAVER`). */
export const INSTALLER_ENHANCEMENT_VERSION = '19.0';

export function kernelModulesProvides(pkg: DiskPackage): DiskPackage['provides'] {
  return pkg.provides.filter((p) => p.name === 'kernel-modules');
}

/** Does the installer running kernel `K` pick this package up (modules + firmware)? */
export function matchesKernel(pkg: DiskPackage, K: string): boolean {
  return kernelModulesProvides(pkg).some((p) => {
    if (p.op === '' || p.version === '') return false;
    if (LEGACY_ANY.test(p.version)) return true;
    return rawSenseMatches(K, opFlags(p.op), p.version);
  });
}

/** Does `dd_list` flag it `binaries libraries` (an `installer-enhancement` entry matching 19.0, every kernel alike)? */
export function matchesInstallerEnhancement(pkg: DiskPackage): boolean {
  return pkg.provides.some((p) => p.name === 'installer-enhancement' && p.op !== '' && p.version !== '' && rawSenseMatches(INSTALLER_ENHANCEMENT_VERSION, opFlags(p.op), p.version));
}

/**
 * Where `dd_extract` puts a module file: below `/lib/modules/<K>/updates/`, with everything up to
 * `lib/modules/`, a following kernel-version folder and a leading `kernel/` dropped (§3.4).
 */
export function relocatedModulePath(path: string): string | undefined {
  const p = path.replace(/^\.?\//, '');
  if (!p.startsWith('lib/modules/') || !MODULE_FILE.test(p)) return undefined;
  // driver_updates.py dest_strip(): the kernel folder (a leading digit), then `kernel/` after it
  let rest = p.slice('lib/modules/'.length);
  if (rest.includes('/') && /^\d/.test(rest)) {
    rest = rest.slice(rest.indexOf('/') + 1);
    if (rest.startsWith('kernel/')) rest = rest.slice('kernel/'.length);
  }
  return `updates/${rest}`;
}

/** The classes `dd_extract -blmf` takes (dd_extract.c `dlabelFilter()`), paths without the leading `/`. */
const BINARY_DIRS = ['bin/', 'sbin/', 'usr/bin/', 'usr/sbin/'];
const LIBRARY_DIRS = ['lib64/', 'usr/lib/', 'usr/lib64/'];

/** Does `dd_extract -blmf` of the installer running K write this file into `/updates`? */
export function extractedByInstaller(path: string, K: string): boolean {
  const p = path.replace(/^\.?\//, '');
  if (BINARY_DIRS.some((d) => p.startsWith(d)) || LIBRARY_DIRS.some((d) => p.startsWith(d))) return true;
  if (p.startsWith('lib/')) return !p.startsWith('lib/modules/') || moduleNameTaken(p, K);
  return moduleNameTaken(p, K);
}

function moduleNameTaken(p: string, K: string): boolean {
  return p.endsWith('.ko') || (MODULE_FILE.test(p) && takesCompressedModules(K));
}

/** A package's kernel modules and firmware: what an installer-enhancement package must not carry. */
export function driverFiles(pkg: DiskPackage): string[] {
  return pkg.files.filter((f) => MODULE_FILE.test(f) || f.startsWith('/lib/firmware/'));
}

function isFirmwareOnly(pkg: DiskPackage): boolean {
  return pkg.files.length > 0 && pkg.files.every((f) => f.startsWith('/lib/firmware/') || !/\.[^/]+$/.test(f.slice(f.lastIndexOf('/'))));
}

/** Problems of one package on its own. */
export function checkPackage(pkg: DiskPackage): Problem[] {
  const out: Problem[] = [];
  const add = (code: FindingCode, severity: Problem['severity'], message: string) => out.push({ code, severity, subject: pkg.fileName, message });
  if (pkg.isSource) return out;
  const km = kernelModulesProvides(pkg);
  const modules = pkg.files.filter((f) => MODULE_FILE.test(f));
  const enhancement = matchesInstallerEnhancement(pkg);
  if (km.length === 0 && !enhancement && modules.length > 0) add('RHDD_NO_KERNEL_MODULES', 'warning', 'has no `kernel-modules` Provides: the installer ignores it completely');
  const driver = enhancement ? driverFiles(pkg) : [];
  if (driver.length > 0) add('RHDD_ENHANCEMENT_DRIVER_FILES', 'warning', enhancementDriverFilesMessage(driver));
  for (const p of km) {
    if (p.op === '' || p.version === '') add('RHDD_UNVERSIONED_PROVIDES', 'error', 'its `kernel-modules` Provides has no version: the installer ignores it (write `kernel-modules = <uname -r>` or `>=`)');
    else if (LEGACY_ANY.test(p.version)) add('RHDD_LEGACY_ANY', 'warning', `kernel-modules ${p.op} ${p.version} matches every installer kernel (RHEL 6.0/6.1 compatibility rule)`);
  }
  if (pkg.description.split('\n').some((l) => l === '---')) add('RHDD_DESCRIPTION_SEPARATOR', 'error', 'a line of its %description is exactly `---`, which corrupts the installer\'s `dd_list` output');
  const compressed = modules.filter((f) => !f.endsWith('.ko'));
  if (compressed.length > 0) add('RHDD_COMPRESSED_MODULES', 'warning', `compressed modules (${compressed[0]}…): installers before RHEL 9.6 (anaconda-34.25.5.11) take only plain .ko files`);
  const usrLib = pkg.files.filter((f) => f.startsWith('/usr/lib/modules/') && MODULE_FILE.test(f));
  if (usrLib.length > 0) add('RHDD_USR_LIB_MODULES', 'warning', `modules under /usr/lib/modules (${usrLib[0]}) are never loaded by the installer; use /lib/modules`);
  const kdirs = new Set(modules.filter((f) => f.startsWith('/lib/modules/')).map((f) => f.split('/')[3]));
  if (kdirs.size > 1) add('RHDD_SEVERAL_KERNELS', 'error', `holds modules for several kernels (${[...kdirs].join(', ')}); the installer drops the kernel folder, so one RPM per kernel release`);
  return out;
}

/** One file `dd_extract` writes for a listed package, and where it ends up for K. */
export interface ExtractedFile {
  package: string;
  path: string;
  /** `/lib/modules/<K>/updates/…` and `/lib/firmware/updates/…` once relocated; else `/<path>` (what `/updates` overlays). */
  to: string;
  /** Set for a module relocated below `/lib/modules/<K>/`: `updates/<rest>`. */
  relocated?: string;
}

/** What the installer running one kernel does with the packages of one arch folder (§6, §6.3). */
export interface KernelMatch {
  kernel: string;
  /** Every package `dd_list` lists: `kernel-modules` or `installer-enhancement` matches. */
  packages: string[];
  /** The NAMEs `extract_drivers()` appends to dd_packages: once per listed package flagged modules/firmwares. */
  ddPackages: string[];
  /** Some listed package is flagged modules/firmwares: `grab_driver_files()` relocates modules and firmware. */
  relocates: boolean;
  /** Every file extracted from the listed packages, in listing order. */
  extracted: ExtractedFile[];
  /** The relocated modules (loaded unless modinfo fails on one of them). */
  modules: { package: string; path: string; relocated: string }[];
  /** Compressed modules of matching packages that K's installer does not extract. */
  skipped: string[];
}

/**
 * Does the installer of kernel K extract compressed modules (`.ko.xz`, …)? The rhel-8 (and
 * rhel-7) `dd_extract` takes names ending `.ko` only; rhel-9 from anaconda-34.25.5.11 (9.6) and
 * rhel-10 also take compressed ones (redhat-dud.md §6.3). Read from K's release; other K: yes.
 */
export function takesCompressedModules(K: string): boolean {
  const el = /\.el(\d+)(?:_(\d+))?/.exec(K);
  if (!el) return true;
  const major = Number(el[1]);
  return major >= 10 || (major === 9 && Number(el[2] ?? 0) >= 6);
}

export function matchKernels(pkgs: DiskPackage[], kernels: string[]): KernelMatch[] {
  return kernels.map((kernel) => {
    // driver_updates.py extract_drivers(): dd_list, then dd_extract -blmf of each listed package
    const listed = pkgs.filter((p) => !p.isSource && (matchesKernel(p, kernel) || matchesInstallerEnhancement(p)));
    const flagged = listed.filter((p) => matchesKernel(p, kernel));
    const relocates = flagged.length > 0;
    // grab_driver_files(): only after a modules/firmwares package, every *.ko* below
    // /updates/lib/modules and every file below /updates/lib/firmware is relocated
    const extracted = listed.flatMap((p) =>
      p.files.filter((path) => extractedByInstaller(path, kernel)).map((path): ExtractedFile => {
        const relocated = relocates ? relocatedModulePath(path) : undefined;
        if (relocated) return { package: p.fileName, path, to: `/lib/modules/${kernel}/${relocated}`, relocated };
        if (relocates && path.startsWith('/lib/firmware/')) return { package: p.fileName, path, to: `/lib/firmware/updates/${path.slice('/lib/firmware/'.length)}` };
        return { package: p.fileName, path, to: path };
      }),
    );
    return {
      kernel,
      packages: listed.map((p) => p.fileName),
      ddPackages: flagged.map((p) => p.name),
      relocates,
      extracted,
      modules: extracted.flatMap((x) => (x.relocated ? [{ package: x.package, path: x.path, relocated: x.relocated }] : [])),
      skipped: takesCompressedModules(kernel) ? [] : listed.flatMap((p) => p.files.filter((path) => relocatedModulePath(path) !== undefined && !path.endsWith('.ko')).map((path) => `${p.fileName}:${path}`)),
    };
  });
}

/** The RHEL major release an installer kernel's `uname -r` names (`.el8`, `.el9_4`), if any. */
function rhelMajor(K: string): number | undefined {
  const el = /\.el(\d+)/.exec(K);
  return el ? Number(el[1]) : undefined;
}

/**
 * Payloads neither gzip nor xz, told once for the folder: `dd_extract` asks rpmio for
 * `r.<compressor>dio`, which only gzip and xz name, so the stream goes on still compressed and
 * the installer's libarchive decides (redhat-dud.md §3.3). What happens depends on the release,
 * not on the package: one warning naming the packages and the installer kernels at risk.
 */
function payloadProblem(pkgs: DiskPackage[], kernels: string[]): Problem | undefined {
  const odd = pkgs.filter((p) => !p.isSource && p.payloadCompressor !== 'xz' && p.payloadCompressor !== 'gzip');
  if (odd.length === 0) return undefined;
  const compressors = [...new Set(odd.map((p) => p.payloadCompressor))].join(', ');
  const it = odd.length === 1 ? 'it' : 'them';
  const atRisk = kernels.filter((k) => (rhelMajor(k) ?? 99) < 9 && odd.some((p) => matchesKernel(p, k) || matchesInstallerEnhancement(p)));
  const risk = atRisk.length > 0 ? `; of the installer kernels checked, ${atRisk.map((k) => `${k} (RHEL ${rhelMajor(k)})`).join(', ')} may extract nothing of ${it}` : '';
  return {
    code: 'RHDD_PAYLOAD_COMPRESSOR',
    severity: 'warning',
    subject: '',
    message: `${odd.map((p) => `${p.fileName}: payload compressed with ${p.payloadCompressor}`).join('; ')}: of RHEL 6–10, the RHEL 9 and 10 installers extract ${it} (their libarchive reads ${it}); the RHEL 6 loader cannot, RHEL 7 and 8 only where their libarchive has ${compressors}${risk}; repack with xz to be sure`,
  };
}

/** Problems across the packages of one arch folder, for the given installer kernels. */
export function checkDisk(pkgs: DiskPackage[], kernels: string[]): Problem[] {
  const out: Problem[] = pkgs.flatMap(checkPackage);
  const payload = payloadProblem(pkgs, kernels);
  if (payload) out.push(payload);
  for (const m of matchKernels(pkgs, kernels)) {
    // dd_extract drops the kernel folder and depmod loads one module of a name: two matching
    // packages with the same module (same relocated path, or same name elsewhere) is a coin toss
    const seen = new Map<string, { package: string; path: string; relocated: string }>();
    for (const mod of m.modules) {
      const name = mod.relocated.slice(mod.relocated.lastIndexOf('/') + 1).replace(/\.ko(\..*)?$/, '').replace(/-/g, '_');
      const other = seen.get(name);
      if (other && other.package !== mod.package) {
        const message =
          other.relocated === mod.relocated
            ? `for installer kernel ${m.kernel} the installer extracts ${other.package}:${other.path} and ${mod.package}:${mod.path} and copies both to /lib/modules/${m.kernel}/${mod.relocated}: the one copied last (directory order) replaces the other; one package per module and kernel`
            : `for installer kernel ${m.kernel} both ${other.package} and ${mod.package} are extracted and carry module ${name} (at ${other.relocated} and ${mod.relocated}): depmod loads one of them; one package per module and kernel`;
        out.push({ code: 'RHDD_MODULE_CLASH', severity: 'error', subject: mod.package, message });
      }
      seen.set(name, mod);
    }
    const names = new Map<string, string>();
    for (const file of m.packages) {
      const pkg = pkgs.find((p) => p.fileName === file)!;
      if (!matchesKernel(pkg, m.kernel)) continue;
      const other = names.get(pkg.name);
      if (other) out.push({ code: 'RHDD_NAME_CLASH', severity: 'warning', subject: file, message: `shares the name ${pkg.name} with ${other}, and both match installer kernel ${m.kernel}: the target install picks only one` });
      names.set(pkg.name, file);
    }
  }
  for (const pkg of pkgs) {
    if (pkg.isSource || kernelModulesProvides(pkg).length === 0 || isFirmwareOnly(pkg)) continue;
    if (!kernels.some((k) => matchesKernel(pkg, k))) out.push({ code: 'RHDD_MATCHES_NONE', severity: 'warning', subject: pkg.fileName, message: `matches none of the installer kernels (${kernels.join(', ')})` });
  }
  return out;
}

/** Why an installer-enhancement package must carry no module or firmware (build refuses it, verify warns). */
export function enhancementDriverFilesMessage(files: string[]): string {
  return `an installer-enhancement package carrying ${files[0]}${files.length > 1 ? ` (and ${files.length - 1} more module or firmware file${files.length > 2 ? 's' : ''})` : ''}: the installer extracts it for every installer kernel, whatever kernel it was built for, and relocates its modules beside the driver's (one of the same path replaces the driver); put modules and firmware in a kmod or firmware package with a kernel-modules Provides`;
}

/** A package's firmware files that no installer kernel of the disk extracts, and why. */
export interface UnextractedFirmware {
  package: string;
  files: string[];
  why: string;
}

/**
 * Firmware on the disk that never reaches the installer: `dd_list` lists only packages whose
 * `kernel-modules` Provides match the running kernel (or installer enhancements), and
 * `dd_extract` unpacks only those, so a module loaded from the disk finds no such file there.
 */
export function unextractedFirmware(pkgs: readonly DiskPackage[], matches: readonly KernelMatch[]): UnextractedFirmware[] {
  const extracted = new Set(matches.flatMap((m) => m.extracted.map((x) => `${x.package}\0${x.path}`)));
  const out: UnextractedFirmware[] = [];
  for (const p of new Map(pkgs.map((p) => [p.fileName, p])).values()) {
    if (p.isSource) continue;
    const files = p.files.filter((f) => firmwareNames(f, []).length > 0 && !extracted.has(`${p.fileName}\0${f}`));
    if (files.length === 0) continue;
    const km = p.provides.filter((x) => x.name === 'kernel-modules' && x.version);
    const why = matches.some((m) => m.packages.includes(p.fileName))
      ? 'the installer unpacks the package but not these paths (firmware goes under /lib/firmware/)'
      : km.length === 0
        ? 'it has no kernel-modules Provides, and the installer (dd_list/dd_extract) extracts only packages whose kernel-modules Provides match its kernel'
        : `its kernel-modules Provides (${km.map((x) => `${x.op} ${x.version}`).join(', ')}) match none of the disk's installer kernels (${[...new Set(matches.map((m) => m.kernel))].join(', ')})`;
    out.push({ package: p.fileName, files, why });
  }
  return out;
}
