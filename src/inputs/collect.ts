import { createReadStream } from 'node:fs';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { decompress } from '../formats/compress/index.js';
import { expandGlob } from '../manifest/glob.js';
import type { LoadedManifest } from '../manifest/load.js';
import type { DriverSet, FirmwareFile, GivenRpm, KernelBuild, KernelModule } from '../model/driverset.js';
import { openRpm } from '../formats/rpm/read.js';
import { basename } from 'node:path';
import { fileSource, type Source } from '../tree/source.js';
import { chooseBuilds, readDkms } from './dkms.js';
import { loadModuleFile } from './ko.js';

/** Paths a source pattern names; a pattern that matches nothing is an error (a typo, usually). */
async function expand(patterns: string | string[], loaded: LoadedManifest, key: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of Array.isArray(patterns) ? patterns : [patterns]) {
    const found = await expandGlob(p, loaded.baseDir);
    if (found.length === 0) throw new UserError(`${key}: "${p}" matches no file`, loaded.path);
    out.push(...found);
  }
  return out;
}

/** The uncompressed module, decompressed again on each read so no module stays in memory. */
function plainSource(path: string, size: number, compressed: boolean): Source {
  return {
    size,
    origin: path,
    open: () => (compressed ? decompress(createReadStream(path)) : (createReadStream(path) as AsyncIterable<Uint8Array>)),
  };
}

async function moduleFromFile(path: string, kernel: string | undefined, ctx: Context): Promise<KernelModule> {
  const { file, plain } = await loadModuleFile(path, (m) => ctx.warn(m));
  const facts = { ...file };
  if (kernel && kernel !== file.kernelRelease) {
    // kABI-compatible modules are meant to load on later kernels of the same stream
    ctx.warn(`${path}: built for ${file.kernelRelease} (vermagic) but the manifest says kernel ${kernel}; using ${kernel}`);
    facts.kernelRelease = kernel;
  }
  return {
    facts,
    origin: path,
    original: await fileSource(path),
    compression: file.compression,
    plain: plainSource(path, plain.length, file.compression !== 'none'),
  };
}

/** Read every source of the manifest into a DriverSet: modules grouped by kernel release and arch. */
export async function collectDriverSet(loaded: LoadedManifest, ctx: Context): Promise<DriverSet> {
  const m = loaded.manifest;
  const modules: KernelModule[] = [];
  const rpms: GivenRpm[] = [];
  for (const [i, src] of m.sources.entries()) {
    if ('ko' in src) {
      for (const path of await expand(src.ko, loaded, `sources[${i}].ko`)) modules.push(await moduleFromFile(path, src.kernel, ctx));
    } else if ('rpm' in src) {
      for (const path of await expand(src.rpm, loaded, `sources[${i}].rpm`)) {
        rpms.push({ origin: path, fileName: basename(path), pkg: await openRpm(path), source: await fileSource(path) });
      }
    } else {
      const [path] = await expand(src.dkms, loaded, `sources[${i}].dkms`);
      const tree = await readDkms(path!, { warn: (m) => ctx.warn(m) });
      let builds = chooseBuilds(tree);
      if (src.kernel) {
        builds = builds.filter((b) => b.kernelRelease === src.kernel);
        if (builds.length === 0) throw new UserError(`sources[${i}].kernel: no dkms build for ${src.kernel} in ${path}`, loaded.path);
      }
      for (const b of builds) {
        for (const mod of b.modules) modules.push({ facts: mod, origin: mod.path, original: mod.source, compression: mod.compression, plain: mod.plain });
      }
    }
  }
  const firmware: FirmwareFile[] = [];
  for (const [i, fw] of m.firmware.entries()) {
    const [path] = await expand(fw.file, loaded, `firmware[${i}].file`);
    let source: Source;
    try {
      source = await fileSource(path!);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`firmware[${i}].file: cannot read (${(err as Error).message})`, path);
    }
    firmware.push({ dest: fw.dest, source, origin: path! });
  }
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
    kernels: groupByKernel(modules, loaded.path),
    rpms,
    firmware,
  };
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

