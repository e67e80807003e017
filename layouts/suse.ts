/**
 * SUSE driver update for linuxrc/YaST and Agama (`suse-dud.md`, contract §11): the tree
 * `[NN/]linux/suse/<arch>-<dist>/` with `dud.config`, `modules/` + `module.order`, `install/`
 * (the given RPMs, bytes unchanged) and `inst-sys/` (the RPMs unpacked, firmware), one real
 * directory per arch and relative symlinks for the other dists and arches; wrapped as a newc cpio
 * (gzip, xz with CRC32, or none), an ISO 9660 image or a noarch RPM, optionally with a detached
 * signature `<out>.asc`. Dists of both installers give two updates in one file (`01/` YaST,
 * `02/` Agama, §11.2).
 *
 * The UpdateID is derived from the update's content (§11.3), so `prepare` reads the digests of
 * every input the tree carries (and lists the given RPMs' payloads for `inst-sys/`); the plan then
 * knows every byte and name, the ISO's application id included.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../src/errors.js';
import { archiveOf } from '../src/emit/archive.js';
import type { Filter } from '../src/emit/pipeline.js';
import { nestedMedium } from '../src/emit/nested.js';
import type { RpmFile } from '../src/formats/rpm/write.js';
import { architectures, type DriverSet, type GivenRpm, type KernelBuild } from '../src/model/driverset.js';
import { generatedRpm } from '../src/packages/generated.js';
import { payloadFiles, sha256Of, type PayloadFile } from '../src/packages/payload-files.js';
import {
  ALL_ARCHES, asctime, byteOrder, derivedUpdateId, dudConfigText, installerOfDir, mapDist, MAX_CONFIG_LINE, moduleLoadOrder, productOf,
  SUSE_ARCHES, suseArch, UPDATE_ID_RE, type ConfigEntry, type Installer, type ListedEntry,
} from '../src/rules/suse.js';
import { loadSigningKey, type SigningKey } from '../src/sign/key.js';
import { DEFAULT_PASSPHRASE_ENV, passphraseFrom } from '../src/sign/passphrase.js';
import { armoredDetachedSignature } from '../src/sign/sign.js';
import { bytesSource, readSource, type Source } from '../src/tree/source.js';
import { Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { DUDKIT_VERSION } from '../src/version.js';
import { defineLayout, type Derived, type LayoutEnv, type Plan, type PrepareEnv } from './types.js';

const QUOTE_IT = 'must be a string: quote it (YAML reads 16.0 unquoted as the number 16, and 15.6 is not a name until quoted)';
const RESERVED_KEYS = ['updateid', 'updateproduct', 'updateallarchs', 'updateinstaller', 'updatename', 'updatepriority'];
const oneLine = (what: string) => z.string().min(1).refine((s) => !/[\r\n]/.test(s), `${what} must be one line (linuxrc reads dud.config line by line)`);

export const suseOptions = z.strictObject({
  out: z.string().min(1).optional(),
  /** mkdud's `--dist` values (§3), as strings. */
  dist: z.array(z.string({ error: QUOTE_IT }).min(1)).min(1, 'needs at least one dist, e.g. [sle15]'),
  installer: z.enum(['yast', 'agama']).optional(),
  arch: z.array(z.enum(SUSE_ARCHES)).min(1).optional(),
  /** The kernel release whose build goes to `modules/` when an arch has several. */
  kernel: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  format: z.enum(['cpio', 'iso', 'rpm']).optional(),
  compression: z.enum(['gzip', 'xz', 'none']).optional(),
  id: z.string().regex(UPDATE_ID_RE, 'must be a lower-case UUID or at least 16 lower-case hex digits').optional(),
  name: z.union([oneLine('name'), z.array(oneLine('name')).min(1)]).optional(),
  priority: z.number().int().min(0).max(900).optional(),
  prefix: z.number().int().min(1).max(99).optional(),
  moduleOrder: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a module name (no extension)')).min(1).optional(),
  install: z.boolean().default(true),
  instsys: z.boolean().default(true),
  config: z
    .record(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'dud.config keys are letters, digits and _').refine((k) => !RESERVED_KEYS.includes(k.toLowerCase()), 'is a key dudkit writes itself; use the option for it'),
      z.union([oneLine('a dud.config value'), z.number()]).transform(String),
    )
    .optional(),
  /** Armoured OpenPGP secret key: `<out>.asc` over the output's bytes. */
  key: z.string().min(1).optional(),
  passphraseEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default(DEFAULT_PASSPHRASE_ENV),
});
type Options = z.output<typeof suseOptions>;
type Format = 'cpio' | 'iso' | 'rpm';

/** What the plan needs read: the inputs' digests, the RPMs' unpacked files, the signing key. */
interface Prepared {
  digests: Map<Source, string>;
  payloads: Map<GivenRpm, PayloadFile[]>;
  key?: SigningKey;
}

async function prepare(o: Options, env: PrepareEnv, set: DriverSet): Promise<Prepared> {
  const digests = new Map<Source, string>();
  const payloads = new Map<GivenRpm, PayloadFile[]>();
  const sources = [...set.kernels.flatMap((b) => b.modules.map((m) => m.original)), ...set.firmware.map((f) => f.source), ...set.rpms.map((r) => r.source)];
  for (const s of sources) digests.set(s, await sha256Of(s));
  if (o.instsys) for (const r of set.rpms) if (!r.pkg.isSource) payloads.set(r, await payloadFiles(r.pkg));
  if (!o.key) return { digests, payloads };
  const path = resolve(env.baseDir, o.key);
  return { digests, payloads, key: await loadSigningKey(path, passphraseFrom(o.passphraseEnv, path)) };
}

/** One update of the file: an installer, its dists (sorted: the first names the real directory), their products. */
interface Update {
  installer: Installer;
  dists: string[];
  products: string[];
}

function updatesOf(o: Options): Update[] {
  const by = new Map<Installer, { dists: Set<string>; products: Set<string> }>();
  for (const [i, value] of o.dist.entries()) {
    const m = mapDist(value, o.installer);
    if (!m) throw new UserError(`dist[${i}]: ${value} is not a dist name dudkit knows: sle11, sle12, sle15 (or 15), sles15, sled15, leap15.N, 15.N, sle16 (or 16), sles16.N, leap16.N, 16.N, tw, slowroll, microN.N, caaspN.N`);
    if (m.installer === 'either') throw new UserError(`dist[${i}]: ${value} may use Agama or YaST: say which with installer: yast or installer: agama`);
    if (o.installer && m.installer !== o.installer) throw new UserError(`installer: ${o.installer} contradicts dist[${i}] ${value}, which ${m.installer === 'yast' ? 'linuxrc/YaST' : 'Agama'} reads; drop installer: or the dist`);
    let u = by.get(m.installer);
    if (!u) by.set(m.installer, (u = { dists: new Set(), products: new Set() }));
    for (const d of m.dirs) {
      u.dists.add(d);
      u.products.add(productOf(d, value === 'slowroll'));
    }
  }
  return (['yast', 'agama'] as const).flatMap((installer) => {
    const u = by.get(installer);
    return u ? [{ installer, dists: [...u.dists].sort(byteOrder), products: [...u.products].sort(byteOrder) }] : [];
  });
}

/** The build whose modules an arch's `modules/` gets (§11: one build per module). */
function buildFor(set: DriverSet, o: Options, arch: string): KernelBuild | undefined {
  const builds = set.kernels.filter((b) => suseArch(b.arch) === arch);
  const wanted = o.kernel === undefined ? undefined : Array.isArray(o.kernel) ? o.kernel : [o.kernel];
  if (wanted) {
    const hit = builds.filter((b) => wanted.includes(b.kernelRelease));
    if (hit.length > 1) throw new UserError(`kernel: names ${hit.map((b) => b.kernelRelease).join(' and ')} for ${arch}: modules/ holds one build per module, name one`);
    if (hit.length === 0 && builds.length > 0) throw new UserError(`kernel: no module is built for ${wanted.join(', ')} on ${arch}; the sources give ${builds.map((b) => b.kernelRelease).join(', ')}`);
    return hit[0];
  }
  if (builds.length > 1) throw new UserError(`kernel: the sources give ${arch} modules for ${builds.map((b) => b.kernelRelease).join(', ')}; modules/ holds one build per module: say which with kernel: <release> (the installer's kernel)`);
  return builds[0];
}

/** A file of an arch directory, relative to it, with what the UpdateID listing takes of it. */
interface ArchFile {
  path: string;
  source: Source;
  sha256: string;
  mode: number;
}

interface ArchDir {
  arch: string;
  files: ArchFile[];
  dirs: string[];
  symlinks: { path: string; target: string }[];
  names: string[];
  /** `package: <NVRA>` lines of `.update.<id>`, when RPMs were unpacked into inst-sys/. */
  unpacked: string[];
}

const DOCS = /^usr\/share\/(doc|info|licenses|man)(\/|$)/;
const nvra = (r: GivenRpm) => `${r.pkg.name}-${r.pkg.version}-${r.pkg.release}.${r.pkg.arch}`;
const bytesFile = (path: string, text: string, mode = 0o644): ArchFile => {
  const source = bytesSource(text, `generated ${path}`);
  return { path, source, mode, sha256: source.key!.slice('sha256:'.length) };
};

function archDir(set: DriverSet, o: Options, arch: string, prepared: Prepared, env: LayoutEnv): ArchDir {
  const dir: ArchDir = { arch, files: [], dirs: [], symlinks: [], names: [], unpacked: [] };
  const digest = (s: Source) => {
    const d = prepared.digests.get(s);
    if (d === undefined) throw new Error(`${s.origin}: no digest was prepared`);
    return d;
  };
  const build = buildFor(set, o, arch);
  if (build) {
    const byName = new Map(build.modules.map((m) => [m.facts.name, m]));
    const deps = new Map(build.modules.map((m) => [m.facts.name, m.facts.depends]));
    let order: string[];
    if (o.moduleOrder) {
      const given = o.moduleOrder.filter((n) => byName.has(n));
      const missing = [...byName.keys()].filter((n) => !o.moduleOrder!.includes(n));
      const dup = o.moduleOrder.find((n, i) => o.moduleOrder!.indexOf(n) !== i);
      const unknown = o.moduleOrder.filter((n) => !set.kernels.some((b) => b.modules.some((m) => m.facts.name === n)));
      if (missing.length > 0 || dup || unknown.length > 0) throw new UserError(`moduleOrder: must list every shipped module exactly once (${[...byName.keys()].sort(byteOrder).join(', ')})${missing.length ? `; missing ${missing.join(', ')}` : ''}${dup ? `; ${dup} twice` : ''}${unknown.length ? `; ${unknown.join(', ')} not shipped` : ''}`);
      order = given;
    } else {
      const r = moduleLoadOrder(deps);
      if ('cycle' in r) throw new UserError(`module.order: the modules ${r.cycle.join(', ')} depend on each other (modinfo depends); give moduleOrder: to load them anyway`);
      order = r.order;
    }
    for (const name of order) {
      const m = byName.get(name)!;
      const file = m.origin.slice(m.origin.lastIndexOf('/') + 1);
      dir.files.push({ path: `modules/${file}`, source: m.original, sha256: digest(m.original), mode: 0o644 });
      dir.names.push(`${file}\t${build.kernelRelease}.${arch}${m.facts.version ? `\t${m.facts.version}` : ''}`);
    }
    dir.files.push(bytesFile('modules/module.order', order.map((n) => `${n}\n`).join('')));
  }
  const rpms = set.rpms.filter((r) => !r.pkg.isSource && (r.pkg.arch === 'noarch' || suseArch(r.pkg.arch) === arch));
  const instsys = new Map<string, PayloadFile>();
  for (const r of rpms) {
    if (o.install) dir.files.push({ path: `install/${nvra(r)}.rpm`, source: r.source, sha256: digest(r.source), mode: 0o644 });
    const unpacked = prepared.payloads.get(r);
    if (unpacked) {
      for (const f of unpacked) if (!DOCS.test(f.path) && f.path !== 'usr' && f.path !== 'usr/share') instsys.set(f.path, f);
      dir.unpacked.push(`package: ${nvra(r)}\n`);
    }
    if (o.install || unpacked) dir.names.push(`${nvra(r)}\t${asctime(r.pkg.buildtime ?? 0)}`);
  }
  for (const f of [...instsys.values()]) {
    const path = `inst-sys/${f.path}`;
    if (f.type === 'dir') dir.dirs.push(path);
    else if (f.type === 'symlink') dir.symlinks.push({ path, target: f.target! });
    else dir.files.push({ path, source: f.source!, sha256: f.sha256!, mode: f.mode });
  }
  if (o.instsys) {
    for (const fw of set.firmware) {
      const path = `inst-sys/lib/firmware/${fw.dest}`;
      if (instsys.has(`lib/firmware/${fw.dest}`)) throw new UserError(`firmware: ${fw.dest} is also a file of a given RPM (inst-sys/lib/firmware/${fw.dest}); give it once`);
      dir.files.push({ path, source: fw.source, sha256: digest(fw.source), mode: 0o644 });
    }
  } else if (set.firmware.length > 0) env.warn('suse: instsys: false leaves the firmware: entries out (they go to inst-sys/lib/firmware/)');
  return dir;
}

/** The arches with real directories, and whether the update is arch-independent (links for every arch). */
function archesOf(set: DriverSet, o: Options): { real: string[]; allArchs: boolean } {
  const content = [...new Set(architectures(set).map(suseArch))].sort(byteOrder);
  if (o.arch) {
    const outside = o.arch.filter((a) => content.length > 0 && !content.includes(a));
    if (outside.length > 0) throw new UserError(`arch: ${outside.join(', ')}: no module or RPM is built for it (the sources are for ${content.join(', ')})`);
    return { real: [...new Set(o.arch)].sort(byteOrder), allArchs: false };
  }
  return content.length > 0 ? { real: content, allArchs: false } : { real: ['x86_64'], allArchs: true };
}

interface BuiltUpdate {
  id: string;
  tree: Tree;
}

/** One update's tree at `root` (`linux/suse` or `NN/linux/suse`), and its UpdateID. */
function updateTree(set: DriverSet, o: Options, u: Update, root: string, dirs: ArchDir[], allArchs: boolean, format: Format, idGiven: string | undefined): BuiltUpdate {
  const real = (arch: string) => `${arch}-${u.dists[0]!}`;
  const links: { path: string; target: string }[] = [];
  for (const d of dirs) for (const dist of u.dists.slice(1)) links.push({ path: `${d.arch}-${dist}`, target: real(d.arch) });
  if (allArchs) for (const arch of ALL_ARCHES) if (arch !== 'x86_64') for (const dist of u.dists) links.push({ path: `${arch}-${dist}`, target: real('x86_64') });

  const listing: ListedEntry[] = [
    ...dirs.flatMap((d) => [
      ...d.files.map((f) => ({ path: `linux/suse/${real(d.arch)}/${f.path}`, sha256: f.sha256 })),
      ...d.symlinks.map((l) => ({ path: `linux/suse/${real(d.arch)}/${l.path}`, target: l.target })),
    ]),
    ...links.map((l) => ({ path: `linux/suse/${l.path}`, target: l.target })),
  ];
  const id = idGiven ?? derivedUpdateId(listing);

  const iso = format === 'iso';
  const fileMode = (m: number) => (iso ? (m & 0o111 ? 0o555 : 0o444) : m);
  const dirMode = iso ? 0o555 : 0o755;
  const tree = new Tree();
  const prefixDirs = root.split('/');
  for (let i = 1; i <= prefixDirs.length; i++) tree.dir(prefixDirs.slice(0, i).join('/'), dirMode);
  for (const d of dirs) {
    const at = `${root}/${real(d.arch)}`;
    tree.dir(at, dirMode);
    const entries: ConfigEntry[] = [
      { key: 'UpdateID', value: id },
      { key: 'UpdateProduct', value: u.products.join(', ') },
      ...(allArchs ? [{ key: 'UpdateAllArchs', value: ALL_ARCHES.join(',') }] : []),
      { key: 'UpdateInstaller', value: u.installer },
      ...(o.name !== undefined ? (Array.isArray(o.name) ? o.name : [o.name]) : d.names.length > 0 ? d.names : [`Update ${id}`]).map((value) => ({ key: 'UpdateName', value })),
      ...(o.priority !== undefined ? [{ key: 'UpdatePriority', value: String(o.priority) }] : []),
      ...Object.entries(o.config ?? {}).map(([key, value]) => ({ key, value })),
    ];
    for (const e of entries) {
      if (Buffer.byteLength(`${e.key}:\t${e.value}`) > MAX_CONFIG_LINE) throw new UserError(`dud.config: the ${e.key} line would be longer than ${MAX_CONFIG_LINE} bytes, which linuxrc reads in pieces; shorten ${e.key === 'UpdateName' ? 'name:' : `config: ${e.key}`}`);
    }
    tree.file(`${at}/dud.config`, bytesSource(dudConfigText(DUDKIT_VERSION, entries), 'generated dud.config'), fileMode(0o644));
    for (const f of d.files) tree.file(`${at}/${f.path}`, f.source, fileMode(f.mode));
    for (const p of d.dirs) if (!tree.has(`${at}/${p}`)) tree.dir(`${at}/${p}`, dirMode);
    for (const l of d.symlinks) tree.symlink(`${at}/${l.path}`, l.target);
    if (d.unpacked.length > 0) tree.file(`${at}/inst-sys/.update.${id}`, bytesSource(d.unpacked.join(''), 'generated .update'), fileMode(0o644));
    // implied folders (modules/, install/, inst-sys/lib/…) are 0755: ISO folders are 0555
    if (iso) for (const e of tree.entries()) if (e.type === 'dir' && e.path.startsWith(`${at}/`) && !tree.has(e.path)) tree.dir(e.path, dirMode);
  }
  for (const l of links) tree.symlink(`${root}/${l.path}`, l.target);
  return { id, tree };
}

/** The wrapping of the tree: one generated file the output is (so the signature can cover its bytes). */
function wrapped(set: DriverSet, tree: Tree, format: Format, filters: Filter[], id: string, env: LayoutEnv): { path: string; tree: Tree } {
  const entries = tree.entries();
  if (format === 'cpio') {
    const members = entries.map((e): ResolvedEntry => {
      if (e.type === 'generated-dir' || (e.type === 'file' && 'kind' in e.content)) throw new Error(`${e.path}: generated entries are not expected in a SUSE tree`);
      return e as ResolvedEntry;
    });
    return { path: 'update.dud', tree: new Tree().file('update.dud', archiveOf({ name: 'update.dud', format: 'cpio', members, filters, epoch: env.epoch, cpioStyle: 'tree' })) };
  }
  if (format === 'iso') {
    const inner: Plan = {
      tree,
      medium: { kind: 'iso', volumeId: 'OEMDRV', joliet: false, implantMd5: false, application: `dud ${id}`, systemId: 'LINUX', publisher: `dudkit ${DUDKIT_VERSION}`, preparer: `dudkit ${DUDKIT_VERSION}`, rootMode: 0o555 },
      notes: [],
    };
    return { path: 'update.iso', tree: new Tree().file('update.iso', nestedMedium(inner, 'update.iso', env)) };
  }
  const files: RpmFile[] = entries.map((e): RpmFile => {
    const path = `/${e.path}`;
    if (e.type === 'dir') return { type: 'dir', path, mode: 0o755 };
    if (e.type === 'symlink') return { type: 'symlink', path, target: e.target };
    if (e.type === 'file' && !('kind' in e.content)) return { type: 'file', path, mode: e.mode, content: e.content };
    throw new Error(`${e.path}: generated entries are not expected in a SUSE tree`);
  });
  const spec = {
    name: `${set.meta.name}-dud`,
    version: set.meta.version,
    release: set.meta.release,
    arch: 'noarch',
    summary: `Driver update: ${set.meta.summary}`,
    description: `SUSE driver update (linux/suse/) for linuxrc/YaST: ${set.meta.description}`,
    license: set.meta.license,
    ...(set.meta.vendorName ? { vendor: set.meta.vendorName } : {}),
    ...(set.meta.url ? { url: set.meta.url } : {}),
    buildTime: env.epoch,
    files,
  };
  return { path: 'update.rpm', tree: new Tree().file('update.rpm', generatedRpm(spec, { compressor: 'xz' })) };
}

/** `<out>.asc`: `gpg --armor --detach-sign` of the output file (the tree's one file at `at`). */
function signature(key: SigningKey, at: string, epoch: number): Derived {
  return {
    name: (medium) => `${medium}.asc`,
    deps: [at],
    make: async ({ medium, deps: [s] }) => bytesSource(await armoredDetachedSignature(key, await readSource(s!), epoch), `${medium}.asc`),
  };
}

export const suse = defineLayout({
  kind: 'suse',
  options: suseOptions,
  inputs: (o: Options) => ({ key: o.key }),
  defaultOut: (set, o) => `${set.meta.name}-${set.meta.version}-${set.meta.release}.${o.format === 'iso' ? 'iso' : o.format === 'rpm' ? 'rpm' : 'dud'}`,
  prepare,
  plan(set, o, env, prepared): Plan {
    const format: Format = o.format ?? (/\.iso$/i.test(env.outName) ? 'iso' : /\.rpm$/i.test(env.outName) ? 'rpm' : 'cpio');
    if (o.compression && format !== 'cpio') throw new UserError(`compression: ${o.compression} is for format cpio only (this target writes ${format})`);
    const compression = o.compression ?? (/\.xz$/i.test(env.outName) ? 'xz' : /\.cpio$/i.test(env.outName) ? 'none' : 'gzip');
    const updates = updatesOf(o);
    if (format === 'rpm' && updates.some((u) => u.installer === 'agama')) throw new UserError(`format: rpm is read by linuxrc/YaST only (Agama copies an RPM's files onto its root and never looks at linux/suse/); drop the Agama dists or use cpio or iso`);
    if (updates.length > 1 && o.id) throw new UserError('id: the dists give two updates (YaST and Agama), each needs its own UpdateID: drop id: to derive them');
    if (updates.length > 1 && o.prefix === 99) throw new UserError('prefix: 99 leaves no room for the second update (YaST and Agama dists give two, at prefix and prefix + 1)');
    if (o.config && updates.some((u) => u.installer === 'agama')) env.warn('suse: config: Agama reads no dud.config; the keys work with linuxrc/YaST only');
    for (const r of set.rpms) if (r.pkg.isSource) env.warn(`suse: ${r.fileName}: a source package; a driver update carries binary packages only, left out`);

    const { real, allArchs } = archesOf(set, o);
    const dirs = real.map((arch) => archDir(set, o, arch, prepared, env));
    const tree = new Tree();
    const ids: string[] = [];
    updates.forEach((u, i) => {
      const n = o.prefix !== undefined ? o.prefix + i : updates.length > 1 ? i + 1 : undefined;
      const root = n === undefined ? 'linux/suse' : `${String(n).padStart(2, '0')}/linux/suse`;
      const built = updateTree(set, o, u, root, dirs, allArchs, format, o.id);
      ids.push(built.id);
      tree.graft('', built.tree);
    });
    const filters: Filter[] = format !== 'cpio' || compression === 'none' ? [] : compression === 'gzip' ? ['gzip'] : ['xz-crc32'];
    const out = wrapped(set, tree, format, filters, ids[0]!, env);
    const base = env.outName.slice(env.outName.lastIndexOf('/') + 1);
    const derived: Derived[] = [];
    if (prepared.key) {
      derived.push(signature(prepared.key, out.path, env.epoch));
      env.warn(`suse: ${base}.asc: linuxrc checks it against its own keyring (/installkey.gpg, SUSE's keys): a signature by another key ends the installation ("Invalid signature") unless booted with insecure=1; Agama ignores it`);
    }
    const notes: string[] = [];
    if (updates.some((u) => u.installer === 'yast')) notes.push(`linuxrc/YaST: boot with dud=<url of ${base}> (dud=disk:/${base}, dud=https://…), or put it into the installation repository as driverupdate${format === 'cpio' ? `, or append it to the initrd (cat initrd ${base} > initrd.new)` : ''}`);
    if (updates.some((u) => u.installer === 'agama')) notes.push(`Agama: boot with inst.dud=<url of ${base}>${format === 'cpio' ? `, or append it to the initrd (cat initrd ${base} > initrd.new)` : ''}`);
    return { tree: out.tree, medium: { kind: 'file', path: out.path }, derived, notes, decisions: decisionsOf(set, o, updates, real, format, compression, prepared) };
  },
});

/** What `build -v` says: each update's installer and dists, each arch's module build, each RPM's place, the wrapping. */
function decisionsOf(set: DriverSet, o: Options, updates: Update[], arches: string[], format: Format, compression: string, prepared: Prepared): string[] {
  const out = [`format ${format}${format === 'cpio' ? `, ${compression}` : ''}: ${o.format ? 'format: gives it' : 'from the output name'}`];
  for (const u of updates) out.push(`update for ${u.installer === 'yast' ? 'linuxrc/YaST' : 'Agama'} (${o.installer ? 'installer: gives it' : 'the dists name it'}): dists ${u.dists.join(', ')}, products ${u.products.join(', ')}`);
  for (const arch of arches) {
    const build = buildFor(set, o, arch);
    if (build) out.push(`${arch}: modules/ ${build.modules.map((m) => m.facts.name).join(', ')} from the ${build.kernelRelease} build: ${o.kernel !== undefined ? 'kernel: names it' : `the one ${arch} build`}`);
  }
  for (const r of set.rpms.filter((g) => !g.pkg.isSource)) {
    const kernels = [...new Set(r.pkg.files.map((f) => /^\/?lib\/modules\/([^/]+)\//.exec(f.path)?.[1]).filter((k) => k !== undefined))];
    const where = [o.install ? 'install/ (installed on the target)' : '', prepared.payloads.has(r) ? 'inst-sys/ (unpacked into the installer)' : ''].filter(Boolean).join(' and ') || 'nowhere (install: false, instsys: false)';
    out.push(`${r.fileName}: given, ${r.pkg.arch === 'noarch' ? 'noarch: every arch' : `arch ${suseArch(r.pkg.arch)}`}; ${where}${kernels.length ? `; its modules are for kernel ${kernels.join(', ')}` : ''}`);
  }
  return out;
}
