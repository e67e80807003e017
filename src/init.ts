/**
 * `dudkit init`: a starter manifest from the driver files found in a folder, so a vendor's first
 * `dudkit build` needs no reading of the manifest reference (issue 19 item 6).
 */
import { access, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { stringify } from 'yaml';
import { layouts } from '../layouts/index.js';
import { UserError } from './errors.js';
import { openRpm } from './formats/rpm/read.js';
import { dkmsLevel, readDkms } from './inputs/dkms.js';
import { readModuleFile, type ModuleFile } from './inputs/ko.js';
import { firmwareNames } from './rules/firmware.js';
import { checkGivenModules } from './inputs/given-modules.js';
import { fileSource } from './tree/source.js';

/** One input `init` found: `kind` as `inspect` names it, `used` whether a source of the manifest names it. */
export interface InitFound {
  path: string;
  kind: 'kernel-module' | 'rpm' | 'dkms-tree' | 'firmware';
  /** Module name, or the package's name without `kmod-`, or the dkms module, or a firmware file's name under /lib/firmware. */
  name: string;
  /** The kernel releases it is for (a module's vermagic, a dkms tree's builds; none for an RPM). */
  kernels: string[];
  used: boolean;
}

export interface InitResult {
  /** The manifest written (absolute). */
  path: string;
  /** The folder scanned (absolute). */
  scanned: string;
  name: string;
  version: string;
  vendor: string;
  /** The `sources:` entries written, as in the manifest. */
  sources: Record<string, string | string[]>[];
  /** The `firmware:` entries written: the files found that the modules name. */
  firmware: { file: string; dest: string }[];
  /** Everything found, in scan order. */
  found: InitFound[];
  /** Entries written commented out, each with why. */
  skipped: string[];
}

const MODULE = /\.ko(\.(xz|gz|zst))?$/;
/** Deep enough for `vendor/driver/<kernel>/…`, shallow enough not to wander a whole home folder. */
const MAX_DEPTH = 6;

interface Found {
  modules: ModuleFile[];
  /** Every module read, also those in dkms trees: where name, author and description come from. */
  facts: ModuleFile[];
  rpms: { path: string; name: string; modules: string[]; firmware: { module: string; file: string }[] }[];
  dkms: { path: string; module: string; version: string; kernels: string[] }[];
  /** Binary RPMs without modules that ship firmware: the firmware names each gives (rules/firmware.ts). */
  firmwareRpms: { path: string; names: string[] }[];
  /** Every other file: a firmware file a module names may be among them. */
  files: string[];
}

async function scan(dir: string, depth: number, found: Found): Promise<void> {
  if (depth > 0 && (await dkmsLevel(dir))) {
    const tree = await readDkms(dir);
    const build = tree.builds[0];
    if (build) found.dkms.push({ path: dir, module: build.module, version: build.version, kernels: [...new Set(tree.builds.map((b) => b.kernelRelease))].sort() });
    found.facts.push(...tree.builds.flatMap((b) => b.modules));
    return;
  }
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    // hidden folders, and what a build writes, are not inputs
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (depth < MAX_DEPTH) await scan(path, depth + 1, found);
    } else if (e.isFile() && MODULE.test(e.name)) {
      const module = await readModuleFile(path);
      found.modules.push(module);
      found.facts.push(module);
    } else if (e.isFile() && e.name.endsWith('.rpm')) {
      const rpm = await openRpm(path).catch(() => undefined);
      // kmod RPMs are sources; a firmware RPM only when a module names its firmware; source RPMs need the user's decision
      if (rpm && !rpm.isSource && rpm.files.some((f) => MODULE.test(f.path))) {
        // the firmware its modules name; a package build would refuse is still listed (build says why)
        const inside = await checkGivenModules({ origin: path, fileName: e.name, pkg: rpm, source: await fileSource(path) }, () => undefined).catch(() => []);
        const firmware = inside.flatMap((m) => m.info.firmware.map((file) => ({ module: m.info.name, file })));
        found.rpms.push({ path, name: rpm.name.replace(/^kmod-/, ''), modules: rpm.files.filter((f) => MODULE.test(f.path)).map((f) => f.path.split('/').pop()!.replace(MODULE, '')), firmware });
      }
      else if (rpm && !rpm.isSource) {
        const names = rpm.files.flatMap((f) => firmwareNames(f.path, []));
        if (names.length) found.firmwareRpms.push({ path, names });
      }
    } else if (e.isFile()) {
      found.files.push(path);
    }
  }
}

/**
 * `ko:` entries for one kernel release: a `folder/*.ext` glob where it matches exactly that
 * release's files among `all`, else the files by name. One file per module (`x.ko` before `x.ko.xz`).
 */
function koPatterns(rel: (p: string) => string, modules: ModuleFile[], all: ModuleFile[]): { patterns: string[]; chosen: string[] } {
  const chosen = new Map<string, ModuleFile>();
  for (const m of modules) if (!chosen.has(m.name)) chosen.set(m.name, m);
  const globOf = (p: string) => `${rel(dirname(p))}/*${MODULE.exec(p)![0]}`;
  const groups = new Map<string, string[]>();
  for (const m of chosen.values()) groups.set(globOf(m.path), [...(groups.get(globOf(m.path)) ?? []), m.path]);
  const out: string[] = [];
  for (const [glob, paths] of groups) {
    const matched = all.filter((m) => globOf(m.path) === glob).length;
    if (matched === paths.length && !/[*?[]/.test(dirname(glob))) out.push(glob.replace(/^\.\//, ''));
    else out.push(...paths.map(rel));
  }
  return { patterns: out, chosen: [...chosen.values()].map((m) => m.path) };
}

const yamlScalar = (v: string): string => stringify(v).trimEnd();

/** Scan `dir` for modules, kmod RPMs and dkms trees and write `dir/dudkit.yaml` describing them. */
export async function init(dir = '.'): Promise<InitResult> {
  const base = resolve(dir);
  const path = join(base, 'dudkit.yaml');
  const found: Found = { modules: [], facts: [], rpms: [], dkms: [], firmwareRpms: [], files: [] };
  // refused before the scan, so an existing manifest is never a question of what was found
  if (await access(path).then(() => true, () => false)) throw new UserError('already exists; edit it, or remove it to start again', path);
  try {
    await scan(base, 0, found);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot scan: ${(err as Error).message}`, dir);
  }
  if (!found.modules.length && !found.rpms.length && !found.dkms.length) {
    throw new UserError('no kernel modules (.ko, .ko.xz|gz|zst), kmod RPMs or dkms trees found here; put the driver files in this folder first', dir);
  }
  const rel = (p: string) => relative(base, p).split(sep).join('/') || '.';
  const sources: Record<string, string | string[]>[] = [];
  /** Sources written commented out: kernels whose release is no RPM `version-release.arch`, which Red Hat media cannot name. */
  const skipped: string[] = [];
  const releases = [...new Set(found.modules.map((m) => m.kernelRelease))].sort();
  const used = new Set<string>();
  for (const release of releases) {
    const { patterns, chosen } = koPatterns(rel, found.modules.filter((m) => m.kernelRelease === release), found.modules);
    if (!rpmStyle(release)) {
      skipped.push(...patterns.map((p) => `ko: ${yamlScalar(p)}  # ${release}`));
      continue;
    }
    for (const p of chosen) used.add(p);
    sources.push({ ko: patterns.length === 1 ? patterns[0]! : patterns });
  }
  // a kmod RPM carrying a module also given as a file would put two packages of it on the disk
  const given = new Set(found.modules.filter((m) => rpmStyle(m.kernelRelease)).map((m) => m.name));
  const rpms = found.rpms.filter((r) => !r.modules.some((m) => given.has(m)));
  for (const r of found.rpms) if (!rpms.includes(r)) skipped.push(`rpm: ${yamlScalar(rel(r.path))}  # carries modules also found as .ko files`);
  if (rpms.length) sources.push({ rpm: rpms.map((r) => rel(r.path)) });
  for (const r of rpms) used.add(r.path);
  for (const d of found.dkms) {
    for (const kernel of d.kernels) {
      if (rpmStyle(kernel)) sources.push({ dkms: rel(d.path), kernel });
      else skipped.push(`{ dkms: ${yamlScalar(rel(d.path))}, kernel: ${yamlScalar(kernel)} }`);
    }
  }
  const firmware = firmwareFor(found, rel);
  for (const r of firmware.rpms) {
    sources.push({ rpm: rel(r) });
    used.add(r);
  }
  if (!sources.length) throw new UserError(`only modules for kernels that are no RPM version-release (${skipped.join('; ')}); write the manifest by hand for those media`, dir);

  const first = found.modules[0];
  const name = found.dkms[0]?.module ?? [...found.facts.map((m) => m.name)].sort()[0] ?? found.rpms[0]!.name;
  const rawVersion = found.dkms[0]?.version ?? found.facts.find((m) => m.version)?.version ?? '1.0';
  const version = rawVersion.replace(/[^A-Za-z0-9._+~^]/g, '_');
  const author = found.facts.flatMap((m) => m.authors)[0];
  const vendor = (author?.split(/\s+/)[0] ?? '').toLowerCase().replace(/[^a-z0-9._-]/g, '') || 'vendor';
  const description = found.facts.find((m) => m.description)?.description?.split('\n')[0]?.trim();
  const summary = description || `${name} driver`;

  const kinds = layouts.filter((l) => l.kind !== 'rhdd3');
  const text = [
    '# Starter manifest written by `dudkit init` from the files found in this folder.',
    '# Check name, vendor and summary, then: dudkit build dudkit.yaml -o out',
    `name: ${yamlScalar(name)}`,
    `version: ${yamlScalar(version)}${found.dkms.length || first?.version ? '' : '  # no modinfo version found'}`,
    'release: 1',
    `vendor: ${yamlScalar(vendor)}${author ? '  # guessed from the modules\' author' : '  # your short vendor id'}`,
    '# vendorName: Your Company',
    `summary: ${yamlScalar(summary)}`,
    'license: GPL-2.0-only',
    '# one source per kernel release found; relative paths resolve against this file',
    'sources:',
    ...sources.map((s) => {
      const [key, value] = Object.entries(s)[0]!;
      if (Array.isArray(value)) return `  - ${key}:\n${value.map((v) => `      - ${yamlScalar(v)}`).join('\n')}`;
      return s.kernel ? `  - { ${key}: ${yamlScalar(value)}, kernel: ${yamlScalar(s.kernel as string)} }` : `  - ${key}: ${yamlScalar(value)}`;
    }),
    ...(skipped.length ? ['  # not used: kernels whose release is no RPM version-release.arch (not for Red Hat media; pick modules for a suse: target), or RPMs of modules given above:', ...skipped.map((s) => `  # - ${s}`)] : []),
    ...(firmware.entries.length || firmware.missing.length
      ? [
          '# the firmware files the modules name (modinfo firmware=), found in this folder; dest is the name under /lib/firmware',
          ...(firmware.entries.length ? ['firmware:', ...firmware.entries.map((f) => `  - { file: ${yamlScalar(f.file)}, dest: ${yamlScalar(f.dest)} }`)] : ['# firmware:']),
          ...firmware.missing.map((m) => `#   - { file: path/to/${m.dest.split('/').pop()}, dest: ${yamlScalar(m.dest)} }  # named by ${m.modules.join(', ')}; not found here`),
        ]
      : ['# firmware:', '#   - { file: path/to/fw.bin, dest: vendor/fw.bin }']),
    'targets:',
    `  - rhdd3: { out: ${yamlScalar(`dd-${name}.iso`)} }`,
    '  # other media (`dudkit build --help`); most need options of their own, see the README:',
    ...kinds.map((l) => `  # - ${l.kind}: {}  # ${l.summary}`),
    '',
  ].join('\n');
  try {
    await writeFile(path, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError('already exists; edit it, or remove it to start again', path);
    // a write that failed part way (ENOSPC) leaves no half manifest that the next init would refuse
    await rm(path, { force: true }).catch(() => undefined);
    throw new UserError(`cannot write: ${(err as Error).message}`, path);
  }
  const foundList: InitFound[] = [
    ...found.modules.map((m) => ({ path: m.path, kind: 'kernel-module' as const, name: m.name, kernels: [m.kernelRelease], used: used.has(m.path) })),
    ...found.rpms.map((r) => ({ path: r.path, kind: 'rpm' as const, name: r.name, kernels: [], used: used.has(r.path) })),
    ...found.dkms.map((d) => ({ path: d.path, kind: 'dkms-tree' as const, name: d.module, kernels: d.kernels, used: d.kernels.some(rpmStyle) })),
    ...found.firmwareRpms.filter((r) => used.has(r.path)).map((r) => ({ path: r.path, kind: 'rpm' as const, name: basename(r.path).replace(/\.rpm$/, ''), kernels: [], used: true })),
    ...firmware.entries.map((f) => ({ path: f.path, kind: 'firmware' as const, name: f.dest, kernels: [], used: true })),
  ];
  return { path, scanned: base, name, version, vendor, sources, firmware: firmware.entries.map(({ file, dest }) => ({ file, dest })), found: foundList, skipped };
}

/**
 * The firmware each module names (modinfo `firmware=`), found in the folder: a file whose path
 * ends in that name (or in its base name; `.xz`/`.zst` too, which the kernel's loader takes), else
 * a firmware RPM shipping it. What is not found is listed for a commented hint.
 */
function firmwareFor(found: Found, rel: (p: string) => string): { entries: { file: string; dest: string; path: string }[]; rpms: string[]; missing: { dest: string; modules: string[] }[] } {
  const wanted = new Map<string, string[]>();
  const want = (fw: string, module: string) => wanted.set(fw, [...new Set([...(wanted.get(fw) ?? []), module])]);
  for (const m of found.facts) for (const fw of m.firmware) want(fw, m.name);
  for (const r of found.rpms) for (const fw of r.firmware) want(fw.file, fw.module);
  const entries: { file: string; dest: string; path: string }[] = [];
  const rpms = new Set<string>();
  const missing: { dest: string; modules: string[] }[] = [];
  const byName = (name: string) => (p: string) => [name, `${name}.xz`, `${name}.zst`].some((n) => p === n || p.endsWith(`/${n}`));
  const files = found.files.map(rel);
  for (const [dest, modules] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const file = files.find(byName(dest)) ?? files.find(byName(dest.split('/').pop()!));
    const rpm = found.firmwareRpms.find((r) => r.names.includes(dest));
    if (file) {
      // a compressed copy keeps its suffix in dest, where the loader looks for it
      const suffix = /\.(xz|zst)$/.exec(file)?.[0] ?? '';
      entries.push({ file, dest: `${dest}${suffix}`, path: found.files[files.indexOf(file)]! });
    } else if (rpm) rpms.add(rpm.path);
    else missing.push({ dest, modules });
  }
  return { entries, rpms: [...rpms], missing };
}

/** `5.14.0-362.8.1.el9_3.x86_64`: one `-`, so an RPM `kernel` version-release can carry it. */
function rpmStyle(release: string): boolean {
  return release.split('-').length === 2;
}
