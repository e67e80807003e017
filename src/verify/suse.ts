/**
 * `verify` for SUSE driver updates (`suse-dud.md` §11.6, §12 checks 1–8, 11, 12): the update tree
 * read the way linuxrc and Agama read it — which `<arch>-<dist>` directory each takes, `dud.config`
 * parsed as linuxrc parses it, the modules, `module.order`, `install/` and `inst-sys/` — plus the
 * wrapping's own rules (cpio format, compression, tar magic), found by the reader that unpacked it.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { Findings } from '../findings.js';
import { openRpm } from '../formats/rpm/read.js';
import { moduleFromBytes } from '../inputs/ko.js';
import type { MediumFile, OpenedMedium } from '../media/medium.js';
import {
  byteOrder, installerOfDir, KNOWN_DIST_DIR, mapDist, MAX_CONFIG_LINE, moduleLoadOrder, parseDudConfig, SUSE_ARCHES, suseArch, UPDATE_ID_RE, type Installer,
} from '../rules/suse.js';
import { readPublicKeys, verifyArmoredDetached, verifyInline } from '../sign/verify.js';
import { ReadBudget } from '../tree/bounded.js';
import { readSource } from '../tree/source.js';

/** How the update file is wrapped, as the reader found it. */
export interface SuseWrapping {
  form: 'cpio' | 'iso' | 'rpm' | 'tar' | 'directory';
  compression: 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';
  /** cpio: the members' magics; tar: `ustar\0` (POSIX) or `ustar  \0` (GNU). */
  magic?: string[];
  /** xz: the stream's check (CRC32, CRC64, SHA-256, none). */
  xzCheck?: string;
  /** cpio/tar: members not owned by 0:0, names with `./` or `/`, whether `.` comes first. */
  notRoot?: number;
  dotSlash?: number;
  dotFirst?: boolean;
  /** Inside a `gpg --sign` message (linuxrc unwraps it; Agama cannot read it). */
  inlineSigned?: boolean;
  /** ISO: volume and application id. */
  volumeId?: string;
  application?: string;
}

export interface SuseModule {
  file: string;
  name?: string;
  vermagic?: string;
  version?: string;
  depends: string[];
  arch?: string;
}

export interface SuseDir {
  /** `<arch>-<dist>` */
  name: string;
  arch: string;
  dist: string;
  config: { key: string; value: string }[];
  id?: string;
  installer?: string;
  updateNames: string[];
  modules: SuseModule[];
  moduleOrder?: string[];
  install: { file: string; nevra?: string }[];
  instsys: string[];
  links: string[];
}

export interface SuseUpdate {
  /** `NN` or '' for an unprefixed tree. */
  prefix: string;
  dirs: SuseDir[];
  /** Entries of `linux/suse/` that are neither a directory nor a link to one. */
  broken: string[];
}

export interface SuseDetails {
  wrapping: SuseWrapping;
  updates: SuseUpdate[];
  /** With `--dist`: per dist and arch, the directories its installer applies (in order). */
  views: { dist: string; installer: Installer; arch: string; takes: string[] }[];
  signature?: { file: string; ok: boolean; keyId?: string; problem?: string };
}

const MODULE_FILE = /\.ko(\.(xz|gz|zst))?$/;
const ROOT = /^(?:(\d+)\/)?linux\/suse$/;

/** A SUSE update tree on a medium: `linux/suse/` at the root or below a numeric prefix. */
export function holdsSuseUpdate(medium: Pick<OpenedMedium, 'files'>): boolean {
  return medium.files.some((f) => f.type === 'dir' && ROOT.test(f.path));
}

const parent = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const text = async (m: OpenedMedium, p: string) => new TextDecoder().decode(await readSource(m.source(p)));

/** What a link in `linux/suse/` points to, resolved one step (the spec's links are one step). */
function resolveLink(root: string, f: MediumFile, byPath: Map<string, MediumFile>): string | undefined {
  const t = f.target ?? '';
  if (t.startsWith('/') || t.split('/').includes('..')) return undefined;
  let to = `${root}/${t}`;
  for (let i = 0; i < 8; i++) {
    const e = byPath.get(to);
    if (e?.type === 'dir') return to.slice(root.length + 1);
    if (e?.type !== 'symlink' || !e.target || e.target.startsWith('/') || e.target.includes('/')) return undefined;
    to = `${root}/${e.target}`;
  }
  return undefined;
}

async function readDir(medium: OpenedMedium, root: string, name: string, findings: Findings, kernels: readonly string[]): Promise<SuseDir> {
  const at = `${root}/${name}`;
  const dash = name.indexOf('-');
  const dir: SuseDir = { name, arch: name.slice(0, dash), dist: name.slice(dash + 1), config: [], updateNames: [], modules: [], install: [], instsys: [], links: [] };
  const subject = at;
  if (dash < 1 || !(SUSE_ARCHES as readonly string[]).includes(dir.arch)) findings.warning('SUSE_DIR_NAME', subject, `${name}: not <arch>-<dist> with a SUSE arch (${SUSE_ARCHES.join(', ')}); no installer takes it`);
  else if (!KNOWN_DIST_DIR.test(dir.dist)) findings.warning('SUSE_DIR_NAME', subject, `dist ${dir.dist} is no dist name of linuxrc or Agama mkdud knows; an installer takes the directory only when its own dist is exactly that`);

  // dud.config, as linuxrc reads it
  if (medium.get(`${at}/dud.config`)?.type === 'file') {
    const raw = await text(medium, `${at}/dud.config`);
    const lines = parseDudConfig(raw);
    dir.config = lines.map(({ key, value }) => ({ key, value }));
    for (const l of lines) {
      if (l.tooLong) findings.error('SUSE_CONFIG_LINE', `${at}/dud.config`, `line ${l.line} is longer than ${MAX_CONFIG_LINE} bytes: linuxrc reads it in 1024-byte pieces and takes the rest as another line`);
    }
    raw.split('\n').forEach((line, i) => {
      if (line !== '' && !line.startsWith('#') && !/^[A-Za-z][A-Za-z0-9_.-]*:\t.*$/.test(line)) findings.info('SUSE_CONFIG_SYNTAX', `${at}/dud.config`, `line ${i + 1} is not Key:<TAB>value (linuxrc still reads it; mkdud --show may not)`);
    });
    const of = (k: string) => lines.filter((l) => l.key.toLowerCase() === k);
    const ids = of('updateid');
    dir.id = ids[0]?.value;
    if (ids.length !== 1) findings.error('SUSE_UPDATE_ID', `${at}/dud.config`, ids.length === 0 ? 'no UpdateID: linuxrc cannot tell this update from others' : `${ids.length} UpdateID lines`);
    else if (lines[0]?.key.toLowerCase() !== 'updateid') findings.warning('SUSE_UPDATE_ID', `${at}/dud.config`, 'UpdateID is not the first key (mkdud writes it first)');
    if (dir.id !== undefined && !UPDATE_ID_RE.test(dir.id)) findings.warning('SUSE_UPDATE_ID', `${at}/dud.config`, `UpdateID ${dir.id} is neither a UUID nor 16 or more hex digits`);
    dir.updateNames = of('updatename').map((l) => l.value);
    if (dir.updateNames.length === 0) findings.warning('SUSE_NO_NAME', `${at}/dud.config`, 'no UpdateName: linuxrc shows the update without a name');
    dir.installer = of('updateinstaller')[0]?.value;
    if (dir.installer !== undefined && dir.installer !== 'yast' && dir.installer !== 'agama') findings.warning('SUSE_INSTALLER', `${at}/dud.config`, `UpdateInstaller ${dir.installer} is neither yast nor agama`);
    else if (dir.installer !== undefined && KNOWN_DIST_DIR.test(dir.dist) && dir.installer !== installerOfDir(dir.dist)) findings.warning('SUSE_INSTALLER', `${at}/dud.config`, `UpdateInstaller ${dir.installer}, but ${dir.dist} is read by ${installerOfDir(dir.dist)}`);
  } else findings.warning('SUSE_NO_CONFIG', subject, 'no dud.config: linuxrc applies the files but the update has no ID or name');

  // modules/
  const budget = new ReadBudget();
  const names = new Map<string, string>();
  for (const f of medium.files.filter((x) => parent(x.path) === `${at}/modules` && x.type === 'file').sort((a, b) => byteOrder(a.path, b.path))) {
    const file = f.path.slice(at.length + 9);
    if (file === 'module.order' || file === 'module.config' || file === 'hd.ids') continue;
    if (!MODULE_FILE.test(file)) {
      findings.warning('SUSE_MODULE_FILE', f.path, 'not a .ko, .ko.xz, .ko.gz or .ko.zst file: neither installer loads it');
      continue;
    }
    const m: SuseModule = { file, depends: [] };
    dir.modules.push(m);
    try {
      const { file: info } = await moduleFromBytes(await readSource(medium.source(f.path)), f.path, undefined, budget);
      Object.assign(m, { name: info.name, vermagic: info.vermagic, depends: info.depends, arch: info.arch, ...(info.version ? { version: info.version } : {}) });
    } catch (err) {
      findings.error('MODULE_INVALID', f.path, (err as Error).message);
      continue;
    }
    const clash = names.get(m.name!);
    if (clash) findings.error('SUSE_MODULE_DUPLICATE', f.path, `module ${m.name} is also ${clash}: linuxrc takes one by its preference (.ko.xz, .ko.gz, .ko.zst, .ko), Agama copies both`);
    names.set(m.name!, file);
    if (m.arch && (SUSE_ARCHES as readonly string[]).includes(dir.arch) && suseArch(m.arch) !== dir.arch) findings.error('SUSE_MODULE_ARCH', f.path, `an ${m.arch} module in an ${dir.arch} directory: it does not load`);
    const release = m.vermagic?.split(' ')[0] ?? '';
    if (kernels.length > 0 && !kernels.some((k) => m.vermagic?.startsWith(`${k} `))) findings.error('VERMAGIC_RELEASE', f.path, `built for ${release} (vermagic), not for ${kernels.join(' or ')}: the installer kernel refuses it`);
  }
  if (medium.get(`${at}/modules/module.order`)?.type === 'file') {
    const raw = await text(medium, `${at}/modules/module.order`);
    dir.moduleOrder = raw.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    if (raw !== '' && !raw.endsWith('\n')) findings.error('SUSE_MODULE_ORDER', `${at}/modules/module.order`, 'does not end with a line feed: Agama appends it to modules-load.d and joins its last line with the next');
    const seen = new Set<string>();
    for (const n of dir.moduleOrder) {
      if (!names.has(n)) findings.error('SUSE_MODULE_ORDER', `${at}/modules/module.order`, `lists ${JSON.stringify(n)}, which is no module in modules/`);
      if (seen.has(n)) findings.error('SUSE_MODULE_ORDER', `${at}/modules/module.order`, `lists ${n} twice`);
      seen.add(n);
    }
    for (const n of names.keys()) if (!seen.has(n)) findings.warning('SUSE_MODULE_ORDER', `${at}/modules/module.order`, `does not list ${n}: linuxrc does not reload it`);
    for (const m of dir.modules) {
      for (const d of m.depends) {
        if (names.has(d) && m.name && dir.moduleOrder.indexOf(d) > dir.moduleOrder.indexOf(m.name)) findings.error('SUSE_MODULE_ORDER', `${at}/modules/module.order`, `${m.name} depends on ${d}, listed after it: linuxrc loads them in this order`);
      }
    }
  } else if (dir.modules.length > 0) {
    const order = moduleLoadOrder(new Map(dir.modules.filter((m) => m.name).map((m) => [m.name!, m.depends])));
    findings.warning('SUSE_MODULE_ORDER', `${at}/modules`, `no module.order: linuxrc loads the modules in directory order${'order' in order ? ` (dependencies first would be: ${order.order.join(', ')})` : ''}`);
  }

  // install/ and inst-sys/
  for (const f of medium.files.filter((x) => parent(x.path) === `${at}/install` && x.type === 'file' && x.path.endsWith('.rpm'))) {
    const file = f.path.slice(at.length + 9);
    const entry: SuseDir['install'][number] = { file };
    dir.install.push(entry);
    try {
      const l = medium.locate(f.path);
      const pkg = await openRpm(l.file, { offset: l.offset, size: l.size });
      entry.nevra = `${pkg.name}-${pkg.version}-${pkg.release}.${pkg.arch}`;
      if (`${entry.nevra}.rpm` !== file) findings.info('SUSE_RPM_NAME', f.path, `the package is ${entry.nevra}; mkdud names it ${entry.nevra}.rpm`);
    } catch (err) {
      findings.error('RPM_UNREADABLE', f.path, (err as Error).message);
    }
  }
  dir.instsys = medium.files.filter((x) => x.path.startsWith(`${at}/inst-sys/`) && x.type !== 'dir').map((x) => x.path.slice(at.length + 10)).sort(byteOrder);
  for (const u of dir.instsys.filter((p) => /^\.update\.[^/]+$/.test(p))) {
    if (dir.id !== undefined && u !== `.update.${dir.id}`) findings.warning('SUSE_UPDATE_ID', `${at}/inst-sys/${u}`, `named for another UpdateID than dud.config's ${dir.id}`);
  }
  return dir;
}

async function readUpdates(medium: OpenedMedium, findings: Findings, kernels: readonly string[]): Promise<SuseUpdate[]> {
  const byPath = new Map(medium.files.map((f) => [f.path, f]));
  const roots = medium.files.filter((f) => f.type === 'dir' && ROOT.test(f.path)).sort((a, b) => byteOrder(a.path, b.path));
  // linuxrc: the unprefixed tree first, then the prefixes in numeric order
  roots.sort((a, b) => (Number(ROOT.exec(a.path)![1] ?? -1) - Number(ROOT.exec(b.path)![1] ?? -1)));
  const updates: SuseUpdate[] = [];
  for (const root of roots) {
    const u: SuseUpdate = { prefix: ROOT.exec(root.path)![1] ?? '', dirs: [], broken: [] };
    const children = medium.files.filter((f) => parent(f.path) === root.path).sort((a, b) => byteOrder(a.path, b.path));
    const links: [string, string][] = [];
    for (const c of children) {
      const name = c.path.slice(root.path.length + 1);
      if (c.type === 'dir') u.dirs.push(await readDir(medium, root.path, name, findings, kernels));
      else if (c.type === 'symlink') {
        const to = resolveLink(root.path, c, byPath);
        if (to === undefined) {
          u.broken.push(name);
          findings.error('SUSE_LINK', c.path, `links to ${c.target ?? '?'}, which is no directory beside it (absolute, outside linux/suse/ or dangling): the installer finds nothing there`);
        } else links.push([name, to]);
      } else {
        u.broken.push(name);
        findings.warning('SUSE_DIR_NAME', c.path, 'a file in linux/suse/: no installer reads it');
      }
    }
    for (const [name, to] of links) u.dirs.find((d) => d.name === to)?.links.push(name);
    const ids = new Set(u.dirs.map((d) => d.id).filter((x) => x !== undefined));
    if (ids.size > 1) findings.warning('SUSE_UPDATE_ID', root.path, `its directories carry ${ids.size} UpdateIDs; mkdud gives one update one ID`);
    updates.push(u);
  }
  const seen = new Map<string, string>();
  for (const u of updates) {
    const id = u.dirs[0]?.id;
    if (id === undefined) continue;
    if (seen.has(id)) findings.error('SUSE_UPDATE_ID', u.prefix || 'linux/suse', `has the UpdateID of ${seen.get(id) || 'linux/suse'}: linuxrc skips an update whose ID it has loaded already`);
    seen.set(id, u.prefix);
  }
  return updates;
}

/**
 * The dist directory names a `--dist` value stands for: a directory name, mkdud's values, or
 * Agama's `<ID><VERSION_ID>` from os-release, whose 8-digit date (Tumbleweed, Slowroll) Agama drops.
 */
function distNames(value: string): string[] {
  const undated = /^(opensuse-(tumbleweed|slowroll))\d{8}$/.exec(value)?.[1];
  if (undated) return [undated];
  if (KNOWN_DIST_DIR.test(value)) return [value];
  const m = mapDist(value, 'yast') ?? mapDist(value, 'agama');
  return m?.dirs.length ? m.dirs : [value];
}

/** Which directories each installer applies for a dist (§1, §12 check 12). */
function views(updates: SuseUpdate[], dists: readonly string[], findings: Findings): SuseDetails['views'] {
  const out: SuseDetails['views'] = [];
  const arches = [...new Set(updates.flatMap((u) => u.dirs.flatMap((d) => [d.arch, ...d.links.map((l) => l.slice(0, l.indexOf('-')))])))].filter((a) => (SUSE_ARCHES as readonly string[]).includes(a)).sort(byteOrder);
  for (const value of dists) {
    for (const dist of distNames(value)) {
      const installer = installerOfDir(dist);
      for (const arch of arches) {
        const takes: string[] = [];
        for (const u of updates) {
          const root = u.prefix ? `${u.prefix}/linux/suse` : 'linux/suse';
          const hit = u.dirs.find((d) => d.name === `${arch}-${dist}` || d.links.includes(`${arch}-${dist}`));
          if (hit) takes.push(`${root}/${arch}-${dist}${hit.name !== `${arch}-${dist}` ? ` -> ${hit.name}` : ''}`);
        }
        out.push({ dist, installer, arch, takes });
        if (takes.length === 0) findings.error('SUSE_NO_DIR', `${arch}-${dist}`, `${installer === 'yast' ? 'linuxrc' : 'Agama'} on ${arch} ${dist} looks for linux/suse/${arch}-${dist} and finds none: it ignores the update`);
        else if (installer === 'agama' && updates.flatMap((u) => u.dirs).find((d) => d.name === `${arch}-${dist}` || d.links.includes(`${arch}-${dist}`))?.modules.length === 0) findings.info('SUSE_NO_MODULES', `${arch}-${dist}`, 'Agama takes the directory, but it holds no modules');
      }
    }
  }
  return out;
}

/** The wrapping's rules: which of linuxrc and Agama read the file at all (§1 table, §12 checks 1–2). */
function wrappingFindings(w: SuseWrapping, updates: SuseUpdate[], findings: Findings): void {
  const agama = updates.some((u) => u.dirs.some((d) => KNOWN_DIST_DIR.test(d.dist) && installerOfDir(d.dist) === 'agama'));
  const yast = updates.some((u) => u.dirs.some((d) => !KNOWN_DIST_DIR.test(d.dist) || installerOfDir(d.dist) === 'yast'));
  if (w.form === 'cpio') {
    const bad = (w.magic ?? []).filter((m) => m !== '070701' && m !== 'c771');
    if (bad.length > 0 && yast) findings.error('SUSE_CPIO_FORMAT', '', `cpio members with magic ${[...new Set(bad)].join(', ')}: linuxrc reads only newc (070701) and the old binary format`);
    if ((w.compression === 'zstd' || w.compression === 'bzip2') && yast) findings.error('SUSE_COMPRESSION', '', `${w.compression}-compressed: linuxrc reads gzip and xz only (Agama reads it)`);
    if (w.compression === 'xz' && w.xzCheck && w.xzCheck !== 'CRC32') findings.warning('SUSE_XZ_CHECK', '', `xz with the ${w.xzCheck} check: appended to an initrd, the kernel's xz decoder (CRC32 only) refuses it`);
    if (w.dotSlash) findings.warning('SUSE_CPIO_NAMES', '', `${w.dotSlash} member names start with ./ or /`);
    if (w.dotFirst === false) findings.info('SUSE_CPIO_NAMES', '', 'the first member is not "." (mkdud\'s archives start with it)');
  }
  if (w.form === 'tar' && w.magic?.some((m) => m !== 'ustar\0') && yast) findings.error('SUSE_TAR_GNU', '', 'GNU tar (magic "ustar  "): linuxrc recognises only POSIX tar (ustar\\0) and ignores the file; Agama reads it');
  if (w.inlineSigned && agama) findings.error('SUSE_INLINE_SIGNED', '', 'inline-signed (gpg --sign): Agama cannot unpack it; ship the update with a detached .asc');
  if (w.form === 'rpm' && agama) findings.error('SUSE_RPM_AGAMA', '', 'an RPM wrapping with Agama directories: Agama copies the RPM\'s files onto its root and never looks at linux/suse/');
  if (w.notRoot) findings.warning('SUSE_OWNER', '', `${w.notRoot} members are not owned by root (0:0): the installer keeps those owners`);
}

export async function verifySuse(medium: OpenedMedium, wrapping: SuseWrapping, env: { kernels: readonly string[]; dists?: readonly string[]; key?: string; file?: string }): Promise<{ findings: Findings; details: SuseDetails }> {
  const findings = new Findings();
  const updates = await readUpdates(medium, findings, env.kernels);
  if (updates.every((u) => u.dirs.length === 0)) findings.error('SUSE_NO_DIR', 'linux/suse', 'no <arch>-<dist> directory: nothing to apply');
  wrappingFindings(wrapping, updates, findings);
  const details: SuseDetails = { wrapping, updates, views: views(updates, env.dists ?? [], findings) };
  if (env.key && env.file && wrapping.inlineSigned) {
    const keys = await readPublicKeys(env.key);
    const r = await verifyInline(env.file, keys);
    details.signature = { file: env.file, ok: r.ok, ...(r.keyId ? { keyId: r.keyId } : {}), ...(r.problem ? { problem: r.problem } : {}) };
    if (!r.ok) findings.error('SUSE_SIGNATURE', env.file, `${r.problem ?? 'bad signature'}: linuxrc aborts the installation ("Invalid signature")`);
  } else if (env.key && env.file) {
    const asc = `${env.file}.asc`;
    const sig = await readFile(asc, 'latin1').catch(() => undefined);
    if (sig === undefined) {
      findings.error('SUSE_SIGNATURE', asc, 'no detached signature beside the update: linuxrc asks whether to continue unsigned');
      details.signature = { file: asc, ok: false, problem: 'missing' };
    } else {
      const keys = await readPublicKeys(env.key);
      const r = await verifyArmoredDetached(sig, Readable.toWeb(createReadStream(env.file)) as ReadableStream<Uint8Array>, keys);
      details.signature = { file: asc, ok: r.ok, ...(r.keyId ? { keyId: r.keyId } : {}), ...(r.problem ? { problem: r.problem } : {}) };
      if (!r.ok) findings.error('SUSE_SIGNATURE', asc, `${r.problem ?? 'bad signature'}: linuxrc aborts the installation ("Invalid signature")`);
    }
  }
  return { findings, details };
}

export function suseText(name: string, d: SuseDetails): string {
  const w = d.wrapping;
  const lines = [`SUSE driver update ${name}: ${w.form}${w.compression !== 'none' ? ` (${w.compression}${w.xzCheck ? `, check ${w.xzCheck}` : ''})` : ''}${w.volumeId ? `, volume id ${w.volumeId}` : ''}${w.application ? `, application id ${w.application}` : ''}, ${d.updates.length} update(s)`];
  for (const u of d.updates) {
    lines.push(`update ${u.prefix ? `${u.prefix}/` : ''}linux/suse/`);
    for (const dir of u.dirs) {
      lines.push(`  ${dir.name}/${dir.links.length ? ` (also ${dir.links.join(', ')})` : ''}`);
      for (const c of dir.config) lines.push(`    ${c.key}: ${c.value.replace(/\t/g, ' | ')}`);
      for (const m of dir.modules) lines.push(`    modules/${m.file}: ${m.name ?? '?'} ${m.version ?? ''} (${m.vermagic?.split(' ')[0] ?? 'unreadable'}, ${m.arch ?? '?'})${m.depends.length ? ` depends ${m.depends.join(',')}` : ''}`);
      if (dir.moduleOrder) lines.push(`    module.order: ${dir.moduleOrder.join(' ')}`);
      for (const i of dir.install) lines.push(`    install/${i.file}${i.nevra ? ` (${i.nevra})` : ''}`);
      if (dir.instsys.length) lines.push(`    inst-sys/: ${dir.instsys.length} file(s): ${dir.instsys.slice(0, 8).join(', ')}${dir.instsys.length > 8 ? ', …' : ''}`);
    }
  }
  for (const v of d.views) lines.push(`${v.installer === 'yast' ? 'linuxrc' : 'Agama'} on ${v.arch} ${v.dist}: ${v.takes.length ? `applies ${v.takes.join(', ')}` : 'takes nothing'}`);
  if (d.signature) lines.push(`signature ${d.signature.file}: ${d.signature.ok ? `good (key ${d.signature.keyId})` : d.signature.problem}`);
  return lines.join('\n');
}
