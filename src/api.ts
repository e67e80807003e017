/**
 * dudkit's library API. The CLI is a thin shell over these functions; nothing here prints.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { layouts, loadLayout } from '../layouts/index.js';
import type { Layout, LayoutEnv } from '../layouts/types.js';
import type { Plan } from './emit/plan.js';
import { createContext, type Context } from './context.js';
import { writeDerived } from './emit/derived.js';
import { checkOutFolders, checkOutName } from './emit/out-path.js';
import { atKey, IncompleteBuild, UserError } from './errors.js';
import type { LayerOptions } from './manifest/layers.js';
import type { LoadedManifest, Target } from './manifest/load.js';
import type { Locate } from './manifest/locate.js';
import type { DriverSet } from './model/driverset.js';
import { Artifacts } from './tree/artifacts.js';
import { Scratch } from './tree/scratch.js';
import { fileSource } from './tree/source.js';
import { AtomicFile } from './emit/atomic.js';

import type { InspectOptions, InspectReport, Registry, VerifyCallOptions, VerifyReport } from './readers/index.js';
import type { WriteIsoOptions, WriteIsoResult } from './emit/write-iso.js';
import type { KeygenOptions, KeygenResult } from './sign/key-files.js';
import type { FixOptions, RomReport } from './formats/optionrom/index.js';
import type { RomFixResult } from './emit/option-rom.js';

export { createContext, type Context } from './context.js';
export { progressReporter, type Progress, type Reporter, type ReporterOptions } from './progress.js';
export { FormatError, IncompleteBuild, UserError, userErrorOf } from './errors.js';
export type { Finding, FindingCode } from './findings.js';
// the readers load with the first inspect/verify call, so `import 'dudkit'` stays light
export type { InspectOptions, InspectReport, Inspection, Reader, Registry, Verification, VerifyCallOptions, VerifyOptions, VerifyReport } from './readers/index.js';
export type { BootOptions, WriteIsoOptions, WriteIsoResult } from './emit/write-iso.js';
export type { KeygenOptions, KeygenResult } from './sign/key-files.js';
export type { EfiReport, PcirReport, RomImageReport, RomReport, SubHeaderReport } from './formats/optionrom/index.js';
export type { RomFixResult } from './emit/option-rom.js';
export { removeTemporaries } from './tree/leftovers.js';

/** The readers dudkit ships, to extend or narrow as `registry:` of `inspect`/`verify` (loaded on the first call). */
export async function builtinReaders(): Promise<Registry> {
  return (await import('./readers/index.js')).builtinReaders;
}

/** The target kinds a manifest can name, with a line on each (for help texts). */
export function targetKinds(): { kind: string; summary: string; out: string; checksums: readonly ('md5' | 'sha256')[] }[] {
  return layouts.map(({ kind, summary, out, checksums }) => ({ kind, summary, out, checksums }));
}

export type { LayerOptions } from './manifest/layers.js';

export interface BuildOptions extends LayerOptions {
  /** Folder the targets' `out` paths resolve against (default: the current folder). */
  outDir?: string;
  /** Build only these target kinds (or `kind:out` names). */
  only?: string[];
  ctx?: Context;
}

/** How a target's files are written: a folder, or one image or archive file. */
export type MediumKind = 'directory' | 'iso' | 'fat' | 'cpio' | 'zip' | 'file' | 'ar';

export interface BuiltTarget {
  /** The target's kind (rhdd3, pxe, …). */
  target: string;
  /** The medium written (absolute). */
  path: string;
  medium: MediumKind;
  size?: number;
  md5?: string;
  sha256?: string;
  /** Files written beside the output, derived from it (`Plan.derived`: checksum files and others). */
  sidecars?: string[];
  /** What the user should know or do next (e.g. the kernel arguments of a PXE overlay). */
  notes: string[];
  /** The rule that decided each package of the medium: which kernels it serves and why (Red Hat, SUSE and XenServer media, ESXi VIBs; empty where nothing is decided). */
  decisions: string[];
}

export interface BuildResult {
  manifest: string;
  targets: BuiltTarget[];
  warnings: string[];
  /** Which defaults file the manifest was layered on, or why none was. */
  defaults: string;
  /** With `signing:` in the manifest: the certificate the modules are signed with, written beside the media (DER, for `mokutil --import`). */
  signingCertificate?: { path: string; notes: string[] };
}

interface CheckedTarget {
  target: Target;
  layout: Layout;
  options: unknown;
  out: string;
}

/**
 * Check every target's kind and options before any input is read, so typos fail fast. Loads the
 * layouts the manifest names, and those its targets name with `of:` (for `env.inner`).
 */
async function checkTargets(path: string, targets: Target[], loaded: Map<string, Layout>, locate: Locate): Promise<Omit<CheckedTarget, 'out'>[]> {
  const { describeIssues } = await import('./manifest/load.js');
  const load = async (kind: string, where: string): Promise<Layout> => {
    const hit = loaded.get(kind);
    if (hit) return hit;
    const layout = await loadLayout(kind);
    if (!layout) throw new UserError(`${where}: unknown target kind "${kind}" (known: ${layouts.map((l) => l.kind).join(', ')})`, path);
    loaded.set(kind, layout);
    return layout;
  };
  const out: Omit<CheckedTarget, 'out'>[] = [];
  for (const target of targets) {
    const layout = await load(target.kind, `targets[${target.index}]`);
    const parsed = layout.options.safeParse(target.options);
    if (!parsed.success) throw new UserError(describeIssues(parsed.error, ['targets', target.index, target.kind], target.options, layout.options, locate), path);
    const of = (parsed.data as { of?: unknown }).of;
    if (typeof of === 'string') await load(of, `targets[${target.index}].${target.kind}.of`);
    out.push({ target, layout, options: parsed.data });
  }
  return out;
}

function selectTargets<T extends { target: Target; out: string }>(all: T[], only: string[] | undefined, path: string): T[] {
  if (!only?.length) return all;
  for (const o of only) {
    if (!all.some((t) => t.target.kind === o || `${t.target.kind}:${t.out}` === o)) {
      throw new UserError(`--only ${o}: no such target in the manifest (have: ${all.map((t) => t.target.kind).join(', ')})`, path);
    }
  }
  return all.filter((t) => only.includes(t.target.kind) || only.includes(`${t.target.kind}:${t.out}`));
}

/** Files the selected targets' options name exist: a typo is reported at its key, before anything is built. */
async function checkInputs(targets: CheckedTarget[], baseDir: string, path: string): Promise<void> {
  for (const t of targets) {
    for (const [key, given] of Object.entries(t.layout.inputs?.(t.options) ?? {})) {
      if (given === undefined || (await stat(resolve(baseDir, given)).catch(() => undefined))) continue;
      throw new UserError(`targets[${t.target.index}].${t.target.kind}.${key}: ${given}: no such file or directory (relative paths resolve against ${baseDir}): correct the path`, path);
    }
  }
}

/**
 * Build every target of a manifest (or those named in `only`). Everything that can be checked
 * without writing is checked for every target before the first output is written: options,
 * sources (existence, arch), the files options name, each target's plan and its file names. A target that fails
 * while being written leaves the outputs already written in place, complete; the error
 * (`IncompleteBuild`) lists them.
 */
export async function build(manifestPath: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const ctx = opts.ctx ?? createContext();
  // the manifest reader (zod, yaml) and the input readers load here, so `import 'dudkit'` stays light
  const [{ loadManifest }, { collectDriverSet }] = await Promise.all([import('./manifest/load.js'), import('./inputs/collect.js')]);
  const loaded = await loadManifest(manifestPath, layersOf(opts));
  try {
    return await buildLoaded(loaded, collectDriverSet, manifestPath, opts, ctx);
  } catch (err) {
    // a mistake at a manifest key names its line and column
    throw loaded.withLocation(err);
  }
}

async function buildLoaded(loaded: LoadedManifest, collectDriverSet: (loaded: LoadedManifest, ctx: Context) => Promise<DriverSet>, manifestPath: string, opts: BuildOptions, ctx: Context): Promise<BuildResult> {
  const outDir = resolve(opts.outDir ?? '.');
  const kinds = new Map<string, Layout>();
  const checked = await checkTargets(manifestPath, loaded.targets, kinds, loaded.locate);
  const set = await collectDriverSet(loaded, ctx);
  const all: CheckedTarget[] = [];
  for (const c of checked) all.push({ ...c, out: outName(c, set, manifestPath, (kind) => innerOptions(kind, c, set, checked, manifestPath, kinds)) });
  const selected = selectTargets(all, opts.only, manifestPath);
  if (loaded.manifest.sources.length === 0) {
    const needs = selected.find((t) => !t.layout.withoutSources);
    if (needs) throw new UserError(`sources: the ${needs.target.kind} target needs at least one source (ko, rpm or dkms)`, manifestPath);
  }
  const seen = new Set<string>();
  for (const t of selected) {
    if (seen.has(t.out)) throw new UserError(`two targets write ${t.out}`, manifestPath);
    seen.add(t.out);
  }
  await mkdir(outDir, { recursive: true });
  await checkInputs(selected, loaded.baseDir, manifestPath);
  const planner = new Planner(set, ctx, all, manifestPath, kinds);
  const { checkNames } = await import('./emit/names.js');
  const planned: { t: CheckedTarget; plan: Plan }[] = [];
  for (const t of selected) {
    const key = `targets[${t.target.index}].${t.target.kind}`;
    // prepare's errors name the file it reads (installer ISO, key, source folder)
    await planner.prepare(t);
    const plan = await atKey(manifestPath, key, () => planner.plan(t));
    await atKey(manifestPath, key, () => checkNames(plan.tree, plan.medium));
    planned.push({ t, plan });
  }
  for (const t of selected) await checkOutFolders(outDir, t.out, outKey(t.target), manifestPath);
  // one store for the whole build: an artifact two targets share (a kmod RPM, a nested disk) is made once
  const built = await Artifacts.with(async (artifacts) => {
    const out = new Map<CheckedTarget, BuiltTarget>();
    const innerOf = (t: CheckedTarget) => {
      const of = ofKind(t);
      return of === undefined ? undefined : planner.inner(of, t);
    };
    for (const { t, plan } of nestedFirst(planned, innerOf)) {
      try {
        out.set(t, await emitTarget(t, plan, outDir, ctx, artifacts));
      } catch (err) {
        throw out.size === 0 ? err : new IncompleteBuild(err, [...out.values()].map((b) => b.path));
      }
    }
    // reported in manifest order
    return planned.map(({ t }) => out.get(t)!);
  });
  const signingCertificate = set.signingCertificate ? await writeSigningCertificate(outDir, set.meta.vendor, set.signingCertificate) : undefined;
  return { manifest: manifestPath, targets: built, warnings: [...ctx.warnings], defaults: loaded.defaultsNote, ...(signingCertificate ? { signingCertificate } : {}) };
}

const layersOf = (o: LayerOptions): LayerOptions => ({ ...(o.defaults !== undefined ? { defaults: o.defaults } : {}), ...(o.set ? { set: o.set } : {}) });

/**
 * The manifest as `build` reads it (defaults file, then the manifest, then `set` overrides), as
 * YAML with each value's origin as a trailing comment: what `dudkit build --print-manifest` prints.
 */
export async function printManifest(manifestPath: string, opts: LayerOptions = {}): Promise<string> {
  const [{ loadManifest }, { printManifest: print }] = await Promise.all([import('./manifest/load.js'), import('./manifest/print.js')]);
  return print(await loadManifest(manifestPath, layersOf(opts)));
}

/** The key paths `--set` offers (`release`, `signing.key`, …), for shell completion. */
export async function settableKeys(): Promise<string[]> {
  return (await import('./manifest/layers.js')).settableKeys();
}

/** `<vendor>-module-signing.der` beside the media: what a Secure Boot machine must trust before it loads the modules. */
async function writeSigningCertificate(outDir: string, vendor: string, der: Uint8Array): Promise<NonNullable<BuildResult['signingCertificate']>> {
  const path = resolve(outDir, `${vendor}-module-signing.der`);
  await AtomicFile.with(path, [], (f) => f.write(der));
  return {
    path,
    notes: [
      `the modules are signed for Secure Boot; enroll the certificate on each machine before it loads them:`,
      `mokutil --import ${basename(path)} (set a one-time password), reboot, and choose "Enroll MOK" in MokManager`,
    ],
  };
}

/**
 * The order targets are written in: a target whose medium another nests (`of:`) before that one,
 * so the nested copy is its output (made once), not a second build of the same medium.
 */
function nestedFirst<T extends { t: CheckedTarget }>(planned: readonly T[], innerOf: (t: CheckedTarget) => CheckedTarget | undefined): T[] {
  const order: T[] = [];
  const seen = new Set<T>();
  const visit = (p: T | undefined): void => {
    if (!p || seen.has(p)) return;
    seen.add(p);
    const inner = innerOf(p.t);
    visit(planned.find((q) => q.t === inner));
    order.push(p);
  };
  for (const p of planned) visit(p);
  return order;
}

const outKey = (t: Target) => `targets[${t.index}].${t.kind}.out`;

function outName(c: Omit<CheckedTarget, 'out'>, set: DriverSet, manifestPath: string, inner: (kind: string) => unknown): string {
  const given = (c.options as { out?: string }).out;
  return checkOutName(given ?? c.layout.defaultOut(set, c.options, inner), outKey(c.target), manifestPath);
}

/** The options of the target an `of: <kind>` names (the manifest's own, else the layout's defaults). */
function innerOptions(kind: string, t: Omit<CheckedTarget, 'out'>, set: DriverSet, all: Omit<CheckedTarget, 'out'>[], manifestPath: string, kinds: Map<string, Layout>): unknown {
  const layout = kinds.get(kind);
  if (!layout) throw new UserError(`targets[${t.target.index}].${t.target.kind}.of: unknown target kind "${kind}"`, manifestPath);
  return all.find((c) => c.target.kind === kind)?.options ?? defaultsOf(layout, kind, t, manifestPath);
}

/** A layout's options with nothing given; a layout with required options cannot be implied. */
function defaultsOf(layout: Layout, kind: string, t: Omit<CheckedTarget, 'out'>, manifestPath: string): unknown {
  const parsed = layout.options.safeParse({});
  if (!parsed.success) throw new UserError(`targets[${t.target.index}].${t.target.kind}: needs a target of kind ${kind} in the manifest (its options cannot all be defaults)`, manifestPath);
  return parsed.data;
}

/** The kind a target nests, by the `of:` convention every nesting layout follows. */
function ofKind(t: CheckedTarget): string | undefined {
  const of = (t.options as { of?: unknown }).of;
  return typeof of === 'string' ? of : undefined;
}

/**
 * Prepares and plans the targets of one build, each once: a medium nested with `of:` gets the
 * very plan of the manifest's target of that kind (or of one with the layout's defaults), so that
 * the build recognises it as the same artifact and writes it once, whichever target comes first.
 */
class Planner {
  /** What each target's `prepare` read. */
  private readonly prepared = new Map<CheckedTarget, unknown>();
  private readonly plans = new Map<CheckedTarget, Plan>();
  /** Targets with the layout's defaults, made for an `of:` the manifest has no target of. */
  private readonly defaults = new Map<string, CheckedTarget>();

  constructor(
    private readonly set: DriverSet,
    private readonly ctx: Context,
    private readonly all: CheckedTarget[],
    private readonly manifestPath: string,
    private readonly kinds: Map<string, Layout>,
  ) {}

  /** The target an `of: <kind>` names: the manifest's own target of that kind, else one with the layout's defaults. */
  inner(kind: string, t: CheckedTarget): CheckedTarget {
    const layout = this.kinds.get(kind);
    if (!layout) throw new UserError(`targets[${t.target.index}].${t.target.kind}.of: unknown target kind "${kind}"`, this.manifestPath);
    const given = this.all.find((c) => c.target.kind === kind);
    if (given) return given;
    let made = this.defaults.get(kind);
    if (!made) {
      const options = defaultsOf(layout, kind, t, this.manifestPath);
      this.defaults.set(kind, (made = { target: { kind, index: t.target.index, options: {} }, layout, options, out: layout.defaultOut(this.set, options, (k) => this.inner(k, t).options) }));
    }
    return made;
  }

  /** Run `prepare` for a target and for each medium its `of:` chain nests, before any planning. */
  async prepare(t: CheckedTarget): Promise<void> {
    const env = { epoch: this.ctx.epoch, warn: (m: string) => this.ctx.warn(m), baseDir: dirname(resolve(this.manifestPath)) };
    // a cycle stops here (each target is prepared once); plan reports it
    for (let at: CheckedTarget | undefined = t; at && !this.prepared.has(at); ) {
      this.prepared.set(at, await at.layout.prepare?.(at.options, env, this.set));
      const of = ofKind(at);
      at = of === undefined ? undefined : this.inner(of, at);
    }
  }

  /** The plan of a prepared target, with `inner` resolving `of:` references to other targets' plans. */
  plan(t: CheckedTarget, stack: string[] = []): Plan {
    const hit = this.plans.get(t);
    if (hit) return hit;
    const env: LayoutEnv = {
      epoch: this.ctx.epoch,
      warn: (m) => this.ctx.warn(m),
      baseDir: dirname(resolve(this.manifestPath)),
      outName: t.out,
      inner: (kind) => {
        const path = [...stack, t.target.kind];
        if (path.includes(kind)) throw new UserError(`targets: ${[...path, kind].join(' → ')} refer to each other`, this.manifestPath);
        const inner = this.inner(kind, t);
        if (inner.layout.prepare && !this.prepared.has(inner)) throw new Error(`${t.target.kind}: inner(${kind}) names no kind of its of: option, so its prepare step did not run`);
        return this.plan(inner, path);
      },
      innerOutName: (kind) => basename(this.inner(kind, t).out),
      innerOptions: (kind) => this.inner(kind, t).options,
    };
    const plan = t.layout.plan(this.set, t.options, env, this.prepared.get(t));
    this.plans.set(t, plan);
    return plan;
  }
}

async function emitTarget(t: CheckedTarget, plan: Plan, outDir: string, ctx: Context, artifacts: Artifacts): Promise<BuiltTarget> {
  const out = resolve(outDir, t.out);
  ctx.progress.phase(`${t.target.kind}: preparing ${t.out}`);
  // the write side loads with the first target, so `--help`, inspect and `import 'dudkit'` stay light
  const [{ emitPlan }, { offerBuilt }, { withHashPool }] = await Promise.all([import('./emit/index.js'), import('./emit/nested.js'), import('./emit/hash-pool.js')]);
  // generators hash many streams (repodata's packages) on worker threads
  const run = { progress: ctx.progress, artifacts, hashing: withHashPool };
  const { entries, derived, ...emitted } = await Scratch.with((scratch) => emitPlan(plan, plan.derived ?? [], out, basename(out), ctx, scratch, run));
  const beside = await writeDerived(out, derived);
  // a later target nesting this very medium (pxe's dd.iso of this rhdd3 disk) copies the output file
  if (plan.medium.kind !== 'directory') offerBuilt(artifacts, plan, ctx.epoch, { source: await fileSource(out), digests: emitted, entries });
  return { target: t.target.kind, medium: plan.medium.kind, notes: plan.notes, decisions: plan.decisions ?? [], ...emitted, ...(beside.length > 0 ? { sidecars: beside } : {}) };
}

/** The facts `inspect` reports: an object whose fields depend on the kind (vermagic for a module, …). */
export type Facts = { readonly [fact: string]: unknown };

/** What a path is and holds: the facts its reader finds (the registry's highest bidder), and what is wrong. */
export async function inspect(path: string, opts: InspectOptions = {}): Promise<InspectReport<Facts>> {
  // every reader's facts are an object (the JSON document spreads them)
  return (await import('./readers/index.js')).inspect(path, opts) as Promise<InspectReport<Facts>>;
}

/** Check a medium the way its consumer (installer, xapi…) does; `ok` is false when the consumer would fail. */
export async function verify(path: string, opts: VerifyCallOptions = {}): Promise<VerifyReport> {
  return (await import('./readers/index.js')).verify(path, opts);
}

/** Write the folder `dir` as an ISO 9660 image at `out`, what `dudkit iso` does. */
export async function writeIso(dir: string, out: string, opts: WriteIsoOptions = {}): Promise<WriteIsoResult> {
  return (await import('./emit/write-iso.js')).writeIso(dir, out, opts);
}

/** Make an RSA OpenPGP key pair for signing test media: `PREFIX.asc` (secret, 0600) and `PREFIX.pub.asc`. */
export async function keygen(prefix: string, opts: KeygenOptions = {}): Promise<KeygenResult> {
  return (await import('./sign/key-files.js')).keygen(prefix, opts);
}

export interface RomFixOptions {
  /** PCI vendor and device IDs written into every image's PCIR. */
  vendor?: number;
  device?: number;
  /** The 24-bit class code as configuration space reads it (`0x020000` = Ethernet controller). */
  classCode?: number;
  /** The byte an image cut short is padded with (default 0). */
  fill?: number;
  ctx?: Context;
}

/**
 * Make a valid PCI option ROM at `out` from `input` (a ROM, `objcopy -O binary` output or a
 * 32-bit x86 ELF file): sizes, IDs, last-image flags, sub-header and image checksums of every
 * image, in that order (what `dudkit rom fix` does). `out` appears atomically and may be `input`.
 */
export async function romFix(input: string, out: string, opts: RomFixOptions = {}): Promise<RomFixResult> {
  const { ctx = createContext(), ...fix } = opts;
  return (await import('./emit/option-rom.js')).fixRomFile(input, out, fix satisfies FixOptions, ctx);
}

/** Check an option ROM as firmware walks it: every image's fields, `valid` when firmware runs them all (`dudkit rom check`). */
export async function romCheck(path: string): Promise<{ report: RomReport; text: string }> {
  return (await import('./readers/option-rom.js')).checkRomFile(path);
}

export type { InitResult } from './init.js';
/** Write a starter `DIR/dudkit.yaml` from the modules, kmod RPMs and dkms trees found in DIR (never over an existing one). */
export async function init(dir = '.'): Promise<import('./init.js').InitResult> {
  return (await import('./init.js')).init(dir);
}
