/**
 * RHEL 4/5 legacy driver disk (`rhel5-dud.md`): the `rhdd` marker, `modinfo`, `modules.dep`,
 * `modules.alias`, `pcitable` and `modules.cgz` (gzip of a newc cpio with one
 * `<uname -r>/<arch>/<module>.ko` per kernel variant) at the root, firmware under `firmware/`,
 * and optionally an `rpms/` yum repo of packages providing `dud-<module>[-<variant>]`.
 * An OEMDRV ISO (also for `.img` names: RHEL 5 loop-mounts `dd=` images as iso9660 first), a
 * directory, or a partitioned FAT32 stick image.
 */
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { MAX_LENGTH, tooLong } from '../src/manifest/limits.js';
import { UserError } from '../src/errors.js';
import { archiveOf } from '../src/emit/archive.js';
import { repodataDir } from '../src/formats/repodata/write.js';
import { rpmFileName, type RpmPackage as RpmSpec } from '../src/formats/rpm/write.js';
import type { DriverSet, KernelBuild, KernelModule } from '../src/model/driverset.js';
import { generatedRpm } from '../src/packages/generated.js';
import { kmodPackage } from '../src/packages/kmod.js';
import {
  dudCapability, legacyKernel, memberName, MODULE_TYPES, modinfoText, modulesAliasText, modulesDepText, pcitableRow,
  RHEL5_ARCH_VARIANTS, typeFromAliases, variantOf, type ModinfoBlock,
} from '../src/rules/rhel5.js';
import { bytesSource } from '../src/tree/source.js';
import { comparePaths, Tree, type Generated, type ResolvedEntry } from '../src/tree/tree.js';
import { defineLayout, type LayoutEnv, type Medium } from './types.js';

const baseRelease = z.string().max(MAX_LENGTH.kernel, tooLong(MAX_LENGTH.kernel)).regex(/^[A-Za-z0-9._+~^-]+$/, 'must be a kernel release without variant suffix, e.g. 2.6.18-398.el5');

export const rhel5Options = z.strictObject({
  out: z.string().min(1).optional(),
  /** iso (default for .iso/.img names), directory, or fat (an MBR + FAT32 stick image). */
  format: z.enum(['iso', 'directory', 'fat']).optional(),
  /** ISO volume id or FAT label; OEMDRV enables automatic detection (with dlabel=on on rebuilds). */
  label: z.string().regex(/^[A-Z0-9_]{1,32}$/, 'must be 1–32 of A–Z 0–9 _; OEMDRV enables automatic detection').default('OEMDRV'),
  /** Disk title (content of `rhdd`); default `<name>-<version> driver disk`. */
  title: z.string().min(1).refine((s) => !s.includes('\n') && !s.includes('\r'), 'must be a single line').optional(),
  /**
   * Base kernel releases served (`2.6.18-398.el5`): the modules built for each of them and for its
   * variants (PAE, xen; RHEL 4: smp, hugemem, largesmp) go in. Default: every RHEL 4/5 build given.
   */
  kernels: z.array(baseRelease).min(1).optional(),
  /** modinfo type per module (eth, scsi, …); default from the PCI class in its aliases, else other. */
  types: z.record(z.string(), z.enum(MODULE_TYPES)).optional(),
  /** Also an `rpms/` repo (RHEL 5) whose packages the installer puts on the target instead of copying. */
  rpms: z.boolean().default(false),
  checksums: z.array(z.enum(['md5', 'sha256'])).default(['sha256']),
});
type Options = z.output<typeof rhel5Options>;

/** A build placed on the disk: its kernel release is the cgz folder, its variant names packages. */
interface PlacedBuild {
  build: KernelBuild;
  base: string;
  variant: string;
}

/** Builds for the kernels asked (or every RHEL 4/5 build); refuses what the loader cannot use. */
function placeBuilds(set: DriverSet, o: Options, env: LayoutEnv): PlacedBuild[] {
  const placed: PlacedBuild[] = [];
  const given = set.kernels.map((b) => `${b.kernelRelease} (${b.arch})`).join(', ') || 'none';
  if (o.kernels) {
    for (const base of o.kernels) {
      const builds = set.kernels.flatMap((build) => {
        const variant = variantOf(build.kernelRelease, base);
        return variant === undefined ? [] : [{ build, base, variant }];
      });
      if (builds.length === 0) {
        throw new UserError(`kernels: ${base}: no module is built for it or one of its variants; modules are given for ${given}. The loader looks up <uname -r>/<arch>/<module>.ko and the kernel refuses modules built for another release`);
      }
      if (!legacyKernel(base)) env.warn(`rhel5: kernels: ${base} is not a RHEL 4/5 kernel release; only the RHEL 4/5 loader reads this disk format`);
      placed.push(...builds);
    }
    for (const b of set.kernels) if (!placed.some((p) => p.build === b)) env.warn(`rhel5: modules for ${b.kernelRelease} (${b.arch}) are for none of kernels: ${o.kernels.join(', ')}; left out`);
  } else {
    for (const build of set.kernels) {
      const k = legacyKernel(build.kernelRelease);
      if (k) placed.push({ build, base: k.base, variant: k.variant });
    }
    if (placed.length === 0) {
      throw new UserError(`no module is built for a RHEL 4/5 kernel (2.6.9-….EL, 2.6.18-….el5); modules are given for ${given}. Build the modules against the RHEL 4/5 kernels, or name the releases in kernels:`);
    }
  }
  for (const { build } of placed) {
    for (const m of build.modules) {
      const vermagic = m.facts.vermagic.split(' ')[0];
      if (vermagic !== build.kernelRelease) {
        throw new UserError(`${m.origin}: built for ${vermagic} (vermagic) but given as kernel ${build.kernelRelease}; the disk files it under ${memberName(build.kernelRelease, build.arch, m.facts.name)} and the RHEL 4/5 loader needs the module built for that kernel`);
      }
    }
  }
  // a variant a target may install without a module from this disk
  const bases = new Set(placed.map((p) => `${p.base}\0${p.build.arch}`));
  for (const key of bases) {
    const [base, arch] = key.split('\0') as [string, string];
    if (legacyKernel(base)?.rhel !== 5) continue;
    const have = new Set(placed.filter((p) => p.base === base && p.build.arch === arch).map((p) => p.variant));
    const missing = (RHEL5_ARCH_VARIANTS[arch] ?? ['']).filter((v) => !have.has(v));
    if (missing.length > 0) env.warn(`rhel5: ${base} ${arch}: no build for ${missing.map((v) => (v ? `kernel-${v}` : 'the base kernel')).join(', ')}; a target that installs it gets no module from this disk`);
  }
  return placed.sort((a, b) => comparePaths(a.build.kernelRelease + a.build.arch, b.build.kernelRelease + b.build.arch));
}

/** One entry per module name: the first build's facts (builds are sorted), dependencies and aliases joined. */
function modulesByName(placed: PlacedBuild[]): Map<string, { first: KernelModule; depends: string[]; aliases: string[] }> {
  const out = new Map<string, { first: KernelModule; depends: string[]; aliases: string[] }>();
  for (const { build } of placed) {
    for (const m of build.modules) {
      let e = out.get(m.facts.name);
      if (!e) out.set(m.facts.name, (e = { first: m, depends: [], aliases: [] }));
      for (const d of m.facts.depends) if (!e.depends.includes(d)) e.depends.push(d);
      for (const a of m.facts.aliases) if (!e.aliases.includes(a)) e.aliases.push(a);
    }
  }
  return new Map([...out].sort(([a], [b]) => comparePaths(a, b)));
}

/** modules.cgz: the members sorted by name (the loader bisects a sorted list), newc, gzip -9. */
function modulesCgz(placed: PlacedBuild[], epoch: number): Generated {
  const members: ResolvedEntry[] = placed
    .flatMap(({ build }) => build.modules.map((m) => ({ type: 'file' as const, path: memberName(build.kernelRelease, build.arch, m.facts.name), mode: 0o644, content: m.plain })))
    .sort((a, b) => comparePaths(a.path, b.path));
  return archiveOf({ name: 'modules.cgz', format: 'cpio', members, filters: ['gzip'], epoch });
}

/** The package for one build: named per variant (kernel-PAE gets kmod-…-PAE), RHEL 5's rpm 4.4 formats. */
function variantPackage(set: DriverSet, p: PlacedBuild, epoch: number): RpmSpec {
  const spec = kmodPackage({
    meta: set.meta,
    build: p.build,
    kernelModules: { op: '=' },
    buildTime: epoch,
    depmod: '/sbin/depmod',
    weakModules: false,
    // RHEL 5's kernel provides grouped kernel(rhel5_…) names, not one per symbol
    symbolDeps: false,
    kernelRequires: [{ name: p.variant ? `kernel-${p.variant}` : 'kernel', op: '>=', version: p.base }],
  });
  return {
    ...spec,
    name: p.variant ? `${spec.name}-${p.variant}` : spec.name,
    provides: [...(spec.provides ?? []), ...p.build.modules.map((m) => ({ name: dudCapability(m.facts.name, p.variant), op: '=' as const, version: `${spec.version}-${spec.release}` }))],
  };
}

function plan(set: DriverSet, o: Options, env: LayoutEnv, decisions: string[]): Tree {
  const placed = placeBuilds(set, o, env);
  for (const p of placed) {
    const folder = `${p.build.kernelRelease}/${p.build.arch}`;
    decisions.push(`modules.cgz ${folder}/: ${p.build.modules.map((m) => m.facts.name).join(', ')} for the ${p.variant || 'base'} kernel of ${p.base} (${o.kernels ? 'kernels:' : 'every RHEL 4/5 build given'}); the loader loads <uname -r>/<arch>/<module>.ko`);
  }
  const modules = modulesByName(placed);
  const tree = new Tree().file('rhdd', bytesSource(`${o.title ?? `${set.meta.name}-${set.meta.version} driver disk`}\n`, 'rhdd marker'));

  for (const name of Object.keys(o.types ?? {})) if (!modules.has(name)) throw new UserError(`types: ${name} is not a module on this disk (have ${[...modules.keys()].join(', ')})`);
  const blocks: ModinfoBlock[] = [...modules].map(([name, e]) => ({
    module: name,
    type: o.types?.[name] ?? typeFromAliases(e.aliases),
    description: e.first.facts.description ?? set.meta.summary,
    params: e.first.facts.parms.filter((p) => p.description).map((p) => ({ name: p.name, help: p.description! })),
  }));
  tree.file('modinfo', bytesSource(modinfoText(blocks), 'modinfo'));
  tree.file('modules.dep', bytesSource(modulesDepText([...modules].map(([module, e]) => ({ module, depends: e.depends }))), 'modules.dep'));
  tree.file('modules.alias', bytesSource(modulesAliasText([...modules].flatMap(([module, e]) => e.aliases.map((alias) => ({ alias, module })))), 'modules.alias'));

  const rhel4 = placed.some((p) => legacyKernel(p.base)?.rhel === 4);
  const rows: string[] = [];
  for (const [module, e] of modules) {
    for (const alias of e.aliases) {
      const r = pcitableRow(alias, module, e.first.facts.description ?? set.meta.summary);
      if (r && 'row' in r) rows.push(r.row);
      else if (r && rhel4) env.warn(`rhel5: pcitable (RHEL 4): ${module}: ${r.problem}; RHEL 4 does not load it for such devices`);
    }
  }
  tree.file('pcitable', bytesSource(rows.map((r) => `${r}\n`).join(''), 'pcitable'));
  tree.file('modules.cgz', modulesCgz(placed, env.epoch));

  for (const fw of set.firmware) tree.file(`firmware/${fw.dest}`, fw.source);

  if (o.rpms) {
    if (rhel4 && placed.every((p) => legacyKernel(p.base)?.rhel === 4)) env.warn('rhel5: rpms: RHEL 4 ignores rpms/; only RHEL 5 installs from it');
    if (set.firmware.length > 0) env.warn('rhel5: rpms: the firmware is on the disk under firmware/ but in no package; the installed system does not get it');
    const rpms: { path: string; href: string }[] = [];
    for (const p of placed) {
      const spec = variantPackage(set, p, env.epoch);
      const path = `rpms/${rpmFileName(spec)}`;
      tree.file(path, generatedRpm(spec, { compressor: 'gzip', fileDigest: 'md5' }));
      decisions.push(`${rpmFileName(spec)}: rpms: true; Requires ${p.variant ? `kernel-${p.variant}` : 'kernel'} >= ${p.base} and Provides dud-<module>${p.variant ? `-${p.variant}` : ''}: what RHEL 5's installer installs for that kernel variant`);
      rpms.push({ path, href: rpmFileName(spec) });
    }
    tree.generatedDir('rpms/repodata', repodataDir(rpms, { epoch: env.epoch, checksum: 'sha1' }));
  }
  return tree;
}

export const rhel5 = defineLayout({
  kind: 'rhel5',
  options: rhel5Options,
  defaultOut: (set) => `dd-${set.meta.name}-${set.meta.version}-${set.meta.release}-el5.iso`,
  plan(set, o, env) {
    const format = o.format ?? (/\.(iso|img)$/i.test(env.outName) ? 'iso' : 'directory');
    if (format === 'fat' && o.label.length > 11) throw new UserError(`label ${o.label}: a FAT label has at most 11 characters`);
    const medium: Medium =
      format === 'iso' ? { kind: 'iso', volumeId: o.label, joliet: false, implantMd5: false } : format === 'fat' ? { kind: 'fat', label: o.label } : { kind: 'directory' };
    const found = o.label === 'OEMDRV' ? 'RHEL 5 finds the OEMDRV label by itself (CentOS and other rebuilds need dlabel=on)' : `label ${o.label}: boot with dd and pick the device`;
    const notes: Record<typeof format, string[]> = {
      iso: [`${found}; or boot with dd=http://…/${env.outName} (also nfs:<server>:<path>, path:<file>), or put it in the PXE overlay as dd.img`],
      fat: [`write it to a stick: dd if=${env.outName} of=/dev/sdX bs=4M conv=fsync; ${found}`],
      directory: [],
    };
    const decisions: string[] = [];
    return {
      tree: plan(set, o, env, decisions),
      decisions,
      medium,
      derived: checksumFiles(format === 'directory' ? [] : o.checksums),
      notes: notes[format],
    };
  },
});
