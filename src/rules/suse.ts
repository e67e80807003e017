/**
 * The SUSE installers' rules for driver updates (`suse-dud.md`), as pure functions: mkdud's dist
 * names and product texts (§3), the `dud.config` dudkit writes and linuxrc's parser of it (§4),
 * `module.order` (§11.4), the UpdateID derivation (§11.3), and which directory each installer
 * takes (§1). Shared by the `suse` layout and the verifier.
 */
import { createHash } from 'node:crypto';

export type Installer = 'yast' | 'agama';

/** Architecture directory names (§2), current products first. */
export const SUSE_ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x', 'riscv64', 'loongarch64', 'i386', 'ppc64', 'armv7l', 'ia64', 'ppc', 's390'] as const;
/** The arches mkdud links to `x86_64-<dist>` when an update has no arch-specific content (its `UpdateAllArchs`). */
export const ALL_ARCHES = ['aarch64', 'i386', 'loongarch64', 'ppc64', 'ppc64le', 'riscv64', 's390x', 'x86_64'] as const;

/** RPM / ELF arch → SUSE directory arch. */
export function suseArch(arch: string): string {
  return /^i[3-6]86$/.test(arch) ? 'i386' : arch === 'armv7hl' ? 'armv7l' : arch;
}

export interface DistMapping {
  /** The `<dist>` directory names written. */
  dirs: string[];
  /** Which installer reads them; `either` for Tumbleweed / Slowroll until one is stated. */
  installer: Installer | 'either';
}

/**
 * mkdud's `--dist` values (§3) → directory names. `installer` decides `tw` and `slowroll`.
 * Undefined: not a dist dudkit knows.
 */
export function mapDist(value: string, installer?: Installer): DistMapping | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^(?:sle)?(11|12|15)$/.exec(value)) && (value.startsWith('sle') || m[1] === '15')) return { dirs: [`sles${m[1]}`, `sled${m[1]}`], installer: 'yast' };
  if ((m = /^(sle[sd])(11|12|15)$/.exec(value))) return { dirs: [`${m[1]}${m[2]}`], installer: 'yast' };
  if ((m = /^leap(15\.\d+)$/.exec(value))) return { dirs: [`leap${m[1]}`], installer: 'yast' };
  if ((m = /^15\.(\d+)$/.exec(value))) return { dirs: [`leap15.${m[1]}`, 'sles15', 'sled15'], installer: 'yast' };
  if ((m = /^(?:sles?)?(1[6-9])$/.exec(value))) return { dirs: [`sles${m[1]}.0`], installer: 'agama' };
  if ((m = /^sles(1[6-9]\.\d+)$/.exec(value))) return { dirs: [`sles${m[1]}`], installer: 'agama' };
  if ((m = /^leap(1[6-9]\.\d+)$/.exec(value))) return { dirs: [`opensuse-leap${m[1]}`], installer: 'agama' };
  if ((m = /^(1[6-9]\.\d+)$/.exec(value))) return { dirs: [`opensuse-leap${m[1]}`, `sles${m[1]}`], installer: 'agama' };
  if (value === 'tw' || value === 'slowroll') {
    if (!installer) return { dirs: [], installer: 'either' };
    return { dirs: [installer === 'yast' ? 'tw' : value === 'tw' ? 'opensuse-tumbleweed' : 'opensuse-slowroll'], installer };
  }
  if ((m = /^micro(\d+\.\d+)$/.exec(value))) return { dirs: [Number.parseInt(m[1]!, 10) >= 6 ? `sl-micro${m[1]}` : `suse-microos${m[1]}`], installer: 'yast' };
  if ((m = /^caasp([1-4])\.(\d+)$/.exec(value))) return { dirs: [`caasp${m[1]}.${m[2]}`, m[1] === '4' ? 'sles15' : 'sles12'], installer: 'yast' };
  return undefined;
}

/** The product a dist directory stands for (mkdud's `product_string`), for `UpdateProduct`. */
export function productOf(dist: string, slowroll = false): string {
  let m: RegExpExecArray | null;
  if ((m = /^sles(\d+(?:\.\d+)?)$/.exec(dist))) return `SUSE Linux Enterprise Server ${m[1]}`;
  if ((m = /^sled(\d+)$/.exec(dist))) return `SUSE Linux Enterprise Desktop ${m[1]}`;
  if ((m = /^(?:opensuse-)?leap(\d+\.\d+)$/.exec(dist))) return `openSUSE Leap ${m[1]}`;
  if ((m = /^caasp(\d+\.\d+)$/.exec(dist))) return `SUSE Containers as a Service Platform ${m[1]}`;
  if ((m = /^sl-micro(\d+\.\d+)$/.exec(dist))) return `SUSE Linux Micro ${m[1]}`;
  if ((m = /^suse-microos(\d+\.\d+)$/.exec(dist))) return `SUSE Linux Enterprise Micro ${m[1]}`;
  if (dist === 'opensuse-slowroll' || (dist === 'tw' && slowroll)) return 'openSUSE Slowroll';
  if (dist === 'tw' || dist === 'opensuse-tumbleweed') return 'openSUSE Tumbleweed';
  return `openSUSE ${dist}`;
}

/** Which installer reads a dist directory (§3: SLE/Leap ≥ 16 and the opensuse-* names are Agama's). */
export function installerOfDir(dist: string): Installer {
  return /^(sles1[6-9]\.\d+|opensuse-(leap1[6-9]\.\d+|tumbleweed|slowroll))$/.test(dist) ? 'agama' : 'yast';
}

/** Every dist directory name mkdud can write (the verifier's "known dist" test). */
export const KNOWN_DIST_DIR = /^(sle[sd](11|12|15)|leap15\.\d+|tw|sles1[6-9]\.\d+|opensuse-leap1[6-9]\.\d+|opensuse-tumbleweed|opensuse-slowroll|sl-micro\d+\.\d+|suse-microos\d+\.\d+|caasp\d+\.\d+)$/;

/** C `asctime` of a UTC time, without its newline: `Tue Nov 14 22:13:20 2023`. */
export function asctime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()]!;
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${day} ${month} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** linuxrc reads `dud.config` through a 1024-byte buffer: longer lines are cut. */
export const MAX_CONFIG_LINE = 1023;

export interface ConfigEntry {
  key: string;
  value: string;
}

/** `dud.config` as dudkit writes it (§4): a comment, then `Key:<TAB>value` lines in the given order. */
export function dudConfigText(version: string, entries: readonly ConfigEntry[]): string {
  return `# created by dudkit ${version}\n${entries.map((e) => `${e.key}:\t${e.value}\n`).join('')}`;
}

export interface ParsedConfigLine extends ConfigEntry {
  line: number;
  /** Longer than linuxrc's buffer: it reads the line in pieces. */
  tooLong: boolean;
}

/**
 * `dud.config` as linuxrc parses it (§4): `#` lines skipped, the key ends at the first `:`, `=`,
 * space or TAB, a run of those follows, surrounding quotes are stripped; keys compare
 * case-insensitively (the caller lower-cases). Empty lines carry nothing.
 */
export function parseDudConfig(text: string): ParsedConfigLine[] {
  const out: ParsedConfigLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const tooLong = Buffer.byteLength(raw) + 1 > MAX_CONFIG_LINE + 1;
    const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) return;
    const m = /^([^:= \t]+)[:= \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) return;
    let value = m[2]!;
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    out.push({ key: m[1]!, value, line: i + 1, tooLong });
  });
  return out;
}

/**
 * Load order of the shipped modules (§11.4): dependencies (that are themselves shipped) first,
 * ties by name in byte order. Returns the order, or the modules of a cycle.
 */
export function moduleLoadOrder(modules: ReadonlyMap<string, readonly string[]>): { order: string[] } | { cycle: string[] } {
  const names = [...modules.keys()].sort(byteOrder);
  const placed = new Set<string>();
  const order: string[] = [];
  while (order.length < names.length) {
    const next = names.find((n) => !placed.has(n) && (modules.get(n) ?? []).every((d) => d === n || !modules.has(d) || placed.has(d)));
    if (next === undefined) return { cycle: names.filter((n) => !placed.has(n)) };
    placed.add(next);
    order.push(next);
  }
  return { order };
}

export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** RFC 9562's URL namespace, in which dudkit names updates. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

function uuidV5(name: string, namespace: string): string {
  const h = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** One entry of an update's content listing (§11.3): a regular file's SHA-256 or a symlink's target. */
export type ListedEntry = { path: string; sha256: string } | { path: string; target: string };

/**
 * The UpdateID dudkit derives (§11.3): a UUID v5 of `dudkit:suse:<sha256 of the listing>`, the
 * listing one line per regular file (`<sha256>  <path>`) and symlink (`-> <target>  <path>`),
 * `dud.config` and `.update.*` left out, lines in byte order.
 */
export function derivedUpdateId(entries: readonly ListedEntry[]): string {
  const lines = entries
    .filter((e) => !/(^|\/)dud\.config$/.test(e.path) && !/(^|\/)\.update\.[^/]*$/.test(e.path))
    .map((e) => ('sha256' in e ? `${e.sha256}  ${e.path}\n` : `-> ${e.target}  ${e.path}\n`))
    .sort(byteOrder);
  return uuidV5(`dudkit:suse:${createHash('sha256').update(lines.join('')).digest('hex')}`, URL_NAMESPACE);
}

export const UPDATE_ID_RE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})$/;
