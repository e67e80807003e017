/**
 * The legacy supplemental pack metadata (`xenserver.md` §3.2–3.3): `XS-REPOSITORY` and
 * `XS-PACKAGES` written byte for byte as the reference builder (Python 2 minidom, inline text)
 * writes them, and read back for `verify`. Pure: strings in, strings out.
 *
 * Serialisation: no declaration, root at column 0, children indented by 2 spaces, attributes in
 * ASCII order, `<e attrs/>` for empty elements, LF line ends and a trailing LF; `&` `<` `"` `>`
 * escaped in that order and nothing else.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError } from '../../errors.js';

/** `requires/@test` values the consumers accept. */
export const TESTS = ['eq', 'ne', 'lt', 'gt', 'le', 'ge'] as const;
export type RequireTest = (typeof TESTS)[number];

/** `originator`, `name`: the identity `originator:name`. */
export const IDENT_RE = /^[A-Za-z0-9._-]+$/;

export interface Requirement {
  originator: string;
  name: string;
  test: RequireTest;
  version: string;
  /** Default `XenServer`. */
  product?: string;
}

export interface XsRepository {
  originator: string;
  name: string;
  product: string;
  version: string;
  build?: string;
  /** The `TEXT`: first child, non-empty (xapi drops the pack from software-version otherwise). */
  description: string;
  requires: Requirement[];
  enforceHomogeneity?: boolean;
  hidden?: boolean;
  memoryRequirementMb?: number;
}

export type PackageType = 'rpm' | 'driver-rpm' | 'firmware';

export interface XsPackage {
  type: PackageType;
  label: string;
  /** File length in bytes. */
  size: number;
  /** Lowercase hex MD5 of the file. */
  md5: string;
  /** Basename of the file, beside `XS-PACKAGES`. */
  file: string;
  /** `driver-rpm`: the target `uname -r`, or `any`. */
  kernel?: string;
  /** `-i`: install with `rpm -i` (side by side) instead of `-U`. */
  options?: string;
}

/** The four escapes, in the reference order. Values are kept to printable ASCII (Python 2 consumers). */
function esc(value: string, what: string): string {
  const bad = /[^\x20-\x7e]/.exec(value);
  if (bad) throw new RangeError(`${what}: character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${bad.index + 1}: only printable ASCII is safe for the XenServer ≤ 7.0 tools`);
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/>/g, '&gt;');
}

type Attrs = Record<string, string | undefined>;

function open(tag: string, attrs: Attrs): string {
  const names = Object.keys(attrs).filter((k) => attrs[k] !== undefined).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `<${tag}${names.map((k) => ` ${k}="${esc(attrs[k]!, `${tag}/@${k}`)}"`).join('')}`;
}

const empty = (tag: string, attrs: Attrs) => `  ${open(tag, attrs)}/>\n`;
const inline = (tag: string, attrs: Attrs, text: string) => `  ${open(tag, attrs)}>${esc(text, tag)}</${tag}>\n`;

function checkRequirement(r: Requirement): void {
  if (!IDENT_RE.test(r.originator) || !IDENT_RE.test(r.name)) throw new RangeError(`requires ${r.originator}:${r.name}: originator and name must match [A-Za-z0-9._-]+`);
  if (!(TESTS as readonly string[]).includes(r.test)) throw new RangeError(`requires ${r.originator}:${r.name}: test "${r.test}" is not one of ${TESTS.join(' ')}`);
  if (r.version === '') throw new RangeError(`requires ${r.originator}:${r.name}: empty version`);
}

/** `XS-REPOSITORY`. Bad values are RangeErrors (the caller names the target). */
export function xsRepository(r: XsRepository): string {
  if (!IDENT_RE.test(r.originator)) throw new RangeError(`originator "${r.originator}" must match [A-Za-z0-9._-]+`);
  if (!IDENT_RE.test(r.name)) throw new RangeError(`name "${r.name}" must match [A-Za-z0-9._-]+`);
  if (r.description.trim() === '') throw new RangeError('the description (TEXT) is empty: xapi would drop the pack from software-version');
  if (r.version === '') throw new RangeError('empty version');
  r.requires.forEach(checkRequirement);
  const root = open('repository', {
    build: r.build,
    'enforce-homogeneity': r.enforceHomogeneity ? 'true' : undefined,
    hidden: r.hidden ? 'true' : undefined,
    'memory-requirement-mb': r.memoryRequirementMb === undefined ? undefined : String(r.memoryRequirementMb),
    name: r.name,
    originator: r.originator,
    product: r.product,
    version: r.version,
  });
  const requires = r.requires.map((q) => empty('requires', { name: q.name, originator: q.originator, product: q.product ?? 'XenServer', test: q.test, version: q.version }));
  return `${root}>\n${inline('description', {}, r.description)}${requires.join('')}</repository>\n`;
}

/** `XS-PACKAGES`, packages in the given (install) order. */
export function xsPackages(packages: readonly XsPackage[]): string {
  const lines = packages.map((p) => {
    if (!/^[0-9a-f]{32}$/.test(p.md5)) throw new RangeError(`${p.file}: md5 must be 32 lowercase hex digits`);
    if (p.type === 'driver-rpm' && !p.kernel) throw new RangeError(`${p.file}: a driver-rpm needs a kernel`);
    if (p.file.includes('/')) throw new RangeError(`${p.file}: packages lie beside XS-PACKAGES (no folders)`);
    return inline('package', { kernel: p.kernel, label: p.label, md5: p.md5, options: p.options, size: String(p.size), type: p.type }, p.file);
  });
  return `<packages>\n${lines.join('')}</packages>\n`;
}

/** MD5 line of `<name>.metadata.md5`: the hex digest and LF, no file name (§3.5). */
export function metadataMd5Line(hex: string): string {
  return `${hex}\n`;
}

// ---- reading back ----

interface Node {
  tag: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
  /** True when the first child node is text (xapi's test for `<description>`). */
  firstIsText: boolean;
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, parseTagValue: false, trimValues: false, processEntities: true });

type Raw = Record<string, unknown> & { ':@'?: Record<string, string> };

function toNode(raw: Raw): Node | undefined {
  const tag = Object.keys(raw).find((k) => k !== ':@');
  if (tag === undefined || tag === '#text') return undefined;
  const kids = (raw[tag] as Raw[]) ?? [];
  const children = kids.map(toNode).filter((n): n is Node => n !== undefined);
  const text = kids.filter((k) => '#text' in k).map((k) => String(k['#text'])).join('');
  return { tag, attrs: raw[':@'] ?? {}, children, text, firstIsText: kids.length > 0 && '#text' in kids[0]! };
}

function parseRoot(xml: string, file: string, root: string): Node {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new FormatError(`${file}: not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  const top = (parser.parse(xml) as Raw[]).map(toNode).filter((n): n is Node => n !== undefined && !n.tag.startsWith('?'));
  if (top.length !== 1 || top[0]!.tag !== root) throw new FormatError(`${file}: the root element is not <${root}>`);
  return top[0]!;
}

export interface ParsedRepository {
  attrs: Record<string, string>;
  /** The first child element's tag (must be `description`) and whether it starts with text. */
  first?: { tag: string; firstIsText: boolean };
  description: string;
  requires: Record<string, string>[];
}

export function parseXsRepository(xml: string): ParsedRepository {
  const root = parseRoot(xml, 'XS-REPOSITORY', 'repository');
  const first = root.children[0];
  return {
    attrs: root.attrs,
    ...(first ? { first: { tag: first.tag, firstIsText: first.firstIsText } } : {}),
    description: root.children.find((c) => c.tag === 'description')?.text ?? '',
    requires: root.children.filter((c) => c.tag === 'requires').map((c) => c.attrs),
  };
}

export interface ParsedPackage {
  attrs: Record<string, string>;
  file: string;
}

export function parseXsPackages(xml: string): ParsedPackage[] {
  const root = parseRoot(xml, 'XS-PACKAGES', 'packages');
  return root.children.filter((c) => c.tag === 'package').map((c) => ({ attrs: c.attrs, file: c.text }));
}
