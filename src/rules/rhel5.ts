/**
 * The RHEL 4/5 loader's rules for legacy driver disks (`rhel5-dud.md`), as pure functions: the
 * text tables dudkit writes (`modinfo`, `modules.dep`, `modules.alias`, `pcitable`), the cgz
 * member names, kernel variants, and the parsers the loader applies when it reads them back.
 */
import type { FindingCode } from '../findings.js';

/** The first 10 bytes of `modinfo`; anything else and `readModuleInfo()` rejects the file. */
export const MODINFO_MAGIC = 'Version 0\n';

/** Files the loader opens at the disk's root (rule 1). */
export const RHEL5_FILES = ['rhdd', 'modinfo', 'modules.dep', 'modules.cgz', 'modules.alias'] as const;
export const RHEL4_FILES = ['rhdd', 'modinfo', 'modules.dep', 'modules.cgz', 'pcitable'] as const;

/** Member names of modules.cgz "version 1" (acceptance check 4). */
export const MEMBER_RE = /^[0-9][^/]*\/[a-z0-9_]+\/[A-Za-z0-9_-]+\.ko$/;
const MODULE_RE = /^[A-Za-z0-9_-]+$/;

/** The modinfo type words the loader distinguishes (§3); anything else counts as "other". */
export const MODULE_TYPES = ['eth', 'tr', 'plip', 'scsi_hostadapter', 'scsi', 'pcmcia', 'fs', 'cdrom', 'ide', 'other'] as const;
export type ModuleType = (typeof MODULE_TYPES)[number];

/**
 * Kernel variants: the suffix of `uname -r` and of the kernel package name (`kernel-PAE`). A
 * target that installs a variant gets the module only if the cgz has a member for it (rule 5).
 */
export const RHEL5_VARIANTS = ['PAE', 'xen'] as const;
export const RHEL4_VARIANTS = ['smp', 'hugemem', 'largesmp'] as const;
const VARIANTS: readonly string[] = [...RHEL5_VARIANTS, ...RHEL4_VARIANTS];

/** Which variants RHEL 5 ships per arch, to tell the user which builds a complete disk has. */
export const RHEL5_ARCH_VARIANTS: Readonly<Record<string, readonly string[]>> = { i686: ['', 'PAE', 'xen'], x86_64: ['', 'xen'], ia64: ['', 'xen'] };

/** A RHEL 4 (`2.6.9-89.EL`) or RHEL 5 (`2.6.18-398.el5`) release, with an optional variant suffix. */
const LEGACY_RELEASE = /^(2\.6\.\d+-[A-Za-z0-9._]*?\.(?:el5|EL))(PAE|xen|smp|hugemem|largesmp)?$/;

/** `2.6.18-398.el5PAE` → base `2.6.18-398.el5`, variant `PAE`; undefined if not a RHEL 4/5 release. */
export function legacyKernel(release: string): { base: string; variant: string; rhel: 4 | 5 } | undefined {
  const m = LEGACY_RELEASE.exec(release);
  if (!m) return undefined;
  return { base: m[1]!, variant: m[2] ?? '', rhel: m[1]!.endsWith('.EL') ? 4 : 5 };
}

/** The variant of `release` relative to a base release (`''` for the base kernel itself), if any. */
export function variantOf(release: string, base: string): string | undefined {
  if (release === base) return '';
  const suffix = release.startsWith(base) ? release.slice(base.length) : undefined;
  return suffix !== undefined && VARIANTS.includes(suffix) ? suffix : undefined;
}

export function memberName(kernelRelease: string, arch: string, module: string): string {
  return `${kernelRelease}/${arch}/${module}.ko`;
}

/** The yum capability an `rpms/` package provides for a module and kernel variant (§8). */
export function dudCapability(module: string, variant: string): string {
  return variant ? `dud-${module}-${variant}` : `dud-${module}`;
}

// ---------------------------------------------------------------- writing

export interface ModinfoBlock {
  module: string;
  type: ModuleType;
  description: string;
  params: { name: string; help: string }[];
}

/** One line, no double quotes (the loader strips exactly the outer pair). */
function quotable(text: string): string {
  return text.split('\n')[0]!.replace(/"/g, "'").replace(/\s+/g, ' ').trim();
}

/** `Version 0`, then per module: name, TAB type, TAB "description", TAB param "help"; ends with LF. */
export function modinfoText(blocks: readonly ModinfoBlock[]): string {
  let s = MODINFO_MAGIC;
  for (const b of blocks) {
    s += `${b.module}\n\t${b.type}\n\t"${quotable(b.description)}"\n`;
    for (const p of b.params) if (MODULE_RE.test(p.name)) s += `\t${p.name} "${quotable(p.help)}"\n`;
  }
  return s;
}

/** `module: dep dep` for modules with dependencies, single spaces, LF-terminated; '' when none. */
export function modulesDepText(deps: readonly { module: string; depends: readonly string[] }[]): string {
  return deps.filter((d) => d.depends.length > 0).map((d) => `${d.module}: ${d.depends.join(' ')}\n`).join('');
}

/** depmod's alias format: `alias <pattern> <module>` per line. */
export function modulesAliasText(rows: readonly { alias: string; module: string }[]): string {
  return rows.map((r) => `alias ${r.alias} ${r.module}\n`).join('');
}

/** The PCI base class of a network or storage controller says which modinfo type fits. */
export function typeFromAliases(aliases: readonly string[]): ModuleType {
  const classes = new Set(aliases.map((a) => /^pci:.*bc([0-9A-Fa-f]{2})sc/.exec(a)?.[1]?.toUpperCase()).filter(Boolean));
  if (classes.has('02')) return 'eth';
  if (classes.has('01')) return 'scsi';
  return 'other';
}

const PCI_ALIAS = /^pci:v([0-9A-Fa-f]{8}|\*)d([0-9A-Fa-f]{8}|\*)sv([0-9A-Fa-f]{8}|\*)sd([0-9A-Fa-f]{8}|\*)bc/;

/**
 * One kudzu `pcitable` row for a PCI alias (§7): vendor and device are the low 4 hex digits;
 * concrete subvendor and subdevice give the 4-number form. Wildcard ids cannot be expressed.
 */
export function pcitableRow(alias: string, module: string, description: string): { row: string } | { problem: string } | undefined {
  if (!alias.startsWith('pci:')) return undefined;
  const m = PCI_ALIAS.exec(alias);
  if (!m) return { problem: `alias ${alias} is not of the form pci:v…d…sv…sd…bc…` };
  const [, v, d, sv, sd] = m;
  if (v === '*' || d === '*') return { problem: `alias ${alias} matches any ${v === '*' ? 'vendor' : 'device'}, which pcitable cannot express` };
  const hex = (x: string) => `0x${x.slice(4).toLowerCase()}`;
  const tail = `"${module}"\t"${quotable(description)}"`;
  if (sv === '*' && sd === '*') return { row: `${hex(v!)}\t${hex(d!)}\t${tail}` };
  if (sv === '*' || sd === '*') return { problem: `alias ${alias} gives only one of subvendor and subdevice, which pcitable cannot express` };
  return { row: `${hex(v!)}\t${hex(d!)}\t${hex(sv!)}\t${hex(sd!)}\t${tail}` };
}

// ---------------------------------------------------------------- reading (as the loader does)

/** What the loader does wrong with a file, with the finding code `verify` reports it under. */
export interface LoaderProblem {
  code: Extract<FindingCode, 'RHEL5_MODINFO_REJECTED' | 'RHEL5_MODINFO_CRASH' | 'RHEL5_MODINFO' | 'RHEL5_MODULES_DEP_CRASH' | 'RHEL5_MODULES_DEP'>;
  /** error: the loader rejects the file or crashes; warning: it skips or misreads a line. */
  severity: 'error' | 'warning';
  message: string;
}

export interface ParsedModinfo {
  blocks: { module: string; type?: string; typeClass: string; description?: string; params: string[] }[];
  problems: LoaderProblem[];
}

const TYPE_CLASS: Readonly<Record<string, string>> = {
  eth: 'network (ethernet)', tr: 'network (token ring)', plip: 'network (PLIP)',
  scsi_hostadapter: 'SCSI/storage', scsi: 'SCSI/storage', pcmcia: 'PCMCIA', fs: 'filesystem', cdrom: 'CD-ROM', ide: 'IDE',
};

/** loader2's `readModuleInfo()`; `problems` are what makes it reject the file or skip a block's line. */
export function parseModinfo(text: string): ParsedModinfo {
  const problems: LoaderProblem[] = [];
  const blocks: ParsedModinfo['blocks'] = [];
  if (!text.startsWith(MODINFO_MAGIC)) return { blocks, problems: [{ code: 'RHEL5_MODINFO_REJECTED', severity: 'error', message: 'does not start with "Version 0\\n": the loader rejects it' }] };
  const misread = (message: string) => problems.push({ code: 'RHEL5_MODINFO', severity: 'warning', message });
  if (!text.endsWith('\n')) problems.push({ code: 'RHEL5_MODINFO_CRASH', severity: 'error', message: 'does not end with a newline: the loader crashes reading the last line' });
  let current: ParsedModinfo['blocks'][number] | undefined;
  let indented = 0;
  for (const [i, raw] of text.slice(MODINFO_MAGIC.length).split('\n').entries()) {
    const line = raw.replace(/\s+$/, '');
    const body = line.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    if (line === body) {
      current = { module: body, typeClass: 'other', params: [] };
      blocks.push(current);
      indented = 0;
      continue;
    }
    if (!current) {
      misread(`line ${i + 2}: indented line before any module name`);
      continue;
    }
    indented++;
    if (indented === 1) {
      current.type = body.split(/\s+/).pop()!;
      current.typeClass = TYPE_CLASS[current.type] ?? 'other';
    } else if (indented === 2) {
      if (body.length >= 2 && body.startsWith('"') && body.endsWith('"')) current.description = body.slice(1, -1);
      else misread(`line ${i + 2}: description of ${current.module} is not in double quotes (ignored)`);
    } else current.params.push(body.split(/\s+/)[0]!);
  }
  for (const b of blocks) if (b.type === undefined) misread(`${b.module} has no type line`);
  return { blocks, problems };
}

/** loader2's `mlLoadDeps()`: continuations joined, `name: dep dep`, lines without deps skipped. */
export function parseModulesDep(text: string): { deps: Map<string, string[]>; problems: LoaderProblem[] } {
  const problems: LoaderProblem[] = [];
  const deps = new Map<string, string[]>();
  if (text.length > 0 && !text.endsWith('\n')) problems.push({ code: 'RHEL5_MODULES_DEP_CRASH', severity: 'error', message: 'does not end with a newline: the loader crashes on its last line' });
  const joined = text.replace(/\\\r?\n?/g, ' ');
  for (const line of joined.split('\n')) {
    if (line === '') continue;
    if (!/^[A-Za-z0-9_-]+:( [A-Za-z0-9_-]+)*$/.test(line)) problems.push({ code: 'RHEL5_MODULES_DEP', severity: 'warning', message: `line "${line}" is not "module: dep dep" with single spaces and bare names` });
    const colon = line.indexOf(':');
    const list = colon < 0 ? [] : line.slice(colon + 1).split(' ').filter((d) => d !== '');
    if (colon > 0 && list.length > 0) deps.set(line.slice(0, colon), list);
  }
  return { deps, problems };
}

/** `modules.alias` lines: `alias <pattern> <module>`. */
export function parseModulesAlias(text: string): { aliases: { alias: string; module: string }[]; problems: string[] } {
  const problems: string[] = [];
  const aliases: { alias: string; module: string }[] = [];
  if (text.length > 0 && !text.endsWith('\n')) problems.push('does not end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^alias (\S+) (\S+)$/.exec(line);
    if (m) aliases.push({ alias: m[1]!, module: m[2]! });
    else problems.push(`line "${line}" is not "alias <pattern> <module>"`);
  }
  return { aliases, problems };
}

export const PCITABLE_LINE = /^0x[0-9a-fA-F]{4}\t0x[0-9a-fA-F]{4}(\t0x[0-9a-fA-F]{4}\t0x[0-9a-fA-F]{4})?\t"[^"]+"\t"[^"]*"$/;
