/**
 * `update.xml`, the document of a modern XenServer update pack (`xenserver.md` §4.2): written in
 * the exact form of the DDK's `build-update` (Python 2 minidom `writexml` with indent "  ": every
 * line starts with two spaces, attributes sorted, no declaration, LF, trailing LF, escaping as in
 * §3.2), and read back with xapi's `update-upload` rules.
 */
import { createHash } from 'node:crypto';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { forbiddenXmlChar } from '../xml.js';

export const GUIDANCE = ['restartHost', 'restartXAPI', 'restartPV', 'restartHVM'] as const;
export type Guidance = (typeof GUIDANCE)[number];

export interface Rollup {
  nameLabel: string;
  uuid: string;
}

export interface UpdateDocument {
  uuid: string;
  nameLabel: string;
  version: string;
  /** `<name-description>`: non-empty. */
  description: string;
  /** Σ installed SIZE of the payload RPMs. */
  installationSize?: number;
  afterApplyGuidance?: readonly Guidance[];
  /** Basename of the public key file users import; absent in the applied stamp. */
  key?: string;
  /** `control-<label>` */
  control?: string;
  enforceHomogeneity?: boolean;
  rollsup?: readonly Rollup[];
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const LABEL_RE = /^[A-Za-z0-9_-]+$/;

/** minidom's escaping (`xenserver.md` §3.2), for text and attributes alike; `'` stays. */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/>/g, '&gt;');
}

function attributes(list: Record<string, string | undefined>): string {
  return Object.keys(list)
    .filter((k) => list[k] !== undefined)
    .sort()
    .map((k) => ` ${k}="${escape(list[k]!)}"`)
    .join('');
}

/** What is wrong with a document xapi would refuse or misread; empty when it is sound. */
export function updateDocumentProblems(doc: UpdateDocument): string[] {
  const out: string[] = [];
  if (!UUID_RE.test(doc.uuid)) out.push(`uuid ${JSON.stringify(doc.uuid)} is not a lower-case RFC 4122 UUID (8-4-4-4-12 hex)`);
  if (!LABEL_RE.test(doc.nameLabel)) out.push(`name-label ${JSON.stringify(doc.nameLabel)} must be letters, digits, "_" or "-"`);
  if (doc.version === '') out.push('version is empty');
  if (doc.description.trim() === '') out.push('name-description is empty (xapi refuses the upload)');
  for (const g of doc.afterApplyGuidance ?? []) if (!(GUIDANCE as readonly string[]).includes(g)) out.push(`after-apply-guidance ${g} is unknown (xapi then drops all guidance)`);
  for (const r of doc.rollsup ?? []) {
    if (!UUID_RE.test(r.uuid)) out.push(`rollsup uuid ${JSON.stringify(r.uuid)} is not a lower-case RFC 4122 UUID`);
    if (!LABEL_RE.test(r.nameLabel)) out.push(`rollsup name-label ${JSON.stringify(r.nameLabel)} must be letters, digits, "_" or "-"`);
  }
  const texts = [doc.version, doc.description, doc.key ?? '', doc.control ?? '', ...(doc.rollsup ?? []).map((r) => r.nameLabel)];
  if (texts.some((t) => forbiddenXmlChar(t))) out.push('a value holds a character XML does not allow');
  return out;
}

/** The exact bytes of `update.xml`; `withKey: false` gives the applied stamp's content (§4.4). */
export function updateXml(doc: UpdateDocument, withKey = true): string {
  const problems = updateDocumentProblems(doc);
  if (problems.length > 0) throw new RangeError(`update.xml: ${problems.join('; ')}`);
  const guidance = doc.afterApplyGuidance?.length ? doc.afterApplyGuidance.join(',') : undefined;
  const root = attributes({
    'after-apply-guidance': guidance,
    control: doc.control,
    'enforce-homogeneity': doc.enforceHomogeneity ? 'true' : undefined,
    'installation-size': doc.installationSize === undefined ? undefined : String(doc.installationSize),
    key: withKey ? doc.key : undefined,
    'name-label': doc.nameLabel,
    uuid: doc.uuid,
    version: doc.version,
  });
  let out = `  <update${root}>\n`;
  out += `  <name-description>${escape(doc.description)}</name-description>\n`;
  for (const r of doc.rollsup ?? []) out += `  <rollsup${attributes({ 'name-label': r.nameLabel, uuid: r.uuid })}/>\n`;
  return `${out}  </update>\n`;
}

/**
 * RPM Version of the generated packages: the pack version with every character outside
 * `[A-Za-z0-9._]` replaced by `.` (`3.8.7+1.xcpng8.2+pack.0.1` → `3.8.7.1.xcpng8.2.pack.0.1`).
 */
export function updateRpmVersion(version: string): string {
  return version.replace(/[^A-Za-z0-9._]/g, '.');
}

/** dudkit's fixed namespace for pack UUIDs derived from names (UUID v5, RFC 4122 §4.3). */
const PACK_NAMESPACE = 'c5d1f0a4-3e61-4b8e-9a57-2f0d6b1e8c43';

/** A name-based (v5, SHA-1) UUID: the same name always gives the same UUID. */
export function uuidV5(name: string, namespace = PACK_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** What xapi's `update-upload` reads from `update.xml`; `problems` are its refusals. */
export interface ParsedUpdate {
  /** Absent when there is no `<update>` root; missing parts are empty strings. */
  doc?: UpdateDocument;
  /** Attributes as written (for checks the document type does not keep). */
  attributes: Record<string, string>;
  problems: string[];
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, parseAttributeValue: false, trimValues: false, alwaysCreateTextNode: true, preserveOrder: true });

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

export function parseUpdateXml(bytes: Uint8Array | string): ParsedUpdate {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
  const valid = XMLValidator.validate(text);
  if (valid !== true) return { attributes: {}, problems: [`missing update document: update.xml is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`] };
  const nodes = parser.parse(text) as Ordered[];
  const root = nodes.find((n) => 'update' in n);
  if (!root) return { attributes: {}, problems: ['missing <update> in update.xml'] };
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(root[':@'] ?? {})) attrs[k.slice(1)] = v;
  const problems: string[] = [];
  for (const a of ['uuid', 'name-label', 'version']) if (attrs[a] === undefined) problems.push(`missing <${a}> in update.xml`);
  const kids = (root.update as Ordered[]).filter((n) => !('#text' in n));
  const descriptions = kids.filter((n) => 'name-description' in n);
  const descText = descriptions.length === 1 ? ((descriptions[0]!['name-description'] as Ordered[]).map((t) => (t['#text'] as string | undefined) ?? '').join('')) : '';
  if (descriptions.length !== 1 || descText === '') problems.push('invalid <name-description> in update.xml: missing or empty');
  const rollsup = kids.filter((n) => 'rollsup' in n).map((n) => ({ nameLabel: n[':@']?.['@name-label'] ?? '', uuid: n[':@']?.['@uuid'] ?? '' }));
  const size = attrs['installation-size'];
  const guidance = attrs['after-apply-guidance'];
  const doc: UpdateDocument = {
    uuid: attrs.uuid ?? '',
    nameLabel: attrs['name-label'] ?? '',
    version: attrs.version ?? '',
    description: descText,
    // xapi reads an unparsable size as 0
    ...(size !== undefined ? { installationSize: /^\d+$/.test(size) ? Number(size) : 0 } : {}),
    ...(guidance !== undefined ? { afterApplyGuidance: guidance.split(',').filter(Boolean) as Guidance[] } : {}),
    ...(attrs.key !== undefined ? { key: attrs.key } : {}),
    ...(attrs.control !== undefined ? { control: attrs.control } : {}),
    ...(attrs['enforce-homogeneity'] !== undefined ? { enforceHomogeneity: /^(true|1)$/i.test(attrs['enforce-homogeneity']) } : {}),
    rollsup,
  };
  // the rest of the rules, without repeating what is already reported as missing
  const reported = ['name-description', ...['uuid', 'name-label', 'version'].filter((a) => attrs[a] === undefined)];
  problems.push(...updateDocumentProblems(doc).filter((p) => !reported.some((r) => p.startsWith(`${r} `))));
  return { doc, attributes: attrs, problems };
}
