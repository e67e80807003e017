/**
 * What the Red Hat installer (anaconda `dd_list` / `dd_extract`, `redhat-dud.md` §3) does with the
 * RPMs of a driver update disk, as pure functions: which packages match an installer kernel, where
 * their modules land, and which disks it would silently mishandle. Used by the rhdd3 layout (to
 * refuse such disks before writing them) and by `verify` (to check existing media).
 */
import type { FindingCode } from '../findings.js';
import type { RpmPackage } from '../formats/rpm/read.js';
import { opFlags, rawSenseMatches, type Op } from '../formats/rpm/vercmp.js';

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

/**
 * Where `dd_extract` puts a module file: below `/lib/modules/<K>/updates/`, with everything up to
 * `lib/modules/`, a following kernel-version folder and a leading `kernel/` dropped (§3.4).
 */
export function relocatedModulePath(path: string): string | undefined {
  const p = path.replace(/^\.?\//, '');
  const i = p.startsWith('lib/modules/') ? 'lib/modules/'.length : -1;
  if (i < 0 || !MODULE_FILE.test(p)) return undefined;
  let rest = p.slice(i).split('/');
  if (/^\d/.test(rest[0] ?? '')) rest = rest.slice(1);
  if (rest[0] === 'kernel') rest = rest.slice(1);
  return `updates/${rest.join('/')}`;
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
  if (km.length === 0 && modules.length > 0) add('RHDD_NO_KERNEL_MODULES', 'warning', 'has no `kernel-modules` Provides: the installer ignores it completely');
  for (const p of km) {
    if (p.op === '' || p.version === '') add('RHDD_UNVERSIONED_PROVIDES', 'error', 'its `kernel-modules` Provides has no version: the installer ignores it (write `kernel-modules = <uname -r>` or `>=`)');
    else if (LEGACY_ANY.test(p.version)) add('RHDD_LEGACY_ANY', 'warning', `kernel-modules ${p.op} ${p.version} matches every installer kernel (RHEL 6.0/6.1 compatibility rule)`);
  }
  if (pkg.description.split('\n').some((l) => l === '---')) add('RHDD_DESCRIPTION_SEPARATOR', 'error', 'a line of its %description is exactly `---`, which corrupts the installer\'s `dd_list` output');
  if (pkg.payloadCompressor !== 'xz' && pkg.payloadCompressor !== 'gzip') {
    // dd_extract asks rpmio for `r.<compressor>dio`, which only gzip and xz name: the stream goes
    // on still compressed and libarchive's own filter decides (redhat-dud.md §3.3)
    add('RHDD_PAYLOAD_COMPRESSOR', 'warning', `payload compressed with ${pkg.payloadCompressor}: of RHEL 6–10, the RHEL 9 and 10 installers extract it (their libarchive reads it); the RHEL 6 loader cannot, RHEL 7 and 8 only where their libarchive has ${pkg.payloadCompressor}; repack it with xz to be sure`);
  }
  const compressed = modules.filter((f) => !f.endsWith('.ko'));
  if (compressed.length > 0) add('RHDD_COMPRESSED_MODULES', 'warning', `compressed modules (${compressed[0]}…): installers before RHEL 9.6 (anaconda-34.25.5.11) take only plain .ko files`);
  const usrLib = pkg.files.filter((f) => f.startsWith('/usr/lib/modules/') && MODULE_FILE.test(f));
  if (usrLib.length > 0) add('RHDD_USR_LIB_MODULES', 'warning', `modules under /usr/lib/modules (${usrLib[0]}) are never loaded by the installer; use /lib/modules`);
  const kdirs = new Set(modules.filter((f) => f.startsWith('/lib/modules/')).map((f) => f.split('/')[3]));
  if (kdirs.size > 1) add('RHDD_SEVERAL_KERNELS', 'error', `holds modules for several kernels (${[...kdirs].join(', ')}); the installer drops the kernel folder, so one RPM per kernel release`);
  return out;
}

/** Which packages match each installer kernel, and what would be extracted. */
export interface KernelMatch {
  kernel: string;
  packages: string[];
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
    const matching = pkgs.filter((p) => !p.isSource && matchesKernel(p, kernel));
    const compressedOk = takesCompressedModules(kernel);
    return {
      kernel,
      packages: matching.map((p) => p.fileName),
      modules: matching.flatMap((p) =>
        p.files.flatMap((path) => {
          const relocated = relocatedModulePath(path);
          return relocated && (compressedOk || path.endsWith('.ko')) ? [{ package: p.fileName, path, relocated }] : [];
        }),
      ),
      skipped: compressedOk ? [] : matching.flatMap((p) => p.files.filter((path) => relocatedModulePath(path) !== undefined && !path.endsWith('.ko')).map((path) => `${p.fileName}:${path}`)),
    };
  });
}

/** Problems across the packages of one arch folder, for the given installer kernels. */
export function checkDisk(pkgs: DiskPackage[], kernels: string[]): Problem[] {
  const out: Problem[] = pkgs.flatMap(checkPackage);
  for (const m of matchKernels(pkgs, kernels)) {
    // dd_extract drops the kernel folder and depmod loads one module of a name: two matching
    // packages with the same module (same relocated path, or same name elsewhere) is a coin toss
    const seen = new Map<string, { package: string; relocated: string }>();
    for (const mod of m.modules) {
      const name = mod.relocated.slice(mod.relocated.lastIndexOf('/') + 1).replace(/\.ko(\..*)?$/, '').replace(/-/g, '_');
      const other = seen.get(name);
      if (other && other.package !== mod.package) {
        const where = other.relocated === mod.relocated ? `both at /lib/modules/${m.kernel}/${mod.relocated}` : `at ${other.relocated} and ${mod.relocated}`;
        out.push({ code: 'RHDD_MODULE_CLASH', severity: 'error', subject: mod.package, message: `for installer kernel ${m.kernel} both ${other.package} and ${mod.package} match and carry module ${name} (${where}); one RPM per kernel` });
      }
      seen.set(name, mod);
    }
    const names = new Map<string, string>();
    for (const file of m.packages) {
      const pkg = pkgs.find((p) => p.fileName === file)!;
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
