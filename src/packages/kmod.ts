/**
 * The driver package recipe: one binary RPM description per (driver, build kernel, arch), named
 * `kmod-<vendor>-<name>` with release `<release>.<kernel tag>`, as the Red Hat installers and the installed system need it
 * (`redhat-dud.md` §3, `rpm.md` "Driver packages"). Pure: it only describes the package; the
 * RPM writer turns the description into bytes.
 */
import { UserError } from '../errors.js';
import type { Compression } from '../formats/compress/magic.js';
import type { Dependency, RpmFile, RpmPackage } from '../formats/rpm/write.js';
import { rpmvercmp } from '../formats/rpm/vercmp.js';
import type { DriverMeta } from '../model/driverset.js';
import type { ExportedSymbol, ModuleVersionCrc } from '../formats/elf/index.js';
import { bytesSource, type Source } from '../tree/source.js';
import { checkDescription, KERNEL_GROUP, kmodPackageName, packageMeta } from './meta.js';

/**
 * The `kernel-modules` Provides (`redhat-dud.md` §3.2): `>=` the build kernel for the one package
 * of a driver that serves every later kernel, or one `=` per installer kernel served (default: the
 * build kernel alone).
 */
export type KernelModulesScheme = { op: '>=' } | { op: '='; kernels?: string[] };

/** What the recipe needs of a module (the model's `KernelModule` fits). */
export interface KmodModule {
  /** Its name, and the symbols it binds to (`__versions`) and exports, for kABI Requires/Provides. */
  facts: { name: string; versions?: readonly ModuleVersionCrc[]; exports?: readonly ExportedSymbol[] };
  origin: string;
  /** As given, possibly compressed */
  original: Source;
  compression: Compression;
  /** The uncompressed ELF module */
  plain: Source;
}

/** The build kernel K (the modules' vermagic release), its arch and its modules (the model's `KernelBuild` fits). */
export interface KmodBuild {
  kernelRelease: string;
  arch: string;
  modules: readonly KmodModule[];
}

export interface KmodInput {
  meta: DriverMeta;
  build: KmodBuild;
  kernelModules: KernelModulesScheme;
  /** The firmware package the modules need; required as `name = evr` (or any version). */
  firmwarePackage?: { name: string; evr?: string };
  /** SOURCE_DATE_EPOCH */
  buildTime: number;
  /**
   * Ship modules as given (`.ko.xz` …) instead of uncompressed `.ko`. Only for media whose
   * installers read compressed modules; Red Hat disks before RHEL 9.6 need `.ko` (§3.4).
   */
  keepCompression?: boolean;
  /** Also register the modules with `weak-modules` (RHEL kABI) when it exists; default true. */
  weakModules?: boolean;
  /** Where depmod lives on the target; `/usr/sbin/depmod` (RHEL 7+) by default, `/sbin/depmod` on RHEL 5/6. */
  depmod?: string;
  /** Replaces the default `kernel` version pin (see `kernelPin`), e.g. `kernel-uname-r = K`. */
  kernelRequires?: Dependency[];
  /**
   * `Requires: kernel(<sym>) = <crc>` for each symbol the modules bind to and `Provides:
   * ksym(<sym>) = <crc>` for each they export, as RHEL 6+ kmod packaging generates
   * (kernel-srpm-macros' find-requires.ksyms / find-provides.ksyms); default true. RHEL 5's
   * kernel provides grouped `kernel(rhel5_…)` names instead, so its disks turn this off.
   */
  symbolDeps?: boolean;
}

const hex = (crc: number): string => `0x${crc.toString(16).padStart(8, '0')}`;

/** kABI dependencies: what the modules import and no module of the package exports, and what they export. */
function symbolDependencies(modules: readonly KmodModule[]): { requires: Dependency[]; provides: Dependency[] } {
  const exported = new Map<string, ExportedSymbol>();
  for (const m of modules) for (const e of m.facts.exports ?? []) exported.set(e.name, e);
  const requires = new Map<string, Dependency>();
  for (const m of modules) {
    for (const v of m.facts.versions ?? []) {
      if (exported.has(v.name)) continue;
      const dep: Dependency = { name: `kernel(${v.name})`, op: '=', version: hex(v.crc) };
      requires.set(`${dep.name}=${dep.version}`, dep);
    }
  }
  const provides = [...exported.values()].filter((e) => e.crc !== undefined).map((e): Dependency => ({ name: `ksym(${e.name})`, op: '=', version: hex(e.crc!) }));
  const byName = (a: Dependency, b: Dependency) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { requires: [...requires.values()].sort(byName), provides: provides.sort(byName) };
}

/** RHEL 6 has it in /sbin, RHEL 7+ in /usr/sbin with /sbin a symlink to it: /sbin works on all. */
const WEAK_MODULES = '/sbin/weak-modules';
const KO_SUFFIX: Readonly<Record<Compression, string>> = { none: '.ko', gzip: '.ko.gz', xz: '.ko.xz', zstd: '.ko.zst', bzip2: '.ko.bz2' };
const RELEASE_RE = /^[A-Za-z0-9._+~^-]+$/;
const MODULE_RE = /^[A-Za-z0-9_-]+$/;

/** Single-quote a word for /bin/sh. */
function sh(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The default target-side pin. The kernel package's EVR is the release without its `.<arch>`
 * suffix. With `>=` the modules serve every later kernel: `kernel >= K`. With `=` entries the
 * package serves those kernels only: `kernel >= <oldest>` and, when the release has the RHEL form
 * `<N>[.z…].elX[_y]`, `kernel < <V>-<N+1>.elX` for the newest (ddiskit's pin), so that dnf picks
 * the right one of several same-named packages (`redhat-dud.md` §3.5).
 */
export function kernelPin(arch: string, scheme: KernelModulesScheme, build: string): Dependency[] {
  const evr = (k: string): string => (k.endsWith(`.${arch}`) ? k.slice(0, -arch.length - 1) : k);
  if (scheme.op === '>=') return [{ name: 'kernel', op: '>=', version: evr(build) }];
  const kernels = [...(scheme.kernels ?? [build])].sort(rpmvercmp);
  const pin: Dependency[] = [{ name: 'kernel', op: '>=', version: evr(kernels[0]!) }];
  const m = /^([^-]+)-(\d+)(?:\.[^-]*)?\.(el\d+)(?:_\d+)?$/.exec(evr(kernels[kernels.length - 1]!));
  if (m) pin.push({ name: 'kernel', op: '<', version: `${m[1]}-${Number(m[2]) + 1}.${m[3]}` });
  return pin;
}

function postScript(depmod: string, kernel: string, modules: string[], weak: boolean, remove: boolean): string {
  const map = sh(`/boot/System.map-${kernel}`);
  const lines = [
    `if [ -e ${map} ]; then`,
    `    ${sh(depmod)} -aeF ${map} ${sh(kernel)} >/dev/null || :`,
    'else',
    `    ${sh(depmod)} -a ${sh(kernel)} >/dev/null 2>&1 || :`,
    'fi',
  ];
  if (weak) {
    // weak-modules links the modules into later kABI-compatible kernels; on removal only the
    // modules no longer present are unlinked, so an upgrade that keeps them changes nothing.
    const list = modules.map(sh).join(' ');
    lines.push(
      `if [ -x ${WEAK_MODULES} ]; then`,
      remove
        ? `    for m in ${list}; do [ -e "$m" ] || printf '%s\\n' "$m"; done | ${WEAK_MODULES} --remove-modules || :`
        : `    printf '%s\\n' ${list} | ${WEAK_MODULES} --add-modules || :`,
      'fi',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The part of a kernel release that tells builds apart, for the package release: the kernel
 * package's release without the arch (`5.14.0-362.8.1.el9_3.x86_64` → `362.8.1.el9_3`). Packages
 * of one driver for several kernels share a NAME and would otherwise share a file name
 * (`N-V-R.A.rpm`) in one `rpms/<arch>/` folder.
 */
export function kernelTag(kernel: string, arch: string): string {
  const k = kernel.endsWith(`.${arch}`) ? kernel.slice(0, -arch.length - 1) : kernel;
  return k.slice(k.lastIndexOf('-') + 1);
}

export function kmodPackage(input: KmodInput): RpmPackage {
  const { meta, build } = input;
  const name = kmodPackageName(meta);
  const K = build.kernelRelease;
  const fail = (msg: string): never => {
    throw new UserError(msg, name);
  };
  checkDescription(meta.description, name);
  if (!RELEASE_RE.test(K)) fail(`bad kernel release ${JSON.stringify(K)}`);
  if (!MODULE_RE.test(meta.name)) fail(`driver name ${JSON.stringify(meta.name)} must be letters, digits, "_" or "-" (it names a folder and a depmod.d file)`);
  if (build.modules.length === 0) fail(`no modules for kernel ${K}`);
  const kernels = input.kernelModules.op === '=' ? (input.kernelModules.kernels ?? [K]) : [K];
  if (kernels.length === 0) fail('an "=" kernel-modules scheme needs at least one installer kernel');
  for (const k of kernels) if (!RELEASE_RE.test(k)) fail(`bad installer kernel release ${JSON.stringify(k)}`);
  // The modules live under one kernel folder B, which must not be newer than any kernel served (§3.4).
  const oldest = [...kernels].sort(rpmvercmp)[0]!;
  if (rpmvercmp(K, oldest) > 0) fail(`modules built for ${K} cannot serve the older installer kernel ${oldest}`);

  const dir = `/lib/modules/${K}/extra/${meta.name}`;
  const seen = new Set<string>();
  const modules = build.modules.map((m) => {
    const mod = m.facts.name;
    if (!MODULE_RE.test(mod)) fail(`module name ${JSON.stringify(mod)} (${m.origin}) must be letters, digits, "_" or "-"`);
    if (seen.has(mod)) fail(`two modules named ${mod} for kernel ${K}`);
    seen.add(mod);
    const keep = input.keepCompression === true;
    return { mod, path: `${dir}/${mod}${KO_SUFFIX[keep ? m.compression : 'none']}`, content: keep ? m.original : m.plain };
  });

  // depmod.d: these modules win over same-named ones elsewhere, here and through weak-updates.
  const depmodConf = modules.flatMap(({ mod }) => [`override ${mod} * weak-updates/${meta.name}`, `override ${mod} * extra/${meta.name}`]).join('\n') + '\n';
  const files: RpmFile[] = [
    { type: 'dir', path: dir },
    ...modules.map((m): RpmFile => ({ type: 'file', path: m.path, content: m.content })),
    { type: 'file', path: `/etc/depmod.d/${meta.name}.conf`, content: bytesSource(depmodConf, `${name} depmod.d/${meta.name}.conf`), flags: ['config'] },
  ];

  const release = `${meta.release}.${kernelTag(K, build.arch)}`;
  const evr = `${meta.version}-${release}`;
  const depmod = input.depmod ?? '/usr/sbin/depmod';
  const weak = input.weakModules ?? true;
  const paths = modules.map((m) => m.path);
  const symbols = input.symbolDeps === false ? { requires: [], provides: [] } : symbolDependencies(build.modules);
  return {
    name,
    version: meta.version,
    release,
    arch: build.arch,
    summary: meta.summary,
    group: KERNEL_GROUP,
    ...packageMeta(meta, input.buildTime),
    provides: [
      ...kernels.map((k): Dependency => ({ name: 'kernel-modules', op: input.kernelModules.op, version: k })),
      // RHEL 6 installs the package providing kmod-<module> for each module it loaded (§3.5).
      ...modules.map((m): Dependency => ({ name: `kmod-${m.mod}`, op: '=', version: evr })),
      ...modules.map((m): Dependency => ({ name: `kmod(${m.mod}.ko)` })),
      ...symbols.provides,
    ],
    requires: [
      { name: depmod, phases: ['post'] },
      { name: depmod, phases: ['postun'] },
      ...(input.kernelRequires ?? kernelPin(build.arch, input.kernelModules, K)),
      ...(input.firmwarePackage ? [input.firmwarePackage.evr ? { name: input.firmwarePackage.name, op: '=' as const, version: input.firmwarePackage.evr } : { name: input.firmwarePackage.name }] : []),
      ...symbols.requires,
    ],
    scripts: {
      post: { body: postScript(depmod, K, paths, weak, false) },
      postun: { body: postScript(depmod, K, paths, weak, true) },
    },
    files,
  };
}
