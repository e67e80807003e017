/**
 * A built dkms tree (`/var/lib/dkms` or a copy): per module, version, kernel release and arch,
 * the modules dkms left in `<version>/<kernel>/<arch>/module/` (dkms-input.md §1). Nothing is
 * built or executed; dkms.conf is parsed (src/formats/dkms) only for names and destinations.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { asUserError, UserError } from '../errors.js';
import { interpretDkmsConf, type DkmsConf } from '../formats/dkms/conf.js';
import { decompress } from '../formats/compress/index.js';
import { detectCompression, type Compression } from '../formats/compress/magic.js';
import { readTar, type TarListing } from '../formats/tar/read.js';
import { bytesSource, fileSource, sliceSource, type Source } from '../tree/source.js';
import { ReadBudget } from '../tree/bounded.js';
import { loadModuleFile, moduleFromBytes, type ModuleFile } from './ko.js';

export interface DkmsModule extends ModuleFile {
  /** DEST_MODULE_LOCATION from dkms.conf (e.g. `/extra`), when dkms.conf could be read. */
  destLocation?: string;
  /** The file's bytes as dkms left them (compressed if it is). */
  source: Source;
  /** The uncompressed module, for media that need a plain `.ko`. */
  plain: Source;
}

export interface DkmsBuild {
  module: string;
  version: string;
  kernelRelease: string;
  arch: string;
  /** The `<module>/kernel-<kernel>-<arch>` link points here. */
  installed: boolean;
  path: string;
  modules: DkmsModule[];
  /** Modules dkms.conf names that this build lacks (BUILD_EXCLUSIVE rules and the like). */
  missing: string[];
  conf: DkmsConf;
}

export interface DkmsNotBuilt {
  module: string;
  version: string;
  kernelRelease: string;
  arch: string;
  path: string;
}

export interface DkmsTree {
  path: string;
  builds: DkmsBuild[];
  notBuilt: DkmsNotBuilt[];
}

export interface DkmsReadOptions {
  warn?: (message: string) => void;
  /** Folder of per-module dkms.conf overrides; default /etc/dkms for trees under /var/lib/dkms. */
  etcDkms?: string;
}

/** Entries of a version folder that are not kernels (rule 4). */
const NOT_KERNELS = new Set(['source', 'build', 'tarball', 'log', 'driver_disk']);
const MODULE_FILE = /^(.+)\.ko(?:\.(gz|xz|zst))?$/;
const SUFFIX_COMPRESSION: Record<string, Compression> = { gz: 'gzip', xz: 'xz', zst: 'zstd' };

/** Real subfolders, not `.`-names (dkms's transient build folders) and not links (`kernel-*`). */
async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** A version folder holds `source/dkms.conf` or `<kernel>/<arch>/{module,log}` folders. */
async function isVersionDir(dir: string): Promise<boolean> {
  if (await exists(join(dir, 'source', 'dkms.conf'))) return true;
  for (const k of await subdirs(dir)) {
    if (NOT_KERNELS.has(k)) continue;
    for (const a of await subdirs(join(dir, k))) {
      if ((await isDir(join(dir, k, a, 'module'))) || (await isDir(join(dir, k, a, 'log')))) return true;
    }
  }
  return false;
}

async function isModuleDir(dir: string): Promise<boolean> {
  const entries = await readdir(dir);
  if (entries.some((e) => e.startsWith('kernel-'))) return true;
  for (const v of await subdirs(dir)) if (v !== 'original_module' && (await isVersionDir(join(dir, v)))) return true;
  return false;
}

/** What a folder is in a dkms tree, if anything. */
export async function dkmsLevel(dir: string): Promise<'version' | 'module' | 'root' | undefined> {
  try {
    if (await isVersionDir(dir)) return 'version';
    if (await isModuleDir(dir)) return 'module';
    for (const m of await subdirs(dir)) if (await isModuleDir(join(dir, m))) return 'root';
  } catch {
    // unreadable folders are simply not dkms trees
  }
  return undefined;
}

/**
 * Read a dkms tree given as its root (`/var/lib/dkms`), one module (`…/acmenet`) or one module
 * version (`…/acmenet/2.4.1`). Every built (kernel, arch) is returned; see `chooseBuilds`.
 */
export async function readDkmsTree(path: string, opts: DkmsReadOptions = {}): Promise<DkmsTree> {
  const level = await dkmsLevel(path);
  if (!level) {
    try {
      if (!(await stat(path)).isDirectory()) throw new UserError('not a dkms tree (expected a folder)', path);
    } catch (err) {
      asUserError(err, path);
    }
    throw new UserError('not a dkms tree: no <module>/<version>/<kernel>/<arch>/module folders and no source link', path);
  }
  const abs = resolve(path);
  const etcDkms = opts.etcDkms ?? (abs.startsWith('/var/lib/dkms/') || abs === '/var/lib/dkms' ? '/etc/dkms' : undefined);
  const tree: DkmsTree = { path, builds: [], notBuilt: [] };
  const versionDirs: string[] = [];
  if (level === 'version') versionDirs.push(path);
  else {
    const moduleDirs = level === 'module' ? [path] : (await subdirs(path)).map((m) => join(path, m));
    for (const m of moduleDirs) {
      for (const v of await subdirs(m)) {
        if (v === 'original_module' || v.startsWith('kernel-')) continue;
        if (await isVersionDir(join(m, v))) versionDirs.push(join(m, v));
      }
    }
  }
  for (const v of versionDirs) await readVersion(v, tree, { ...opts, ...(etcDkms ? { etcDkms } : {}) });
  return tree;
}

async function readVersion(versionDir: string, tree: DkmsTree, opts: DkmsReadOptions): Promise<void> {
  const moduleDir = dirname(resolve(versionDir));
  const module = basename(moduleDir);
  const version = basename(resolve(versionDir));
  const confPath = join(versionDir, 'source', 'dkms.conf');
  let confText: string | undefined;
  try {
    confText = await readFile(confPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') asUserError(err, confPath);
    opts.warn?.(`${confPath}: missing (source link dangling?); module names come from the built files`);
  }
  const warned = new Set<string>(); // the same dkms.conf warning for every kernel is noise
  for (const kernel of await subdirs(versionDir)) {
    if (NOT_KERNELS.has(kernel)) continue;
    for (const arch of await subdirs(join(versionDir, kernel))) {
      const buildDir = join(versionDir, kernel, arch);
      const moduleFolder = join(buildDir, 'module');
      if (!(await isDir(moduleFolder))) {
        tree.notBuilt.push({ module, version, kernelRelease: kernel, arch, path: buildDir });
        continue;
      }
      const files: BuiltFile[] = [];
      for (const e of await readdir(moduleFolder, { withFileTypes: true })) {
        if (!e.isFile() || !MODULE_FILE.test(e.name)) continue;
        const path = join(moduleFolder, e.name);
        // decompressed again on each read, so no module stays in memory
        const plain = (data: Uint8Array, compressed: boolean): Source =>
          compressed ? { size: data.length, origin: path, open: () => decompress(createReadStream(path) as AsyncIterable<Uint8Array>) } : sliceSource(path, 0, data.length);
        files.push({ name: e.name, path, read: (warn) => loadModuleFile(path, warn), source: await fileSource(path).catch((err: unknown) => asUserError(err, path)), plain });
      }
      const text = confText === undefined ? undefined : confText + (await overrides(opts.etcDkms, module, version, kernel, arch));
      const installed = await isInstalled(moduleDir, kernel, arch, buildDir);
      tree.builds.push(await assembleBuild({ module, version, kernel, arch, path: buildDir, installed, confText: text, confPath, files }, opts, warned));
    }
  }
}

/** A module file found in a build's module/ folder (on disk or in an archive). */
interface BuiltFile {
  name: string;
  path: string;
  /** Its facts and plain bytes, within the budget of the file or of the archive holding it. */
  read(warn?: (message: string) => void): Promise<{ file: ModuleFile; plain: Uint8Array }>;
  source: Source;
  plain(data: Uint8Array, compressed: boolean): Source;
}

interface BuildInput {
  module: string;
  version: string;
  kernel: string;
  arch: string;
  path: string;
  installed: boolean;
  confText: string | undefined;
  confPath: string;
  files: BuiltFile[];
}

/** Check and describe one (kernel, arch) build: its modules, with dkms.conf's destinations. */
async function assembleBuild(b: BuildInput, opts: DkmsReadOptions, warned: Set<string>): Promise<DkmsBuild> {
  const conf: DkmsConf =
    b.confText === undefined
      ? { modules: [], warnings: [] }
      : interpretDkmsConf(b.confText, { module: b.module, module_version: b.version, kernelver: b.kernel, arch: b.arch }, b.confPath);
  const warn = (w: string) => {
    if (!warned.has(w)) opts.warn?.(w);
    warned.add(w);
  };
  if (conf.packageName !== undefined && conf.packageName !== b.module) warn(`${b.confPath}: PACKAGE_NAME ${conf.packageName} differs from the module folder ${b.module}`);
  conf.warnings.forEach(warn);
  const build: DkmsBuild = { module: b.module, version: b.version, kernelRelease: b.kernel, arch: b.arch, installed: b.installed, path: b.path, modules: [], missing: [], conf };
  const found = new Set<string>();
  for (const f of [...b.files].sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const m = MODULE_FILE.exec(f.name)!;
    const { file: info, plain } = await f.read(opts.warn);
    checkModule(info, f.path, SUFFIX_COMPRESSION[m[2] ?? ''] ?? 'none', b.kernel, b.arch);
    const wanted = conf.modules.find((c) => c.destName === m[1]);
    const entry: DkmsModule = { ...info, source: f.source, plain: f.plain(plain, info.compression !== 'none') };
    if (wanted?.destLocation !== undefined) entry.destLocation = wanted.destLocation;
    build.modules.push(entry);
    found.add(m[1]!);
  }
  build.missing = conf.modules.map((c) => c.destName).filter((n) => !found.has(n));
  return build;
}

/** `dkms mktarball` members dudkit reads (§2); sources are skipped, not kept. */
const TAR_MODULE = /^dkms_main_tree\/([^/.][^/]*)\/([^/.][^/]*)\/module\/([^/]+)$/;
const TAR_BUILD = /^dkms_main_tree\/([^/.][^/]*)\/([^/.][^/]*)(?:\/|$)/;
const TAR_META = new Set(['dkms_source_tree/dkms.conf', 'dkms_binaries_only/dkms.conf', 'dkms_binaries_only/PACKAGE_NAME', 'dkms_binaries_only/PACKAGE_VERSION']);

/**
 * Read a `dkms mktarball` archive (`<module>-<version>-kernel<k>-<arch>.dkms.tar.gz`): one module
 * version, kernels and arches from `dkms_main_tree/`, dkms.conf from the source or binaries part.
 */
export async function readDkmsTarball(path: string, opts: DkmsReadOptions = {}): Promise<DkmsTree> {
  let listing: TarListing;
  // everything kept from the archive (its modules, compressed and plain, and dkms.conf) shares one budget
  const budget = new ReadBudget();
  try {
    const keep = (name: string) => TAR_META.has(name) || (TAR_MODULE.test(name) && MODULE_FILE.test(basename(name)));
    listing = await readTar(decompress(createReadStream(path) as AsyncIterable<Uint8Array>), keep, budget);
  } catch (err) {
    asUserError(err, path);
  }
  const text = (name: string) => {
    const b = listing.files.get(name);
    return b && new TextDecoder().decode(b);
  };
  const confName = listing.files.has('dkms_source_tree/dkms.conf') ? 'dkms_source_tree/dkms.conf' : 'dkms_binaries_only/dkms.conf';
  const confText = text(confName);
  const confPath = `${path}:${confName}`;
  if (confText === undefined) opts.warn?.(`${path}: no dkms.conf in the archive; module names come from the built files`);
  const literal = confText === undefined ? undefined : interpretDkmsConf(confText, { module: '', module_version: '' });
  const fromName = /^(.+?)-([^-]+)-(?:kernel|manykernels|source-only)/.exec(basename(path));
  const module = text('dkms_binaries_only/PACKAGE_NAME')?.trim() || literal?.packageName || fromName?.[1];
  const version = text('dkms_binaries_only/PACKAGE_VERSION')?.trim() || literal?.packageVersion || fromName?.[2];
  if (!module || !version) throw new UserError('not a dkms mktarball archive: no PACKAGE_NAME/PACKAGE_VERSION and no <module>-<version>-kernel… file name', path);

  const tree: DkmsTree = { path, builds: [], notBuilt: [] };
  const builds = new Map<string, { kernel: string; arch: string; built: boolean; files: BuiltFile[] }>();
  for (const name of listing.names) {
    const m = TAR_BUILD.exec(name);
    if (!m) continue;
    const key = `${m[1]}/${m[2]}`;
    if (!builds.has(key)) builds.set(key, { kernel: m[1]!, arch: m[2]!, built: false, files: [] });
    const b = builds.get(key)!;
    if (name === `dkms_main_tree/${key}/module` || name.startsWith(`dkms_main_tree/${key}/module/`)) b.built = true;
    const bytes = listing.files.get(name);
    const label = `${path}:${name}`;
    if (bytes && TAR_MODULE.test(name)) b.files.push({ name: basename(name), path: label, read: (warn) => moduleFromBytes(bytes, label, warn, budget), source: bytesSource(bytes, label), plain: (data) => bytesSource(data, label) });
  }
  const warned = new Set<string>();
  for (const b of builds.values()) {
    const where = `${path}:dkms_main_tree/${b.kernel}/${b.arch}`;
    if (!b.built) tree.notBuilt.push({ module, version, kernelRelease: b.kernel, arch: b.arch, path: where });
    else tree.builds.push(await assembleBuild({ module, version, kernel: b.kernel, arch: b.arch, path: where, installed: false, confText, confPath, files: b.files }, opts, warned));
  }
  if (!builds.size) throw new UserError('no dkms_main_tree/<kernel>/<arch>/ in the archive (a source-only tarball?)', path);
  return tree;
}

/** A dkms tree folder, or a `dkms mktarball` archive. */
export async function readDkms(path: string, opts: DkmsReadOptions = {}): Promise<DkmsTree> {
  const st = await stat(path).catch((err: unknown) => asUserError(err, path));
  return st.isDirectory() ? readDkmsTree(path, opts) : readDkmsTarball(path, opts);
}

/** Rule 4 and 5 of §1: compression by magic must match the suffix; vermagic and ELF arch the folders. */
function checkModule(info: ModuleFile, path: string, bySuffix: Compression, kernel: string, arch: string): void {
  if (info.compression !== bySuffix) {
    throw new UserError(`file name says ${bySuffix === 'none' ? 'uncompressed' : bySuffix} but the content is ${info.compression === 'none' ? 'uncompressed' : info.compression}`, path);
  }
  if (!info.vermagic.startsWith(`${kernel} `)) {
    throw new UserError(`vermagic ${JSON.stringify(info.vermagic)} does not match the dkms kernel folder ${kernel}`, path);
  }
  if (!archMatches(info.arch, arch)) throw new UserError(`module is for ${info.arch} but sits in the dkms ${arch} folder`, path);
}

/** dkms names arches as `uname -m` does; modules are described by RPM arch. */
function archMatches(rpmArch: string, unameArch: string): boolean {
  if (rpmArch === unameArch) return true;
  if (rpmArch === 'i686') return /^i[3-6]86$/.test(unameArch);
  if (rpmArch === 'armv7hl') return /^arm/.test(unameArch);
  return false;
}

async function isInstalled(moduleDir: string, kernel: string, arch: string, buildDir: string): Promise<boolean> {
  const link = join(moduleDir, `kernel-${kernel}-${arch}`);
  try {
    const target = resolve(moduleDir, await readlink(link));
    return (await realpath(target)) === (await realpath(buildDir));
  } catch {
    return false;
  }
}

/** Per-module overrides dkms sources after dkms.conf, in its order (later wins). */
async function overrides(etcDkms: string | undefined, module: string, version: string, kernel: string, arch: string): Promise<string> {
  if (!etcDkms) return '';
  const names = [
    `${module}.conf`,
    `${module}-${version}.conf`,
    `${module}-${version}-${kernel}.conf`,
    `${module}-${version}-${kernel}-${arch}.conf`,
    `${module}--${kernel}.conf`,
    `${module}--${kernel}-${arch}.conf`,
  ];
  let text = '';
  for (const n of names) {
    try {
      text += `\n${await readFile(join(etcDkms, n), 'utf8')}`;
    } catch {
      // absent overrides are the norm
    }
  }
  return text;
}

/**
 * One build per (module, kernel, arch): the given version, else the only one, else the one the
 * `kernel-<kernel>-<arch>` link marks as installed.
 */
export function chooseBuilds(tree: DkmsTree, version?: string): DkmsBuild[] {
  if (version !== undefined) {
    const picked = tree.builds.filter((b) => b.version === version);
    if (!picked.length) throw new UserError(`no build of version ${version} (built: ${[...new Set(tree.builds.map((b) => b.version))].join(', ') || 'none'})`, tree.path);
    return picked;
  }
  const groups = new Map<string, DkmsBuild[]>();
  for (const b of tree.builds) {
    const key = `${b.module}\0${b.kernelRelease}\0${b.arch}`;
    groups.set(key, [...(groups.get(key) ?? []), b]);
  }
  const out: DkmsBuild[] = [];
  for (const builds of groups.values()) {
    const first = builds[0]!;
    const chosen = builds.length === 1 ? first : builds.find((b) => b.installed);
    if (!chosen) {
      throw new UserError(
        `${first.module} has versions ${builds.map((b) => b.version).join(', ')} built for ${first.kernelRelease} ${first.arch} and none is installed; name the version folder`,
        tree.path,
      );
    }
    out.push(chosen);
  }
  return out;
}
