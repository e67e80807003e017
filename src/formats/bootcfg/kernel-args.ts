/**
 * Kernel arguments in installer boot configurations (`delivery.md` §6.2): which lines carry a
 * kernel command line in isolinux, GRUB and s390 `.prm` files, and the minimal edit that adds an
 * argument to each of them. Pure functions over the file text; a diff of the result against the
 * input shows only the added arguments.
 */

export type ConfigKind = 'isolinux' | 'grub' | 'prm';

/** The boot configurations an installer ISO may carry, by path, and how each is edited. */
export const BOOT_CONFIGS: readonly { readonly path: string; readonly kind: ConfigKind }[] = [
  { path: 'isolinux/isolinux.cfg', kind: 'isolinux' },
  { path: 'EFI/BOOT/grub.cfg', kind: 'grub' },
  { path: 'EFI/BOOT/BOOT.conf', kind: 'grub' },
  { path: 'boot/grub2/grub.cfg', kind: 'grub' },
  { path: 'boot/grub/grub.cfg', kind: 'grub' },
  { path: 'images/generic.prm', kind: 'prm' },
  { path: 'images/cdboot.prm', kind: 'prm' },
];

/** The GRUB configurations inside the UEFI boot image (a FAT image), edited the same way. */
export const EFI_IMAGE_CONFIGS: readonly string[] = ['EFI/BOOT/grub.cfg', 'EFI/BOOT/BOOT.conf'];

/** s390 parameter files are read as lines of at most 80 columns. */
const PRM_COLUMNS = 80;

/**
 * A volume id as udev writes it in `/dev/disk/by-label/` and as `LABEL=` must spell it: ASCII
 * outside `A-Za-z0-9#+.:=@_-` becomes `\xHH` (lower-case hex); valid non-ASCII UTF-8 stays.
 */
export function udevEscape(label: string): string {
  let out = '';
  for (const ch of label) {
    const code = ch.codePointAt(0)!;
    out += code < 0x80 && !/[A-Za-z0-9#+.:=@_-]/.test(ch) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/** `inst.dd=hd:LABEL=<E>`: the device only; the installer scans its top level for `*.iso`. */
export function driverDiskArg(volumeId: string): string {
  return `inst.dd=hd:LABEL=${udevEscape(volumeId)}`;
}

/** `inst.ks=hd:LABEL=<E>:/<name>`, as lorax `mkksiso` writes it for a kickstart at the root. */
export function kickstartArg(volumeId: string, name: string): string {
  return `inst.ks=hd:LABEL=${udevEscape(volumeId)}:/${name}`;
}

interface Line {
  /** The line without its ending. */
  readonly text: string;
  /** `\n`, `\r\n` or '' (last line without one). */
  readonly eol: string;
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  const re = /\r?\n/g;
  let start = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ text: text.slice(start, m.index), eol: m[0] });
    start = m.index + m[0].length;
  }
  if (start < text.length) out.push({ text: text.slice(start), eol: '' });
  return out;
}

const join = (lines: readonly Line[]): string => lines.map((l) => l.text + l.eol).join('');

function firstWord(text: string): string {
  return /^\s*(\S*)/.exec(text)![1]!;
}

/**
 * Is this line a kernel command line? isolinux: first word `append` (syslinux keywords are
 * case-insensitive); GRUB: `linux`, `linuxefi` (older RHEL UEFI configs) or `linux16`.
 */
export function isKernelLine(kind: Exclude<ConfigKind, 'prm'>, text: string): boolean {
  const w = firstWord(text);
  return kind === 'isolinux' ? w.toLowerCase() === 'append' : w === 'linux' || w === 'linuxefi' || w === 'linux16';
}

/** Whitespace-separated words of a line (the arguments as the boot loader passes them). */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Add the arguments not yet present at the end of the line's content (before trailing blanks). */
function appendArgs(text: string, args: readonly string[]): string {
  const have = new Set(words(text));
  const missing = args.filter((a) => !have.has(a));
  if (missing.length === 0) return text;
  const end = text.length - /[ \t]*$/.exec(text)![0].length;
  return `${text.slice(0, end)} ${missing.join(' ')}${text.slice(end)}`;
}

/** isolinux lines inside `text help` … `endtext`: help text shown in the menu, not keywords. */
function helpText(kind: Exclude<ConfigKind, 'prm'>, lines: readonly Line[]): Set<number> {
  const out = new Set<number>();
  if (kind !== 'isolinux') return out;
  let inside = false;
  lines.forEach((l, i) => {
    const w = words(l.text.toLowerCase());
    if (inside) {
      out.add(i);
      if (w[0] === 'endtext') inside = false;
    } else if (w[0] === 'text' && w[1] === 'help') inside = true;
  });
  return out;
}

/** Kernel lines as ranges of physical lines: GRUB continues a line that ends in a backslash. */
function kernelSpans(kind: Exclude<ConfigKind, 'prm'>, lines: readonly Line[]): { first: number; last: number }[] {
  const out: { first: number; last: number }[] = [];
  const help = helpText(kind, lines);
  for (let i = 0; i < lines.length; i++) {
    if (help.has(i) || !isKernelLine(kind, lines[i]!.text)) continue;
    let last = i;
    if (kind === 'grub') while (last + 1 < lines.length && lines[last]!.text.endsWith('\\')) last++;
    out.push({ first: i, last });
    i = last;
  }
  return out;
}

function spanText(lines: readonly Line[], s: { first: number; last: number }): string {
  return lines
    .slice(s.first, s.last + 1)
    .map((l, i, all) => (i < all.length - 1 ? l.text.slice(0, -1) : l.text))
    .join(' ');
}

/** The kernel lines of a configuration (their text, continuations joined), for checking. */
export function kernelLines(kind: ConfigKind, text: string): string[] {
  const lines = splitLines(text);
  // a .prm file is one command line, wrapped: every line holds arguments
  if (kind === 'prm') return [lines.map((l) => l.text).join(' ')];
  return kernelSpans(kind, lines).map((s) => spanText(lines, s));
}

/**
 * Add `args` to every kernel line of a configuration, each unless that exact argument is already
 * on the line; nothing else changes (line endings, indentation, other lines). A GRUB line
 * continued with a backslash gets them on its last physical line. A `.prm` file is one command
 * line: the arguments go on its last line when it stays within 80 columns, else on a new line of
 * their own.
 */
export function addKernelArgs(kind: ConfigKind, text: string, args: readonly string[]): string {
  const lines = splitLines(text);
  if (kind !== 'prm') {
    const out = [...lines];
    for (const s of kernelSpans(kind, lines)) {
      const have = new Set(words(spanText(lines, s)));
      const missing = args.filter((a) => !have.has(a));
      if (missing.length > 0) out[s.last] = { ...lines[s.last]!, text: appendArgs(lines[s.last]!.text, missing) };
    }
    return join(out);
  }
  const have = new Set(lines.flatMap((l) => words(l.text)));
  const missing = args.filter((a) => !have.has(a));
  if (missing.length === 0) return text;
  let last = lines.length - 1;
  while (last >= 0 && lines[last]!.text.trim() === '') last--;
  const eol = lines.find((l) => l.eol !== '')?.eol ?? '\n';
  if (last < 0) return `${missing.join(' ')}${eol}${text}`;
  const target = lines[last]!;
  const extended = appendArgs(target.text, missing);
  if (extended.length <= PRM_COLUMNS) return join([...lines.slice(0, last), { ...target, text: extended }, ...lines.slice(last + 1)]);
  const added: Line[] = [{ text: target.text, eol: target.eol || eol }, { text: missing.join(' '), eol: target.eol }];
  return join([...lines.slice(0, last), ...added, ...lines.slice(last + 1)]);
}

/** A configuration another one reads: `include`/`menu include` (isolinux), `source`/`configfile` (GRUB). */
export interface ConfigReference {
  /** 1-based line number in the including file. */
  readonly line: number;
  readonly keyword: string;
  /** The file name as written. */
  readonly name: string;
}

/** The files a configuration includes, in order (outside isolinux help text). */
export function includedConfigs(kind: ConfigKind, text: string): ConfigReference[] {
  if (kind === 'prm') return [];
  const lines = splitLines(text);
  const help = helpText(kind, lines);
  const out: ConfigReference[] = [];
  lines.forEach((l, i) => {
    if (help.has(i)) return;
    const w = words(l.text);
    const lower = w.map((x) => x.toLowerCase());
    if (kind === 'isolinux' && lower[0] === 'include' && w[1]) out.push({ line: i + 1, keyword: 'include', name: w[1] });
    else if (kind === 'isolinux' && lower[0] === 'menu' && lower[1] === 'include' && w[2]) out.push({ line: i + 1, keyword: 'menu include', name: w[2] });
    else if (kind === 'grub' && (w[0] === 'source' || w[0] === 'configfile') && w[1]) out.push({ line: i + 1, keyword: w[0], name: w[1].replace(/^(["'])(.*)\1$/, '$2') });
  });
  return out;
}

/**
 * Where an included name lies on the medium, when it is a literal path: absolute from the root,
 * else relative to `folder` (the folder of the config the loader started from). Undefined for
 * names that need the loader's variables or devices (`$prefix/x.cfg`, `(hd0,1)/x.cfg`).
 */
export function resolveInclude(name: string, folder: string): string | undefined {
  if (/[$(){}]/.test(name)) return undefined;
  const parts = (name.startsWith('/') ? name : `${folder}/${name}`).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(p);
  }
  return out.length > 0 ? out.join('/') : undefined;
}
