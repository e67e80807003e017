/**
 * The XenServer driver package recipe (`xenserver.md` §2, §3.3, §4.6): per build kernel one
 * kernel-module RPM that the pack builders and installers recognise as a driver RPM — NAME
 * `<label>-<kver>-modules` (a XenServer 5.6–6.2 dom0 kernel with "-": `<label>-modules-<flavour>-<kver>`), GROUP `System Environment/Kernel`, plain `.ko` files under
 * `/lib/modules/<kver>/extra/` (XenServer ≤ 7.0 DDK guides) or `updates/` (current DDK), `depmod -a
 * <kver>` after install and removal — and the optional userspace "data" RPM (the DDK's
 * `DATA_SPEC`: firmware under `/lib/firmware/`, modprobe.d rules). Pure: it only describes the
 * packages; `writeRpm` with `xenRpmFormat(release)` turns them into bytes.
 *
 * Stable API (the legacy pack, the update pack and the release zip use it):
 * `xenDriverPackages(set, opts)` → `{ modules, data? }` and `xenRpmFormat(xenserverRelease)`.
 */
import { UserError } from '../errors.js';
import { rpmFileName, type RpmFile, type RpmPackage as RpmSpec, type WriteRpmOptions } from '../formats/rpm/write.js';
import { rpmvercmp } from '../formats/rpm/vercmp.js';
import { classifyRpm } from '../formats/xenserver/rules.js';
import type { DriverSet, KernelBuild } from '../model/driverset.js';
import { bytesSource } from '../tree/source.js';
import { firmwarePackage } from './firmware.js';
import { KERNEL_GROUP, packageMeta } from './meta.js';

export interface XenDriverOptions {
  /** The DDK `LABEL`; default the driver name. Names the packages: `<label>-<kver>-modules`, `<label>-data`. */
  label?: string;
  /** `RPM_VERSION` / `RPM_RELEASE` of the module packages; default the manifest's version and release. */
  rpmVersion?: string;
  rpmRelease?: string;
  /** `DATA_RPM_VERSION` / `DATA_RPM_RELEASE`; default the module packages' values. */
  dataRpmVersion?: string;
  dataRpmRelease?: string;
  /** `extra` (XenServer ≤ 7.0 DDK guides) or `updates` (current DDK); every consumer reads both. */
  moduleDir: 'extra' | 'updates';
  /**
   * Which builds of the set to package, by build kernel release (default: all). As a map, each
   * build's modules are packaged for the dom0 `uname -r` given as its value (modules whose
   * vermagic names another release, e.g. test fixtures).
   */
  kernels?: readonly string[] | Readonly<Record<string, string>>;
  /**
   * XenServer 5.6–6.2 targets: a dom0 kernel with "-" (`2.6.32.12-0.7.1.xs6.0.0.529.170661xen`) is
   * packaged as `<label>-modules-<flavour>-<kver without the flavour>`, that era's name form.
   */
  dashedKernels?: boolean;
  /** Lines of `/etc/modprobe.d/<label>.conf` in the data package (`options acmenet rx_ring=1024`). */
  modprobe?: readonly string[];
  /** SOURCE_DATE_EPOCH */
  buildTime: number;
}

export interface XenDriverPackages {
  /** One per packaged build kernel, in the set's build order. */
  modules: RpmSpec[];
  /** Firmware and modprobe.d rules, when there are any; the module packages Require it. */
  data?: RpmSpec;
  /** Per package, the dom0 kernel it is for and why (`build -v`). */
  decisions: string[];
}

/** Group of the data package: not `/Kernel`, so the pack builder lists it as a plain `rpm`. */
export const DATA_GROUP = 'System Environment/Base';

const LABEL_RE = /^[A-Za-z0-9._-]+$/;
const MODULE_RE = /^[A-Za-z0-9_-]+$/;
/** No `-`: the pack builder splits `<label>-<kver>-modules` at the last `-` before `-modules`. */
const XEN_KERNEL_RE = /^[A-Za-z0-9._+~^]+$/;
/** A XenServer 5.6–6.2 dom0 kernel: `-` inside, the flavour (`xen`) at the end. */
const DASHED_KERNEL_RE = /^([A-Za-z0-9._+~^-]*[0-9._+~^])([A-Za-z]+)$/;

/** The driver package's name for `kernel`, in the form the pack builders read the kernel back from. */
function moduleName(label: string, kernel: string, build: KernelBuild, dashed: boolean): string {
  if (XEN_KERNEL_RE.test(kernel)) return `${label}-${kernel}-modules`;
  const era = dashed ? DASHED_KERNEL_RE.exec(kernel) : null;
  if (era) return `${label}-modules-${era[2]!}-${era[1]!}`;
  const fix = dashed
    ? 'a XenServer 5.6–6.2 dom0 kernel ends in its flavour (e.g. 2.6.32.12-0.7.1.xs6.0.0.529.170661xen)'
    : 'kernels with "-" exist only on XenServer 5.6–6.2 (set xenserver: to that release); package modules for the XenServer dom0 kernel (e.g. 3.10.0+10)';
  throw new UserError(`kernel release "${kernel}" contains "-" or other characters the pack builders cannot split out of ${label}-${kernel}-modules: ${fix}, or map the build with kernels: { ${build.kernelRelease}: <dom0 uname -r> }`);
}

/**
 * RPM writer options for packages a XenServer release installs: dom0 of 5.6–6.5 is CentOS 5 with
 * rpm 4.4 (gzip payload, MD5 file digests, `rpm.md` rules 8 and 11); 7.0 and later read the
 * defaults (xz, SHA-256).
 */
export function xenRpmFormat(xenserverRelease: string): Pick<WriteRpmOptions, 'compressor' | 'fileDigest'> {
  return rpmvercmp(xenserverRelease, '7.0') < 0 ? { compressor: 'gzip', fileDigest: 'md5' } : { compressor: 'xz', fileDigest: 'sha256' };
}

function selectBuilds(set: DriverSet, kernels: XenDriverOptions['kernels']): { build: KernelBuild; kernel: string }[] {
  if (kernels === undefined) return set.kernels.map((build) => ({ build, kernel: build.kernelRelease }));
  const map: [string, string][] = Array.isArray(kernels) ? (kernels as string[]).map((k) => [k, k]) : Object.entries(kernels);
  return map.map(([from, kernel]) => {
    const builds = set.kernels.filter((b) => b.kernelRelease === from);
    if (builds.length === 0) throw new UserError(`kernels: no modules were built for ${from} (have: ${set.kernels.map((b) => b.kernelRelease).join(', ') || 'none'})`);
    if (builds.length > 1) throw new UserError(`kernels: ${from} has modules for several architectures (${builds.map((b) => b.arch).join(', ')}); XenServer dom0 is x86_64 only`);
    return { build: builds[0]!, kernel };
  });
}

function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function dataPackage(set: DriverSet, label: string, version: string, release: string, modprobe: readonly string[], buildTime: number): RpmSpec | undefined {
  if (set.firmware.length === 0 && modprobe.length === 0) return undefined;
  const name = `${label}-data`;
  const files: RpmFile[] = set.firmware.length > 0 ? firmwarePackage({ meta: set.meta, files: set.firmware, name, buildTime }).files : [];
  for (const line of modprobe) if (/[\r\n]/.test(line)) throw new UserError(`modprobe: ${JSON.stringify(line)} must be a single line`, name);
  if (modprobe.length > 0) files.push({ type: 'file', path: `/etc/modprobe.d/${label}.conf`, content: bytesSource(`${modprobe.join('\n')}\n`, `${name} modprobe.d/${label}.conf`), flags: ['config'] });
  return {
    name,
    version,
    release,
    arch: 'noarch',
    summary: `Firmware and module settings for ${set.meta.summary}`,
    group: DATA_GROUP,
    ...packageMeta(set.meta, buildTime),
    files,
  };
}

/** The driver and data package descriptions for a XenServer pack. */
export function xenDriverPackages(set: DriverSet, opts: XenDriverOptions): XenDriverPackages {
  const label = opts.label ?? set.meta.name;
  if (!LABEL_RE.test(label)) throw new UserError(`label "${label}" must match [A-Za-z0-9._-]+`);
  const version = opts.rpmVersion ?? set.meta.version;
  const release = opts.rpmRelease ?? set.meta.release;
  const data = dataPackage(set, label, opts.dataRpmVersion ?? version, opts.dataRpmRelease ?? release, opts.modprobe ?? [], opts.buildTime);
  const decisions: string[] = [];
  const modules = selectBuilds(set, opts.kernels).map(({ build, kernel }) => {
    const name = moduleName(label, kernel, build, opts.dashedKernels ?? false);
    const why = opts.kernels === undefined ? 'the kernel release its modules were built for' : kernel === build.kernelRelease ? 'kernels: names it' : `kernels: maps build kernel ${build.kernelRelease} to it`;
    decisions.push(`${rpmFileName({ name, version, release, arch: build.arch })}: modules ${build.modules.map((m) => m.facts.name).join(', ')} under /lib/modules/${kernel}/${opts.moduleDir}, for dom0 kernel ${kernel}: ${why}${data ? `; Requires ${data.name} (firmware or modprobe.d rules)` : ''}`);
    if (build.modules.length === 0) throw new UserError(`no modules for kernel ${kernel}`, name);
    const dir = `/lib/modules/${kernel}/${opts.moduleDir}`;
    const seen = new Set<string>();
    const files = build.modules.map((m): RpmFile => {
      const mod = m.facts.name;
      if (!MODULE_RE.test(mod)) throw new UserError(`module name ${JSON.stringify(mod)} (${m.origin}) must be letters, digits, "_" or "-"`, name);
      if (seen.has(mod)) throw new UserError(`two modules named ${mod} for kernel ${kernel}`, name);
      seen.add(mod);
      return { type: 'file', path: `${dir}/${mod}.ko`, content: m.plain };
    });
    // the same checks the pack builder makes, so a pack never carries a package it would refuse
    const c = classifyRpm({ name, group: KERNEL_GROUP, files: files.map((f) => f.path) });
    if (c.type !== 'driver-rpm' || c.label !== label || c.kernel !== kernel || c.problems.length > 0) {
      throw new UserError(`the pack builders would read ${name} as label "${c.label}", kernel "${c.kernel}"${c.problems.length ? `: ${c.problems[0]}` : ''}`);
    }
    const depmod = `depmod -a ${sh(kernel)} >/dev/null 2>&1 || :\n`;
    const spec: RpmSpec = {
      name,
      version,
      release,
      arch: build.arch,
      summary: set.meta.summary,
      group: KERNEL_GROUP,
      ...packageMeta(set.meta, opts.buildTime),
      provides: [...seen].map((mod) => ({ name: `kmod(${mod}.ko)` })),
      ...(data ? { requires: [{ name: data.name, op: '=' as const, version: `${data.version}-${data.release}` }] } : {}),
      scripts: { post: { body: depmod }, postun: { body: depmod } },
      files,
    };
    return spec;
  });
  const names = new Set<string>();
  for (const m of modules) {
    if (names.has(m.name)) throw new UserError(`two module packages named ${m.name}: kernels maps two builds to one dom0 kernel`);
    names.add(m.name);
  }
  return { modules, ...(data ? { data } : {}), decisions };
}
