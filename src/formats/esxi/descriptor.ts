/**
 * The VIB's `descriptor.xml` (`esxi.md` §3): written on one line, no XML declaration, no final
 * newline, elements in the order of every real descriptor, checksums in VMware's 7.0/8.0 order;
 * read back into the same model with the element order kept for the checks.
 */
import { attrs, escapeText } from '../xml.js';
import { child, children, parseXml, textOf, type XmlElement } from './xml-tree.js';

export interface Constraint {
  name: string;
  relation?: string;
  version?: string;
}

export interface Relationships {
  depends: Constraint[];
  conflicts: Constraint[];
  replaces: Constraint[];
  provides: Constraint[];
  compatibleWith: Constraint[];
}

export interface SoftwarePlatform {
  version: string;
  locale: string;
  productLineID: string;
}

export interface PayloadChecksum {
  type: string;
  verifyProcess?: string;
  hex: string;
}

export interface PayloadRecord {
  name: string;
  type: string;
  size: number;
  uncompressedSize?: number;
  checksums: PayloadChecksum[];
}

export type Acceptance = 'community' | 'partner' | 'accepted' | 'certified';

export interface Descriptor {
  type: string;
  name: string;
  version: string;
  vendor: string;
  summary: string;
  description: string;
  releaseDate: string;
  urls: [key: string, url: string][];
  relationships: Relationships;
  tags: string[];
  maintenanceMode: boolean;
  platforms: SoftwarePlatform[];
  files: string[];
  acceptance: string;
  liveInstall: boolean;
  liveRemove: boolean;
  cimomRestart: boolean;
  statelessReady: boolean;
  overlay: boolean;
  payloads: PayloadRecord[];
}

/** The element sequence under `<vib>` in every real descriptor (§3.1). */
export const DESCRIPTOR_ORDER = ['type', 'name', 'version', 'vendor', 'summary', 'description', 'release-date', 'urls', 'relationships', 'software-tags', 'system-requires', 'file-list', 'acceptance-level', 'live-install-allowed', 'live-remove-allowed', 'cimom-restart', 'stateless-ready', 'overlay', 'payloads'] as const;
export const RELATIONSHIP_ORDER = ['depends', 'conflicts', 'replaces', 'provides', 'compatibleWith'] as const;
/** What acceptance-level values esximage knows, and what the host calls them. */
export const ACCEPTANCE_NAMES: Record<Acceptance, string> = { community: 'CommunitySupported', partner: 'PartnerSupported', accepted: 'VMwareAccepted', certified: 'VMwareCertified' };

/** VIB ID: `<vendor>_<type>_<name>_<version>` (§3.3). */
export const vibId = (d: Pick<Descriptor, 'vendor' | 'type' | 'name' | 'version'>): string => `${d.vendor}_${d.type}_${d.name}_${d.version}`;

/** Text as XML; a line feed as a reference, so the document stays on one line (descriptions may span lines). */
export const oneLineText = (text: string) => escapeText(text).replace(/\n/g, '&#10;');
const el = (tag: string, text: string) => `<${tag}>${oneLineText(text)}</${tag}>`;
/** `<tag/>` when empty, as VMware writes empty containers. */
const wrap = (tag: string, inner: string) => (inner === '' ? `<${tag}/>` : `<${tag}>${inner}</${tag}>`);
const bool = (b: boolean) => (b ? 'true' : 'false');

function constraintXml(tag: 'constraint' | 'provide', c: Constraint): string {
  return `<${tag}${attrs([['name', c.name], ['relation', c.relation], ['version', c.version]])}/>`;
}

export function relationshipsXml(r: Relationships): string {
  return wrap('relationships', RELATIONSHIP_ORDER.map((k) => wrap(k, r[k].map((c) => constraintXml(k === 'provides' ? 'provide' : 'constraint', c)).join(''))).join(''));
}

export const platformXml = (tag: string, p: SoftwarePlatform) => `<${tag}${attrs([['version', p.version], ['locale', p.locale], ['productLineID', p.productLineID]])}/>`;

function payloadXml(p: PayloadRecord): string {
  const sums = p.checksums.map((c) => `<checksum${attrs([['checksum-type', c.type], ['verify-process', c.verifyProcess]])}>${c.hex}</checksum>`).join('');
  return `<payload${attrs([['name', p.name], ['type', p.type], ['size', p.size], ['uncompressed-size', p.uncompressedSize]])}>${sums}</payload>`;
}

/** The descriptor's bytes as text: one line, no declaration, no trailing newline. */
export function descriptorXml(d: Descriptor): string {
  return (
    '<vib version="5.0">' +
    el('type', d.type) +
    el('name', d.name) +
    el('version', d.version) +
    el('vendor', d.vendor) +
    el('summary', d.summary) +
    el('description', d.description) +
    el('release-date', d.releaseDate) +
    wrap('urls', d.urls.map(([k, u]) => `<url${attrs([['key', k]])}>${oneLineText(u)}</url>`).join('')) +
    relationshipsXml(d.relationships) +
    wrap('software-tags', d.tags.map((t) => el('tag', t)).join('')) +
    `<system-requires>${el('maintenance-mode', bool(d.maintenanceMode))}${d.platforms.map((p) => platformXml('softwarePlatform', p)).join('')}</system-requires>` +
    wrap('file-list', d.files.map((f) => el('file', f)).join('')) +
    el('acceptance-level', d.acceptance) +
    el('live-install-allowed', bool(d.liveInstall)) +
    el('live-remove-allowed', bool(d.liveRemove)) +
    el('cimom-restart', bool(d.cimomRestart)) +
    el('stateless-ready', bool(d.statelessReady)) +
    el('overlay', bool(d.overlay)) +
    wrap('payloads', d.payloads.map(payloadXml).join('')) +
    '</vib>'
  );
}

/** VMware's checksums of one payload, in the 7.0/8.0 order (§3.2). */
export function payloadChecksums(gunzipSha256: string, storedSha256: string, gunzipSha1: string): PayloadChecksum[] {
  return [
    { type: 'sha-256', verifyProcess: 'gunzip', hex: gunzipSha256 },
    { type: 'sha-256', hex: storedSha256 },
    { type: 'sha-1', verifyProcess: 'gunzip', hex: gunzipSha1 },
  ];
}

export interface ParsedDescriptor {
  descriptor: Descriptor;
  /** `/vib/@version`. */
  version: string | undefined;
  /** Element names under `<vib>`, in document order. */
  order: string[];
  relationshipOrder: string[];
  /** Element names under `<system-requires>`. */
  systemRequires: string[];
  /** The text starts with an XML declaration, or spans lines. */
  declaration: boolean;
  multiline: boolean;
}

function constraints(e: XmlElement | undefined): Constraint[] {
  return (e?.children ?? []).map((c) => ({ name: c.attrs['name'] ?? '', ...(c.attrs['relation'] !== undefined ? { relation: c.attrs['relation'] } : {}), ...(c.attrs['version'] !== undefined ? { version: c.attrs['version'] } : {}) }));
}

const isTrue = (s: string | undefined) => s?.trim().toLowerCase() === 'true' || s?.trim() === '1';

/** Read a descriptor (or a `vibs/*.xml` record, which is one with three more elements). */
export function parseDescriptor(text: string, what = 'descriptor.xml'): ParsedDescriptor {
  const root = parseXml(text, what);
  const rel = child(root, 'relationships');
  const sys = child(root, 'system-requires');
  const descriptor: Descriptor = {
    type: textOf(root, 'type') ?? '',
    name: textOf(root, 'name') ?? '',
    version: textOf(root, 'version') ?? '',
    vendor: textOf(root, 'vendor') ?? '',
    summary: textOf(root, 'summary') ?? '',
    description: textOf(root, 'description') ?? '',
    releaseDate: textOf(root, 'release-date') ?? '',
    urls: children(child(root, 'urls'), 'url').map((u) => [u.attrs['key'] ?? '', u.text]),
    relationships: { depends: constraints(child(rel, 'depends')), conflicts: constraints(child(rel, 'conflicts')), replaces: constraints(child(rel, 'replaces')), provides: constraints(child(rel, 'provides')), compatibleWith: constraints(child(rel, 'compatibleWith')) },
    tags: children(child(root, 'software-tags'), 'tag').map((t) => t.text),
    maintenanceMode: isTrue(textOf(sys, 'maintenance-mode') ?? textOf(sys, 'maintenanceMode')),
    platforms: children(sys, 'softwarePlatform').map((p) => ({ version: p.attrs['version'] ?? '', locale: p.attrs['locale'] ?? '', productLineID: p.attrs['productLineID'] ?? '' })),
    files: children(child(root, 'file-list'), 'file').map((f) => f.text),
    acceptance: textOf(root, 'acceptance-level') ?? '',
    liveInstall: isTrue(textOf(root, 'live-install-allowed')),
    liveRemove: isTrue(textOf(root, 'live-remove-allowed')),
    cimomRestart: isTrue(textOf(root, 'cimom-restart')),
    statelessReady: isTrue(textOf(root, 'stateless-ready')),
    overlay: isTrue(textOf(root, 'overlay')),
    payloads: children(child(root, 'payloads'), 'payload').map((p) => ({
      name: p.attrs['name'] ?? '',
      type: p.attrs['type'] ?? '',
      size: Number(p.attrs['size']),
      ...(p.attrs['uncompressed-size'] !== undefined ? { uncompressedSize: Number(p.attrs['uncompressed-size']) } : {}),
      checksums: children(p, 'checksum').map((c) => ({ type: c.attrs['checksum-type'] ?? '', ...(c.attrs['verify-process'] !== undefined ? { verifyProcess: c.attrs['verify-process'] } : {}), hex: c.text.trim().toLowerCase() })),
    })),
  };
  return {
    descriptor,
    version: root.tag === 'vib' ? root.attrs['version'] : undefined,
    order: root.children.map((c) => c.tag),
    relationshipOrder: rel?.children.map((c) => c.tag) ?? [],
    systemRequires: sys?.children.map((c) => c.tag) ?? [],
    declaration: /^\s*<\?xml/.test(text),
    multiline: text.includes('\n'),
  };
}

/**
 * The `vibs/<name>-<n>.xml` record of a bundle (§5.3): the descriptor's bytes with
 * `relative-path`, `packed-size` and `checksum` inserted right after `software-tags`.
 */
export function vibRecordXml(descriptorText: string, vib: { relativePath: string; packedSize: number; sha256: string }): string {
  const m = /<\/software-tags>|<software-tags\/>/.exec(descriptorText);
  if (!m) throw new Error('descriptor without software-tags');
  const at = m.index + m[0].length;
  const insert = el('relative-path', vib.relativePath) + el('packed-size', String(vib.packedSize)) + `<checksum checksum-type="sha-256">${vib.sha256}</checksum>`;
  return descriptorText.slice(0, at) + insert + descriptorText.slice(at);
}
