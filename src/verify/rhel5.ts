/**
 * `verify` for RHEL 4/5 driver disks (`rhel5-dud.md` §10): what loader2 reads at the disk's root
 * (`rhdd`, `modinfo`, `modules.dep`, `modules.cgz`, `modules.alias`, `pcitable`), the cgz members
 * it extracts for each kernel, and the optional `rpms/` repo RHEL 5 installs on the target.
 */
import { UserError } from '../errors.js';
import { decompress } from '../formats/compress/index.js';
import { detectCompression } from '../formats/compress/magic.js';
import { readCpio } from '../formats/cpio/index.js';
import { parseModule } from '../formats/elf/index.js';
import { checkRepository } from '../formats/repodata/check.js';
import { openRpm } from '../formats/rpm/read.js';
import type { OpenedMedium } from '../media/medium.js';
import {
  legacyKernel, MEMBER_RE, parseModinfo, parseModulesAlias, parseModulesDep, PCITABLE_LINE, RHEL4_FILES, RHEL5_FILES,
} from '../rules/rhel5.js';
import { vermagicVerdict } from '../rules/vermagic.js';
import { readExactly, ReadBudget, tooLarge } from '../tree/bounded.js';
import { readSource } from '../tree/source.js';
import { Findings } from '../findings.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

export interface Rhel5Member {
  name: string;
  kernel: string;
  arch: string;
  module: string;
  size: number;
  vermagic?: string;
}

export interface Rhel5Details {
  label?: string;
  /** How the installer finds a disk inside another medium (a PXE overlay's dd.img). */
  foundBy?: string;
  title: string;
  serves: ('RHEL 4' | 'RHEL 5')[];
  cpioFormat?: string;
  members: Rhel5Member[];
  modules: { module: string; type?: string; typeClass: string; description?: string }[];
  kernels: { kernel: string; modules: string[] }[];
  packages: { file: string; nevra: string; dud: string[] }[];
}

/** A root `rhdd` file and no rhdd3 tree: the RHEL 4/5 loader's disk. */
export function isRhel5Disk(medium: OpenedMedium): boolean {
  return medium.get('rhdd')?.type === 'file' || plainIsoNames(medium);
}

/** An ISO without Rock Ridge: only 8.3 names (`MODULES.ALI`), which Linux shows in lower case. */
function plainIsoNames(medium: OpenedMedium): boolean {
  return medium.kind === 'iso' && medium.get('RHDD')?.type === 'file';
}

async function text(medium: OpenedMedium, path: string): Promise<string> {
  return new TextDecoder().decode(await readSource(medium.source(path)));
}

async function firstBytes(medium: OpenedMedium, path: string): Promise<Uint8Array> {
  for await (const c of medium.source(path).open()) return c.subarray(0, 6);
  return new Uint8Array(0);
}

/** Read modules.cgz as the loader's uncpio does, checking every member's module. */
async function checkCgz(medium: OpenedMedium, f: Findings, d: Rhel5Details): Promise<void> {
  const at = 'modules.cgz';
  if (detectCompression(await firstBytes(medium, at)) !== 'gzip') {
    f.error('RHEL5_CGZ_NOT_GZIP', at, 'is not gzip-compressed: the loader gunzips it');
    return;
  }
  try {
    for await (const { entry, data } of readCpio(decompress(medium.source(at).open(), 'gzip'))) {
      d.cpioFormat ??= entry.format;
      if (entry.format === 'odc') {
        f.error('RHEL5_CGZ_ODC', at, 'is an odc cpio (070707): the loader reads only newc (070701) and crc (070702)');
        return;
      }
      if ((entry.mode & S_IFMT) !== S_IFREG) {
        if ((entry.mode & S_IFMT) !== 0o040000) f.warning('RHEL5_CGZ_NOT_FILE', at, `${entry.name} is not a regular file`);
        continue;
      }
      if (!MEMBER_RE.test(entry.name)) {
        f.error('RHEL5_CGZ_MEMBER_NAME', at, `member ${entry.name} is not <uname -r>/<arch>/<module>.ko${/^\.?\//.test(entry.name) ? ' (a leading "./" or "/" makes every lookup fail)' : ''}`);
        continue;
      }
      const [kernel, arch, file] = entry.name.split('/') as [string, string, string];
      const member: Rhel5Member = { name: entry.name, kernel, arch, module: file.slice(0, -3), size: entry.size };
      const bytes = await readExactly(data, entry.size, new ReadBudget(), entry.name);
      try {
        const info = parseModule(bytes, file);
        member.vermagic = info.vermagic;
        // the kernel's rule, the same build applies (rules/vermagic.ts)
        const verdict = vermagicVerdict(info, kernel);
        if (verdict) f[verdict.severity]('VERMAGIC_RELEASE', at, `${entry.name}: ${verdict.message}`);
        if (info.arch !== arch) f.warning('RHEL5_MODULE_ARCH', at, `${entry.name}: an ${info.arch} module in the ${arch} folder`);
      } catch (err) {
        f.error('MODULE_INVALID', at, `${entry.name}: not a kernel module (${(err as Error).message})`);
      }
      d.members.push(member);
    }
  } catch (err) {
    // a dudkit limit, not a defect of the medium: no finding, but an error naming the file
    const limit = tooLarge(err);
    if (limit) throw new UserError(`${at}: ${limit.message}`, medium.path);
    f.error('RHEL5_CGZ_UNREADABLE', at, `cannot be read (${(err as Error).message}): the loader extracts nothing from it`);
  }
  if (d.members.length === 0) f.error('RHEL5_CGZ_EMPTY', at, 'holds no module');
}

/** rpms/: one repo at rpms/, sha1 repodata, rpm 4.4-readable packages providing dud-<module>[-<variant>]. */
async function checkRpms(medium: OpenedMedium, f: Findings, d: Rhel5Details, modules: Set<string>): Promise<void> {
  const rpmFiles = medium.files.filter((x) => x.type === 'file' && x.path.startsWith('rpms/') && x.path.endsWith('.rpm'));
  const repo = await checkRepository(async (p) => (medium.get(`rpms/${p}`)?.type === 'file' ? medium.source(`rpms/${p}`) : undefined), rpmFiles.map((x) => x.path.slice('rpms/'.length)));
  for (const p of repo.problems) f.error('REPODATA_PROBLEM', 'rpms', `${p} (yum fails on the target)`);
  for (const x of repo.repomd?.data ?? []) {
    if (x.checksum.type !== 'sha1' && x.checksum.type !== 'sha') f.warning('RHEL5_REPOMD_CHECKSUM_TYPE', 'rpms/repodata/repomd.xml', `${x.type} checksum is ${x.checksum.type}: RHEL 5's yum expects sha1`);
  }
  for (const file of rpmFiles.map((x) => x.path)) {
    if (file.slice(5).includes('/')) f.warning('RHEL5_RPM_SUBFOLDER', file, 'is in a subfolder of rpms/ (one repo at rpms/, not per arch)');
    try {
      const loc = medium.locate(file);
      const pkg = await openRpm(loc.file, loc);
      const dud = pkg.provides.map((p) => p.name).filter((n) => n.startsWith('dud-'));
      d.packages.push({ file, nevra: pkg.nevra, dud });
      if (pkg.payloadCompressor !== 'gzip') f.error('RHEL5_RPM_PAYLOAD', file, `payload compressed with ${pkg.payloadCompressor}: RHEL 5's rpm 4.4 reads only gzip`);
      if (pkg.fileDigestAlgo.name !== 'md5') f.error('RHEL5_RPM_DIGESTS', file, `file digests are ${pkg.fileDigestAlgo.name}: RHEL 5's rpm 4.4 knows only MD5`);
      for (const r of pkg.requires.map((x) => x.name).filter((n) => n === 'rpmlib(FileDigests)' || n === 'rpmlib(PayloadIsXz)')) f.error('RHEL5_RPM_RPMLIB', file, `requires ${r}: RHEL 5's rpm 4.4 cannot install it`);
      for (const cap of dud) {
        const m = /^dud-(.+?)(?:-(PAE|xen|smp|hugemem|largesmp))?$/.exec(cap);
        if (m && !modules.has(m[1]!)) f.warning('RHEL5_DUD_PROVIDES', file, `provides ${cap}, but ${m[1]} is not in modules.cgz`);
      }
    } catch (err) {
      f.error('RPM_UNREADABLE', file, (err as Error).message);
    }
  }
}

export async function verifyRhel5(medium: OpenedMedium, asked: string[], foundBy?: string): Promise<{ findings: Findings; details: Rhel5Details }> {
  const f = new Findings();
  const d: Rhel5Details = { ...(medium.label !== undefined ? { label: medium.label } : {}), ...(foundBy !== undefined ? { foundBy } : {}), title: '', serves: [], members: [], modules: [], kernels: [], packages: [] };
  if (foundBy !== undefined) f.info('FOUND_THROUGH_OUTER', '', `found through ${foundBy}, not by its own volume label`);
  else if (medium.label === 'OEMDRV') f.info('LABEL_OEMDRV', '', 'volume label OEMDRV: RHEL 4/5 find the disk by themselves (rebuilds need dlabel=on)');
  else if (medium.label !== undefined) f.info('LABEL_OTHER', '', `volume label ${medium.label}: RHEL 4/5 look only for OEMDRV; boot with dd (the loader asks for the disk's device) or dd=cdrom`);
  if (plainIsoNames(medium)) {
    f.error('RHEL5_NO_ROCK_RIDGE', '', `ISO without Rock Ridge: the loader sees 8.3 names (${medium.files.map((x) => x.path.toLowerCase()).join(', ')}), so modules.alias is missing and RHEL 5 rejects the disk`);
    return { findings: f, details: d };
  }
  const has = (p: string) => medium.get(p)?.type === 'file';
  await checkRootFiles(medium, f, d);
  const names = has('modinfo') ? await checkModinfo(medium, f, d) : new Set<string>();
  if (has('modules.cgz')) await checkCgz(medium, f, d);
  const inCgz = new Set(d.members.map((m) => m.module));
  for (const m of inCgz) if (has('modinfo') && !names.has(m)) f.error('RHEL5_MODINFO_NO_BLOCK', 'modinfo', `has no block for ${m}: the loader never takes it from this disk`);
  for (const m of names) if (has('modules.cgz') && !inCgz.has(m)) f.error('RHEL5_CGZ_NO_MEMBER', 'modules.cgz', `has no member for ${m}, which modinfo lists: loading it fails`);
  if (has('modules.dep')) await checkModulesDep(medium, f, inCgz);
  if (has('modules.alias')) await checkModulesAlias(medium, f, inCgz);
  if (has('pcitable')) await checkPcitable(medium, f);
  checkKernels(d, asked, names, f);
  if (medium.get('rpms')?.type === 'dir') await checkRpms(medium, f, d, inCgz);
  return { findings: f, details: d };
}

/** Which releases read the disk (the files each needs at the root), and its `rhdd` title. */
async function checkRootFiles(medium: OpenedMedium, f: Findings, d: Rhel5Details): Promise<void> {
  const has = (p: string) => medium.get(p)?.type === 'file';
  const rhel5 = RHEL5_FILES.filter((p) => !has(p));
  const rhel4 = RHEL4_FILES.filter((p) => !has(p));
  if (rhel5.length === 0) d.serves.push('RHEL 5');
  if (rhel4.length === 0) d.serves.push('RHEL 4');
  const iso = medium.kind === 'iso' ? ' (an ISO without Rock Ridge loses names that are not 8.3)' : '';
  if (d.serves.length === 0) f.error('RHEL5_FILES_MISSING', '', `missing ${[...new Set([...rhel5, ...rhel4])].join(', ')}: both RHEL 4 and RHEL 5 reject the disk${iso}`);
  else if (rhel4.length > 0) f.info('RHEL5_NO_RHEL4_FILES', '', `no ${rhel4.join(', ')}: RHEL 4 rejects the disk`);
  else if (rhel5.length > 0) f.warning('RHEL5_NO_RHEL5_FILES', '', `no ${rhel5.join(', ')}: RHEL 5 rejects the disk${iso}`);
  if (has('rhdd')) {
    d.title = (await text(medium, 'rhdd')).replace(/\n$/, '');
    if (medium.get('rhdd')!.size === 0) f.error('RHEL5_RHDD_EMPTY', 'rhdd', 'is empty: the loader rejects the disk');
  }
}

/** modinfo as loader2's `readModuleInfo()` reads it; the module names it lists. */
async function checkModinfo(medium: OpenedMedium, f: Findings, d: Rhel5Details): Promise<Set<string>> {
  const names = new Set<string>();
  const parsed = parseModinfo(await text(medium, 'modinfo'));
  for (const p of parsed.problems) f[p.severity](p.code, 'modinfo', p.message);
  for (const b of parsed.blocks) {
    names.add(b.module);
    d.modules.push({ module: b.module, ...(b.type !== undefined ? { type: b.type } : {}), typeClass: b.typeClass, ...(b.description !== undefined ? { description: b.description } : {}) });
    if (b.description === undefined) f.warning('RHEL5_MODINFO_DESCRIPTION', 'modinfo', `${b.module} has no quoted description line`);
  }
  return names;
}

async function checkModulesDep(medium: OpenedMedium, f: Findings, inCgz: Set<string>): Promise<void> {
  const dep = parseModulesDep(await text(medium, 'modules.dep'));
  for (const p of dep.problems) f[p.severity](p.code, 'modules.dep', p.message);
  for (const [m, list] of dep.deps) for (const x of list) if (!inCgz.has(x)) f.info('RHEL5_DEP_OUTSIDE', 'modules.dep', `${m} needs ${x}, which must be in the installer image`);
}

async function checkModulesAlias(medium: OpenedMedium, f: Findings, inCgz: Set<string>): Promise<void> {
  const al = parseModulesAlias(await text(medium, 'modules.alias'));
  for (const p of al.problems) f.error('RHEL5_MODULES_ALIAS', 'modules.alias', p);
  for (const a of al.aliases) if (!inCgz.has(a.module)) f.error('RHEL5_ALIAS_UNKNOWN', 'modules.alias', `alias ${a.alias} names ${a.module}, which is not in modules.cgz`);
  if (al.aliases.length === 0 && inCgz.size > 0) f.warning('RHEL5_ALIAS_EMPTY', 'modules.alias', 'is empty: no hardware loads the modules by itself');
}

async function checkPcitable(medium: OpenedMedium, f: Findings): Promise<void> {
  const t = await text(medium, 'pcitable');
  if (t.length > 0 && !t.endsWith('\n')) f.warning('RHEL5_PCITABLE_NEWLINE', 'pcitable', 'does not end with a newline');
  for (const line of t.split('\n').filter((l) => l !== '')) if (!PCITABLE_LINE.test(line)) f.error('RHEL5_PCITABLE_LINE', 'pcitable', `line "${line}" is not 0x<vendor>\\t0x<device>[\\t0x<sv>\\t0x<sd>]\\t"<module>"\\t"<description>"`);
}

/** Which kernels get which modules: the members under their uname -r that modinfo names. */
function checkKernels(d: Rhel5Details, asked: string[], names: Set<string>, f: Findings): void {
  const kernels = [...new Set(d.members.map((m) => m.kernel))].sort();
  for (const k of asked.length > 0 ? asked : kernels) {
    const mods = d.members.filter((m) => m.kernel === k && names.has(m.module)).map((m) => `${m.arch}/${m.module}`);
    d.kernels.push({ kernel: k, modules: mods });
    if (mods.length === 0) f.error('RHEL5_NO_MODULE', k, `no module for this kernel: the loader looks up ${k}/<arch>/<module>.ko and finds none${legacyKernel(k) ? '' : ' (not a RHEL 4/5 kernel release)'}`);
  }
}

export function rhel5Text(path: string, d: Rhel5Details): string {
  const found = d.foundBy !== undefined ? `found through ${d.foundBy}` : d.label === 'OEMDRV' ? 'found automatically' : d.label !== undefined ? 'boot with dd or dd=cdrom' : undefined;
  const how = [d.label !== undefined ? `label ${d.label}` : undefined, found].filter((x) => x !== undefined).join(', ');
  const lines = [`${path}: RHEL 4/5 driver disk "${d.title}"${how ? ` (${how})` : ''}, read by ${d.serves.join(' and ') || 'neither RHEL 4 nor RHEL 5'}`];
  if (d.cpioFormat) lines.push(`modules.cgz: ${d.cpioFormat} cpio, ${d.members.length} member(s)`);
  for (const m of d.modules) lines.push(`  module ${m.module}: ${m.type === m.typeClass ? m.type : `${m.type ?? '?'} (${m.typeClass})`} "${m.description ?? ''}"`);
  for (const k of d.kernels) lines.push(`kernel ${k.kernel}: ${k.modules.length ? k.modules.join(', ') : 'nothing'}`);
  for (const p of d.packages) lines.push(`  ${p.file}: ${p.nevra}${p.dud.length ? `, provides ${p.dud.join(', ')}` : ''}`);
  return lines.join('\n');
}
