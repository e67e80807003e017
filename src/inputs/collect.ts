import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Context } from '../context.js';
import { atKey, UserError } from '../errors.js';
import { decompress } from '../formats/compress/index.js';
import { inOrder } from '../tree/in-order.js';
import { openRpm } from '../formats/rpm/read.js';
import { expandGlob } from '../manifest/glob.js';
import type { LoadedManifest } from '../manifest/load.js';
import type { DriverSet, FirmwareFile, GivenRpm, KernelBuild, KernelModule } from '../model/driverset.js';
import { kernelArch } from '../model/kernel-arch.js';
import { diskPackageFromRpm, driverFiles, enhancementDriverFilesMessage, matchesInstallerEnhancement } from '../rules/rhdd.js';
import { vermagicVerdict } from '../rules/vermagic.js';
import { fileSource, type Source } from '../tree/source.js';
import { chooseBuilds, readDkms } from './dkms.js';
import { loadModuleFile } from './ko.js';
import { loadKabi } from './kabi.js';
import { signModule } from './signing.js';
import { checkGivenModules, givenModulesReadSize } from './given-modules.js';
import { loadCmsSigner } from '../sign/cms-signer.js';
import { checksCrcsFor, kabiProblems, type KabiSet } from '../rules/kabi.js';
import { isReleaseName, kernelOrRelease } from '../rules/releases.js';
import { firmwareNames, missingFirmware, type FirmwareUser } from '../rules/firmware.js';

/** Paths a source pattern names; a pattern that matches nothing, or a path that does not exist, is an error (a typo, usually). */
async function expand(patterns: string | string[], loaded: LoadedManifest, key: string): Promise<string[]> {
  const out: string[] = [];
  const list = Array.isArray(patterns) ? patterns : [patterns];
  for (const [j, p] of list.entries()) {
    const found = await expandGlob(p, loaded.baseDir);
    const missing = found.length === 0 ? `"${p}" matches no file` : found.length === 1 && !(await stat(found[0]!).catch(() => undefined)) ? `${p}: no such file or directory` : undefined;
    const at = Array.isArray(patterns) ? `${key}[${j}]` : key;
    // a path from --set was made absolute against the current folder; the error names that layer
    const file = loaded.fileOf(at);
    const against = file === loaded.path ? ` (relative paths resolve against ${loaded.baseDir})` : '';
    if (missing) throw new UserError(`${at}: ${missing}${against}: correct the path`, file);
    out.push(...found);
  }
  return out;
}

/**
 * A module filed for a kernel of another architecture would be packaged under that module's
 * arch with the kernel's release (`…x86_64.aarch64.rpm`) and never load: refuse it.
 * `from` says where the kernel release came from.
 */
function checkArch(mod: KernelModule, loaded: LoadedManifest, key: string, from: string): void {
  const arch = kernelArch(mod.facts.kernelRelease);
  if (arch === undefined || arch === mod.facts.arch) return;
  throw new UserError(
    `${key}: ${mod.origin} is an ${mod.facts.arch} module but kernel ${mod.facts.kernelRelease} (${from}) is ${arch}: give the module built for ${arch}, or the ${mod.facts.arch} kernel release it was built for`,
    loaded.path,
  );
}

/** The uncompressed module, decompressed again on each read so no module stays in memory. */
function plainSource(path: string, size: number, compressed: boolean): Source {
  return {
    size,
    origin: path,
    open: () => (compressed ? decompress(createReadStream(path)) : (createReadStream(path) as AsyncIterable<Uint8Array>)),
  };
}

/**
 * `check` sees the module with the kernel release it is filed for, before any warning about it. A
 * vermagic warning goes to `deferred`: the kABI check, later, may settle it.
 */
async function moduleFromFile(path: string, kernel: string | undefined, ctx: Context, check: (mod: KernelModule) => void, deferred: VermagicWarning[]): Promise<KernelModule> {
  const { file, plain } = await loadModuleFile(path, (m) => ctx.warn(m));
  const mod: KernelModule = {
    facts: { ...file, kernelRelease: kernel ?? file.kernelRelease },
    origin: path,
    original: await fileSource(path),
    compression: file.compression,
    plain: plainSource(path, plain.length, file.compression !== 'none'),
  };
  check(mod);
  // the kernel's own rule (rules/vermagic.ts), the same verify applies to the disk
  const verdict = kernel ? vermagicVerdict(file, kernel) : undefined;
  if (verdict?.severity === 'error') throw new UserError(verdict.message, path);
  if (verdict) deferred.push({ kernel: kernel!, message: `${path}: ${verdict.message}` });
  return mod;
}

/**
 * anaconda extracts an installer-enhancement package for every installer kernel and relocates its
 * modules beside the driver's whatever kernel they were built for (redhat-dud.md §3.2 rule 13):
 * one that carries modules or firmware could silently replace the driver, so it is refused.
 */
function refuseEnhancementDrivers(given: GivenRpm, loaded: LoadedManifest, key: string): void {
  const pkg = diskPackageFromRpm(given.fileName, given.pkg);
  const driver = matchesInstallerEnhancement(pkg) ? driverFiles(pkg) : [];
  if (driver.length > 0) throw new UserError(`${key}: ${given.origin}: ${enhancementDriverFilesMessage(driver)}`, loaded.path);
}

/** Given RPMs whose modules are checked at once: their payloads decompress on the thread pool. */
const CHECKS_AT_ONCE = 4;

interface VermagicWarning {
  kernel: string;
  message: string;
}

/**
 * The given RPMs of one source: opened one by one, then their modules checked a few at a time
 * (one progress phase for them all); the warnings, and the error of the first package whose check
 * fails, come in path order, as the one-by-one check gives them.
 */
async function readGivenRpms(paths: readonly string[], loaded: LoadedManifest, key: string, ctx: Context, users: FirmwareUser[]): Promise<GivenRpm[]> {
  const out: GivenRpm[] = [];
  for (const path of paths) {
    const given = await atKey(loaded.path, key, async () => ({ origin: path, fileName: basename(path), pkg: await openRpm(path), source: await fileSource(path) }), path);
    refuseEnhancementDrivers(given, loaded, key);
    out.push(given);
  }
  const checked = out.filter((g) => givenModulesReadSize(g) > 0);
  if (checked.length === 0) return out;
  const what = checked.length === 1 ? checked[0]!.origin : `${checked.length} given RPMs`;
  ctx.progress.phase(`checking the modules inside ${what}`, checked.reduce((n, g) => n + givenModulesReadSize(g), 0));
  const check = async (given: GivenRpm): Promise<{ warnings: string[]; inside: FirmwareUser[] }> => {
    const warnings: string[] = [];
    const modules = await atKey(loaded.path, key, () => checkGivenModules(given, (m) => warnings.push(m), (n) => ctx.progress.advance(n)), given.origin);
    return { warnings, inside: modules.map((m) => ({ module: m.info.name, origin: `${key}: ${given.origin}: ${m.path}`, firmware: m.info.firmware })) };
  };
  await inOrder(checked, CHECKS_AT_ONCE, check, ({ warnings, inside }) => {
    for (const w of warnings) ctx.warn(w);
    users.push(...inside);
  });
  return out;
}

/** Read every source of the manifest into a DriverSet: modules grouped by kernel release and arch. */
export async function collectDriverSet(loaded: LoadedManifest, ctx: Context): Promise<DriverSet> {
  const m = loaded.manifest;
  const modules: KernelModule[] = [];
  const rpms: GivenRpm[] = [];
  /** Every module read, with the key it came from: what the firmware check speaks of. */
  const users: FirmwareUser[] = [];
  const vermagicWarnings: VermagicWarning[] = [];
  for (const [i, src] of m.sources.entries()) {
    if ('ko' in src) {
      const key = `sources[${i}].ko`;
      const kernel = src.kernel === undefined ? undefined : await atKey(loaded.fileOf(`sources[${i}].kernel`), `sources[${i}].kernel`, () => kernelOrRelease(src.kernel!, 'kernel'));
      const paths = await expand(src.ko, loaded, key);
      if (m.kabi === undefined) await hintKabi(paths, key, ctx);
      for (const path of paths) {
        const check = (mod: KernelModule) => checkArch(mod, loaded, key, src.kernel ? `sources[${i}].kernel` : 'its vermagic');
        const read = await atKey(loaded.path, key, () => moduleFromFile(path, kernel, ctx, check, vermagicWarnings), path);
        // build -v says where the kernel release came from
        const mod = src.kernel !== undefined && isReleaseName(src.kernel) ? { ...read, kernelFromRelease: src.kernel } : read;
        modules.push(mod);
        users.push({ module: mod.facts.name, origin: `${key}: ${path}`, firmware: mod.facts.firmware });
      }
    } else if ('rpm' in src) {
      const key = `sources[${i}].rpm`;
      rpms.push(...(await readGivenRpms(await expand(src.rpm, loaded, key), loaded, key, ctx, users)));
    } else {
      const key = `sources[${i}].dkms`;
      const [path] = await expand(src.dkms, loaded, key);
      const tree = await atKey(loaded.path, key, () => readDkms(path!, { warn: (m) => ctx.warn(m) }), path!);
      let builds = chooseBuilds(tree);
      if (src.kernel) {
        const kernel = await atKey(loaded.fileOf(`sources[${i}].kernel`), `sources[${i}].kernel`, () => kernelOrRelease(src.kernel!, 'kernel'));
        builds = builds.filter((b) => b.kernelRelease === kernel);
        if (builds.length === 0) throw new UserError(`sources[${i}].kernel: no dkms build for ${kernel} in ${path}`, loaded.path);
      }
      for (const b of builds) {
        for (const m of b.modules) {
          const mod = { facts: m, origin: m.path, original: m.source, compression: m.compression, plain: m.plain };
          checkArch(mod, loaded, key, 'the dkms kernel folder');
          modules.push(mod);
          users.push({ module: m.name, origin: `${key}: ${m.path}`, firmware: m.firmware });
        }
      }
    }
  }
  const firmware: FirmwareFile[] = [];
  for (const [i, fw] of m.firmware.entries()) {
    const key = `firmware[${i}].file`;
    const [path] = await expand(fw.file, loaded, key);
    firmware.push({ dest: fw.dest, source: await atKey(loaded.path, key, () => fileSource(path!), path!), origin: path! });
  }
  // the key may come from the defaults file or --set: the error names that layer
  const signer = m.signing ? await atKey(loaded.fileOf(['signing', 'key']), 'signing', () => loadCmsSigner({ key: m.signing!.key, cert: m.signing!.cert ?? m.signing!.key, passphraseEnv: m.signing!.passphraseEnv }, loaded.baseDir, 'signing')) : undefined;
  // one module at a time: each is held whole while it is signed
  const ready: KernelModule[] = [];
  for (const mod of modules) ready.push(signer ? await atKey(loaded.path, 'signing', () => signModule(mod, signer, ctx), mod.origin) : mod);
  const kernels = groupByKernel(ready, loaded.path);
  const kabi = m.kabi !== undefined ? await checkKabiAtBuild(kernels, m.kabi, loaded) : undefined;
  const kabiChecked = kabi?.files;
  // a module of another release loads where its CRCs match: a Module.symvers of `kabi:` just said they do
  for (const w of vermagicWarnings) if (!kabi || !checksCrcsFor(kabi.set, w.kernel)) ctx.warn(w.message);
  // last, so a build that stops on an error says only that
  warnMissingFirmware(users, firmware, rpms, modules, ctx);
  return {
    meta: {
      name: m.name,
      version: m.version,
      release: m.release,
      vendor: m.vendor,
      ...(m.vendorName ? { vendorName: m.vendorName } : {}),
      summary: m.summary,
      description: m.description ?? m.summary,
      license: m.license,
      ...(m.url ? { url: m.url } : {}),
    },
    kernels,
    rpms,
    ...(signer ? { signingCertificate: signer.cert } : {}),
    ...(kabiChecked ? { kabiChecked } : {}),
    firmware,
  };
}

/**
 * A module naming firmware (modinfo `firmware=`) that nothing on the media ships fails to
 * initialise where the installer lacks it: say which file, and which module, once per file.
 * Shipped are the `firmware:` entries and what given RPMs carry under /lib/firmware, as the
 * kernel's loader finds it (rules/firmware.ts: `updates/`, `<K>/`, `.xz`/`.zst`).
 */
function warnMissingFirmware(users: FirmwareUser[], firmware: FirmwareFile[], rpms: GivenRpm[], modules: KernelModule[], ctx: Context): void {
  const kernels = [...new Set([...modules.map((m) => m.facts.kernelRelease), ...rpms.flatMap((r) => r.pkg.files.map((f) => /^\/?lib\/modules\/([^/]+)\//.exec(f.path)?.[1]).filter((k) => k !== undefined))])];
  const shipped = new Set([
    ...firmware.flatMap((f) => firmwareNames(`/lib/firmware/${f.dest}`, kernels)),
    ...rpms.filter((r) => !r.pkg.isSource).flatMap((r) => r.pkg.files.flatMap((f) => firmwareNames(f.path, kernels))),
  ]);
  for (const { file, users: by } of missingFirmware(users, shipped)) {
    const names = [...new Set(by.map((u) => u.module))].join(', ');
    const more = by.length > 1 ? ` (and ${by.length - 1} more naming it)` : '';
    ctx.warn(`${by[0]!.origin}${more}: module ${names} names firmware ${file}, which no source or firmware: entry ships: add \`- { file: <its file>, dest: ${file} }\` under firmware: (or its firmware RPM under sources:), unless the installer has it already`);
  }
}

/** A `ko:` folder holding the kernel build's Module.symvers is what `kabi:` checks against. */
async function hintKabi(paths: string[], key: string, ctx: Context): Promise<void> {
  for (const dir of new Set(paths.map((p) => dirname(p)))) {
    const symvers = resolve(dir, 'Module.symvers');
    if (await stat(symvers).then((s) => s.isFile(), () => false)) {
      ctx.warn(`${key}: ${symvers} is there: add \`kabi: ${symvers}\` to check every module's symbols and CRCs against it`);
    }
  }
}

function groupByKernel(modules: KernelModule[], manifest: string): KernelBuild[] {
  const groups = new Map<string, KernelBuild>();
  for (const mod of modules) {
    const key = `${mod.facts.kernelRelease}\0${mod.facts.arch}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { kernelRelease: mod.facts.kernelRelease, arch: mod.facts.arch, modules: [] }));
    const clash = g.modules.find((x) => x.facts.name === mod.facts.name);
    if (clash) throw new UserError(`module ${mod.facts.name} for ${g.kernelRelease} (${g.arch}) is given twice: ${clash.origin} and ${mod.origin}`, manifest);
    g.modules.push(mod);
  }
  return [...groups.values()].sort((a, b) => (a.kernelRelease + a.arch < b.kernelRelease + b.arch ? -1 : 1));
}


/**
 * The manifest's `kabi:` references against every module, for the kernel it is filed for; a
 * module that would not load (or binds to symbols off the stablelist) stops the build.
 */
async function checkKabiAtBuild(kernels: KernelBuild[], given: NonNullable<LoadedManifest['manifest']['kabi']>, loaded: LoadedManifest): Promise<{ files: string[]; set: KabiSet }> {
  const list = Array.isArray(given) ? given : [given];
  const specs = list.map((g) => (typeof g === 'string' ? { file: resolve(loaded.baseDir, g) } : { file: resolve(loaded.baseDir, g.file), ...(g.kernel !== undefined ? { kernel: g.kernel } : {}) }));
  const set = await atKey(loaded.fileOf(['kabi']), 'kabi', () => loadKabi(specs, 'kabi'));
  const problems = kernels.flatMap((b) => b.modules.flatMap((mod) => kabiProblems(set, b.kernelRelease, mod.facts, b.modules.map((x) => x.facts)).map((p) => `${mod.origin}: ${p.message}`)));
  if (problems.length === 0) return { files: specs.map((s) => s.file), set };
  const more = problems.length > 3 ? `; and ${problems.length - 3} more (dudkit verify --kabi lists them all)` : '';
  throw new UserError(`kabi: ${problems.slice(0, 3).join('; ')}${more}: rebuild the module against that kernel, or correct the kabi: files`, loaded.path);
}
