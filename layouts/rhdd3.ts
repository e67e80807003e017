/**
 * RHEL 6–10 driver update disk (`redhat-dud.md`): the `rhdd3` marker, one kmod RPM per build
 * kernel and arch under `rpms/<arch>/`, noarch RPMs (firmware) copied into every arch folder,
 * source RPMs under `src/`, repodata per arch folder; an `OEMDRV` ISO or a directory.
 */
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { MAX_LENGTH, tooLong } from '../src/manifest/limits.js';
import { UserError } from '../src/errors.js';
import { rpmFileName, type RpmPackage as RpmSpec } from '../src/formats/rpm/write.js';
import { architectures, type DriverSet, type GivenRpm } from '../src/model/driverset.js';
import { firmwarePackage } from '../src/packages/firmware.js';
import { generatedRpm } from '../src/packages/generated.js';
import { kmodPackage, type KernelModulesScheme } from '../src/packages/kmod.js';
import { firmwarePackageName } from '../src/packages/meta.js';
import type { Op } from '../src/formats/rpm/vercmp.js';
import { isReleaseName, releaseKernel } from '../src/rules/releases.js';
import { checkDisk, diskPackageFromRpm, kernelsOfArch, matchKernels, unextractedFirmware, type DiskPackage } from '../src/rules/rhdd.js';
import { bytesSource } from '../src/tree/source.js';
import { Tree, type Generated } from '../src/tree/tree.js';
import { repodataDir } from '../src/formats/repodata/write.js';
import { defineLayout, type LayoutEnv } from './types.js';

/** A full `uname -r` (arch included), or a release name (`rhel-9.4`) standing for its GA kernel. */
const kernelRelease = z
  .string()
  .max(MAX_LENGTH.kernel, tooLong(MAX_LENGTH.kernel))
  .regex(/^[A-Za-z0-9._+~^-]+$/, 'must be a full `uname -r`, arch included, or a release name like rhel-9.4')
  .transform((k, ctx) => {
    if (!isReleaseName(k)) return k;
    try {
      return releaseKernel(k, 'release');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^release: /, '') });
      return z.NEVER;
    }
  });

export const rhdd3Options = z.strictObject({
  out: z.string().min(1).optional(),
  /** iso (default for .iso/.img names) or directory. */
  format: z.enum(['iso', 'directory']).optional(),
  volumeId: z
    .string()
    .regex(/^[A-Z0-9_]{1,32}$/, 'must be 1–32 of A–Z 0–9 _ (ISO 9660 d-characters); OEMDRV enables automatic detection')
    .default('OEMDRV'),
  /** Content of the `rhdd3` marker (RHEL 6 shows it as the disk title). */
  title: z
    .string()
    .min(1)
    .refine((s) => !/\n./.test(s) && !s.includes('\r'), 'must be a single line')
    .default('Driver Update Disk version 3'),
  /** RPM payload compressor: the installer's extractor reads only xz and gzip. */
  payload: z.enum(['xz', 'gzip']).default('xz'),
  /**
   * `kernel-modules` Provides: `minimum` (`>= K`, serves later kABI-compatible kernels too; at
   * most one build per arch), `exact` (`= K` per build), `auto` (minimum for one build per arch,
   * else exact).
   */
  kernelModules: z.enum(['auto', 'exact', 'minimum']).default('auto'),
  /** Installer kernels served by the modules of one build kernel: `{ <build K>: [<installer K>…] }`. */
  serve: z.record(kernelRelease, z.array(kernelRelease).min(1)).optional(),
  /** Installer kernels the disk must work with (checked: exactly one package per driver matches). */
  kernels: z.array(kernelRelease).optional(),
  repodata: z.boolean().default(true),
  joliet: z.boolean().default(false),
  implantMd5: z.boolean().default(false),
  checksums: z.array(z.enum(['md5', 'sha256'])).default(['sha256']),
});
type Options = z.output<typeof rhdd3Options>;

/** The same bytes at a second path, built once. */
function copyOf(path: string): Generated {
  return { kind: 'generated', deps: [path], key: 'copy', build: async ([src]) => src! };
}

function specAsDiskPackage(spec: RpmSpec, payload: string): DiskPackage {
  return {
    fileName: rpmFileName(spec),
    name: spec.name,
    arch: spec.arch,
    isSource: false,
    provides: (spec.provides ?? []).map((p) => ({ name: p.name, op: p.op ?? '', version: p.version ?? '' })),
    files: spec.files.filter((f) => f.type !== 'dir').map((f) => f.path),
    payloadCompressor: payload,
    description: spec.description,
  };
}

/** Which `kernel-modules` form each build kernel's package carries, and the rule that chose it (for `build --verbose`). */
function schemes(set: DriverSet, o: Options): Map<string, KernelModulesScheme & { why: string }> {
  const out = new Map<string, KernelModulesScheme & { why: string }>();
  for (const arch of architectures(set)) {
    const builds = set.kernels.filter((k) => k.arch === arch);
    if (o.kernelModules === 'minimum' && builds.length > 1) {
      throw new UserError(`kernelModules: minimum (>=) allows one build per arch, but ${arch} has ${builds.length} (${builds.map((b) => b.kernelRelease).join(', ')}); every later kernel would match them all`);
    }
    // `>=` would also match the kernels that given kmod RPMs of this arch serve
    const givenKmods = set.rpms.some((r) => r.pkg.arch === arch && r.pkg.provides.some((p) => p.name === 'kernel-modules'));
    for (const b of builds) {
      const served = o.serve?.[b.kernelRelease];
      const useMin = !served && (o.kernelModules === 'minimum' || (o.kernelModules === 'auto' && builds.length === 1 && !givenKmods));
      const why = served
        ? `serve: maps build kernel ${b.kernelRelease} to these installer kernels`
        : o.kernelModules === 'minimum'
          ? 'kernelModules: minimum: rpm vercmp lets every later kernel take it (kABI-compatible z-streams)'
          : o.kernelModules === 'exact'
            ? 'kernelModules: exact'
            : builds.length > 1
              ? `kernelModules: auto with ${builds.length} ${arch} builds: each exact, so no installer kernel matches two`
              : givenKmods
                ? `kernelModules: auto beside given ${arch} kmod RPMs: exact, so >= does not also match their kernels`
                : `kernelModules: auto with one ${arch} build: >= also serves the later z-stream kernels of its minor release`;
      out.set(`${b.kernelRelease}\0${arch}`, useMin ? { op: '>=', why } : { op: '=', kernels: served ?? [b.kernelRelease], why });
    }
  }
  return out;
}

function plan(set: DriverSet, o: Options, env: LayoutEnv, decisions: string[]) {
  const tree = new Tree().file('rhdd3', bytesSource(o.title, 'rhdd3 marker'));
  const archs = architectures(set);
  if (archs.length === 0) throw new UserError('nothing for any architecture: give kernel modules or binary kmod RPMs');
  const schemeOf = schemes(set, o);
  const pkgsByArch = new Map<string, DiskPackage[]>(archs.map((a) => [a, []]));
  const kernels = new Set(o.kernels ?? []);

  // firmware package: matched for every kernel the kmods serve (dudkit's, Required by them, and the
  // given kmod RPMs', which cannot Require it): dd_extract unpacks only packages matching its kernel
  let firmwareSpec: RpmSpec | undefined;
  if (set.firmware.length > 0) {
    const built = [...schemeOf.entries()].flatMap(([key, s]): { op: Op; version: string }[] => {
      const build = key.split('\0')[0]!;
      return s.op === '>=' ? [{ op: '>=', version: build }] : (s.kernels ?? [build]).map((k) => ({ op: '=', version: k }));
    });
    const given = set.rpms.filter((r) => !r.pkg.isSource).flatMap((r) => r.pkg.provides.flatMap((p): { op: Op; version: string }[] => (p.name === 'kernel-modules' && p.op && p.version ? [{ op: p.op, version: p.version }] : [])));
    const entries = [...new Map([...built, ...given].map((e) => [`${e.op} ${e.version}`, e])).values()];
    firmwareSpec = firmwarePackage({ meta: set.meta, files: set.firmware, buildTime: env.epoch, kernelModules: entries });
    const whose = [built.length ? "dudkit's kmods (which Require it)" : '', given.length ? 'the given kmod RPMs (their Provides)' : ''].filter(Boolean).join(' and ');
    decisions.push(`${rpmFileName(firmwareSpec)}: firmware: entries (${set.firmware.map((f) => f.dest).join(', ')}); ${entries.length ? `kernel-modules ${entries.map((e) => `${e.op} ${e.version}`).join(' or ')}: every kernel ${whose} serve extracts it` : 'no kernel-modules: no kmod names a kernel, so the installer extracts it for none'}`);
  }

  for (const build of set.kernels) {
    const scheme = schemeOf.get(`${build.kernelRelease}\0${build.arch}`)!;
    const spec = kmodPackage({
      meta: set.meta,
      build,
      kernelModules: scheme,
      buildTime: env.epoch,
      ...(firmwareSpec ? { firmwarePackage: { name: firmwarePackageName(set.meta) } } : {}),
    });
    tree.file(`rpms/${build.arch}/${rpmFileName(spec)}`, generatedRpm(spec, { compressor: o.payload }));
    const from = build.modules.map((m) => {
      const vermagic = m.facts.vermagic.split(' ')[0];
      const given = m.kernelFromRelease ? `kernel: ${m.kernelFromRelease}, that release's kernel ${build.kernelRelease}` : 'kernel: given';
      return `${m.facts.name} (${vermagic === build.kernelRelease && !m.kernelFromRelease ? 'kernel release from its vermagic' : `${given}; vermagic says ${vermagic}`})`;
    }).join(', ');
    const kabi = set.kabiChecked ? `; symbols checked against kabi: ${set.kabiChecked.join(', ')}` : '';
    decisions.push(`${rpmFileName(spec)}: modules ${from}; kernel-modules ${scheme.op === '>=' ? `>= ${build.kernelRelease}` : `= ${(scheme.kernels ?? []).join(', ')}`}: ${scheme.why}${kabi}`);
    pkgsByArch.get(build.arch)!.push(specAsDiskPackage(spec, o.payload));
    for (const k of scheme.op === '=' ? (scheme.kernels ?? []) : [build.kernelRelease]) kernels.add(k);
  }

  const noarch: { name: string; content: Generated | GivenRpm['source']; disk: DiskPackage }[] = [];
  if (firmwareSpec) noarch.push({ name: rpmFileName(firmwareSpec), content: generatedRpm(firmwareSpec, { compressor: o.payload }), disk: specAsDiskPackage(firmwareSpec, o.payload) });
  for (const r of set.rpms) {
    const disk = diskPackageFromRpm(r.fileName, r.pkg);
    const km = disk.provides.filter((p) => p.name === 'kernel-modules').map((p) => `${p.op} ${p.version}`.trim());
    decisions.push(`${r.fileName}: given (sources: rpm), used as it is; ${r.pkg.isSource ? 'a source RPM: src/, never installed' : `${km.length ? `kernel-modules ${km.join(' or ')} from its Provides` : 'no kernel-modules Provides: the installer extracts it for no kernel'}${r.pkg.arch === 'noarch' ? '; noarch: copied into every arch folder' : ''}`}`);
    if (r.pkg.isSource) tree.file(`src/${r.fileName}`, r.source);
    else if (r.pkg.arch === 'noarch') noarch.push({ name: r.fileName, content: r.source, disk });
    else {
      tree.file(`rpms/${r.pkg.arch}/${r.fileName}`, r.source);
      pkgsByArch.get(r.pkg.arch)!.push(disk);
      for (const p of disk.provides) if (p.name === 'kernel-modules' && (p.op === '=' || p.op === '>=') && p.version) kernels.add(p.version);
    }
  }
  // Nothing reads rpms/noarch/: noarch packages go into every arch folder (rule 3), built once.
  for (const n of noarch) {
    const [first, ...rest] = archs.map((a) => `rpms/${a}/${n.name}`);
    tree.file(first!, n.content);
    for (const p of rest) tree.file(p, copyOf(first!));
    for (const a of archs) pkgsByArch.get(a)!.push(n.disk);
  }

  const kernelsFor = (a: string) => kernelsOfArch(kernels, a);
  const matches = archs.map((a) => ({ a, ms: matchKernels(pkgsByArch.get(a)!, kernelsFor(a)) }));
  for (const { a, ms } of matches) for (const m of ms) decisions.push(`installer kernel ${m.kernel} (${a}) extracts ${[...new Set(m.extracted.map((e) => e.package))].join(', ') || 'nothing'}`);
  const problems = archs.flatMap((a) => checkDisk(pkgsByArch.get(a)!, kernelsFor(a)));
  // the installer kernels the manifest names must each load a driver package
  for (const a of archs) {
    for (const m of matchKernels(pkgsByArch.get(a)!, (o.kernels ?? []).filter((k) => kernelsFor(a).includes(k)))) {
      if (m.modules.length === 0) problems.push({ code: 'RHDD3_NO_MATCH', severity: 'error', subject: '', message: `kernels: no package on the disk gives installer kernel ${m.kernel} (${a}) its modules` });
    }
  }
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new UserError(errors.map((e) => `${e.subject ? `${e.subject}: ` : ''}${e.message}`).join('; '));
  for (const w of problems) env.warn(`${w.subject ? `${w.subject}: ` : ''}${w.message}`);
  // shipped is not extracted: the missing-firmware check of the inputs counts these files, the installer never sees them
  for (const u of unextractedFirmware([...pkgsByArch.values()].flat(), matches.flatMap((m) => m.ms))) {
    const files = u.files.slice(0, 3).join(', ') + (u.files.length > 3 ? ` (and ${u.files.length - 3} more)` : '');
    env.warn(`${u.package}: no installer kernel of the disk extracts its firmware ${files}: ${u.why}; a module needing it finds none in the installer: ship the files with firmware: (dudkit's firmware package matches the kmods' kernels)`);
  }

  if (o.repodata) {
    for (const a of archs) {
      const rpms = tree.entries().filter((e) => e.type === 'file' && e.path.startsWith(`rpms/${a}/`) && e.path.endsWith('.rpm') && !e.path.slice(`rpms/${a}/`.length).includes('/'));
      const base = `rpms/${a}/`;
      tree.generatedDir(`${base}repodata`, repodataDir(rpms.map((e) => ({ path: e.path, href: e.path.slice(base.length) })), { epoch: env.epoch }));
    }
  }
  return tree;
}

export const rhdd3 = defineLayout({
  kind: 'rhdd3',
  options: rhdd3Options,
  defaultOut: (set) => `dd-${set.meta.name}-${set.meta.version}-${set.meta.release}.iso`,
  plan(set, o, env) {
    const format = o.format ?? (/\.(iso|img)$/i.test(env.outName) ? 'iso' : 'directory');
    const decisions: string[] = [];
    return {
      tree: plan(set, o, env, decisions),
      decisions,
      medium: format === 'iso' ? { kind: 'iso', volumeId: o.volumeId, joliet: o.joliet, implantMd5: o.implantMd5 } : { kind: 'directory' },
      derived: checksumFiles(format === 'iso' ? o.checksums : []),
      notes: format === 'iso' ? [`boot the installer with inst.dd=hd:LABEL=${o.volumeId}${o.volumeId === 'OEMDRV' ? ' (or nothing: OEMDRV media are found automatically)' : ''}`] : [],
    };
  },
});
