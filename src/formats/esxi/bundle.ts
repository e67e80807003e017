/**
 * The offline bundle's XML documents (`esxi.md` §5): `index.xml`, `vendor-index.xml` and
 * `vmware.xml` indented by two spaces as VMware writes them, the bulletin (component) on one
 * line, and the name of a `vibs/` record.
 */
import { createHash } from 'node:crypto';
import { attrs } from '../xml.js';
import { oneLineText, platformXml, relationshipsXml, type Relationships, type SoftwarePlatform } from './descriptor.js';

const el = (tag: string, text: string) => `<${tag}>${oneLineText(text)}</${tag}>`;

/** Lines of an indented document, each with a trailing newline. */
const lines = (rows: [depth: number, text: string][]) => rows.map(([d, t]) => `${'  '.repeat(d)}${t}\n`).join('');

export function indexXml(vendor: { name: string; code: string }): string {
  return lines([
    [0, '<vendorList>'],
    [1, '<vendor>'],
    [2, el('name', vendor.name)],
    [2, el('code', vendor.code)],
    [2, '<indexfile>vendor-index.xml</indexfile>'],
    [2, '<patchUrl></patchUrl>'],
    [2, '<relativePath></relativePath>'],
    [2, '<content>'],
    [3, '<name>VMware ESX</name>'],
    [3, '<type>http://www.vmware.com/depotmanagement/esx</type>'],
    [2, '</content>'],
    [1, '</vendor>'],
    [0, '</vendorList>'],
  ]);
}

export function vendorIndexXml(versions: readonly string[], metadataZip = 'metadata.zip'): string {
  return lines([
    [0, '<metaList>'],
    ...versions.flatMap((v): [number, string][] => [
      [1, '<metadata>'],
      [2, '<productId>embeddedEsx</productId>'],
      [2, el('version', v)],
      [2, '<locale></locale>'],
      [2, el('url', metadataZip)],
      [2, '<channelName>default</channelName>'],
      [1, '</metadata>'],
    ]),
    [0, '</metaList>'],
  ]);
}

export interface Bulletin {
  id: string;
  vendor: string;
  summary: string;
  severity: string;
  category: string;
  urgency: string;
  description: string;
  kbUrl: string;
  contact: string;
  component: { name: string; uiString: string };
  componentVersion: { uiString: string; version: string };
  releaseDate: string;
  platforms: SoftwarePlatform[];
  vibIds: string[];
}

/** The bulletin's elements before `vibList`, in VMware 7.0/8.0's order. */
function bulletinHead(b: Bulletin): string[] {
  return [
    el('id', b.id),
    el('vendor', b.vendor),
    el('summary', b.summary),
    el('severity', b.severity),
    el('category', b.category),
    el('urgency', b.urgency),
    '<releaseType>extension</releaseType>',
    el('description', b.description),
    el('kbUrl', b.kbUrl),
    el('contact', b.contact),
    `<componentNameSpec${attrs([['name', b.component.name], ['uiString', b.component.uiString]])}/>`,
    `<componentVersionSpec${attrs([['uiString', b.componentVersion.uiString], ['version', b.componentVersion.version]])}/>`,
    el('releaseDate', b.releaseDate),
  ];
}

/** `bulletins/<id>.xml`: one line. */
export function bulletinXml(b: Bulletin): string {
  return `<bulletin>${bulletinHead(b).join('')}<platforms>${b.platforms.map((p) => platformXml('softwarePlatform', p)).join('')}</platforms><vibList>${b.vibIds.map((id) => el('vibID', id)).join('')}</vibList></bulletin>`;
}

/** A VIB's record in `vmware.xml` (§5.5). */
export interface VibMetadata {
  id: string;
  name: string;
  version: string;
  vendor: string;
  type: string;
  summary: string;
  maintenanceMode: boolean;
  platforms: SoftwarePlatform[];
  relationships: Relationships;
  liveInstall: boolean;
  tags: string[];
  relativePath: string;
  packedSize: number;
  sha256: string;
}

/** Relationships indented, one element a line (vmware.xml is indented throughout). */
function relationshipRows(r: Relationships, depth: number): [number, string][] {
  // the one-line form split at element boundaries, then indented by nesting
  const rows: [number, string][] = [];
  let d = depth;
  for (const tag of relationshipsXml(r).match(/<[^>]+>/g) ?? []) {
    if (tag.startsWith('</')) rows.push([--d, tag]);
    else if (tag.endsWith('/>')) rows.push([d, tag]);
    else rows.push([d++, tag]);
  }
  return rows;
}

export function vmwareXml(timestamp: string, b: Bulletin, vibs: readonly VibMetadata[]): string {
  const vibRows = vibs.flatMap((v): [number, string][] => [
    [3, '<vib>'],
    [4, '<vibVersion>1.4.5</vibVersion>'],
    [4, el('vibID', v.id)],
    [4, el('name', v.name)],
    [4, el('version', v.version)],
    [4, el('vendor', v.vendor)],
    [4, el('vibType', v.type)],
    [4, el('summary', v.summary)],
    [4, '<systemReqs>'],
    [5, el('maintenanceMode', v.maintenanceMode ? 'true' : 'false')],
    ...v.platforms.map((p): [number, string] => [5, platformXml('swPlatform', p)]),
    [4, '</systemReqs>'],
    ...relationshipRows(v.relationships, 4),
    [4, '<postInstall>'],
    [5, el('rebootRequired', v.liveInstall ? 'false' : 'true')],
    [5, '<hostdRestart>false</hostdRestart>'],
    [4, '</postInstall>'],
    ...(v.tags.length ? [[4, '<softwareTags>'] as [number, string], ...v.tags.map((t): [number, string] => [5, el('tag', t)]), [4, '</softwareTags>'] as [number, string]] : [[4, '<softwareTags/>'] as [number, string]]),
    [4, '<vibFile>'],
    [5, '<sourceUrl></sourceUrl>'],
    [5, el('relativePath', v.relativePath)],
    [5, el('packedSize', String(v.packedSize))],
    [5, '<checksum>'],
    [6, '<checksumType>sha-256</checksumType>'],
    [6, el('checksum', v.sha256)],
    [5, '</checksum>'],
    [4, '</vibFile>'],
    [3, '</vib>'],
  ]);
  return lines([
    [0, '<metadataResponse>'],
    [1, '<version>3.0</version>'],
    [1, el('timestamp', timestamp)],
    [1, '<bulletin>'],
    ...bulletinHead(b).map((t): [number, string] => [2, t]),
    [2, '<platforms>'],
    ...b.platforms.map((p): [number, string] => [3, platformXml('softwarePlatform', p)]),
    [2, '</platforms>'],
    [2, '<vibList>'],
    ...vibRows,
    [2, '</vibList>'],
    [1, '</bulletin>'],
    [0, '</metadataResponse>'],
  ]);
}

/**
 * `vibs/<VIB name>-<n>.xml` (§8.3): n = the first 8 bytes of SHA-256 of the VIB ID, an unsigned
 * big-endian number shifted right by one (VMware's numbers are opaque; this one is stable).
 */
export function vibRecordName(vibName: string, vibId: string): string {
  const n = createHash('sha256').update(vibId).digest().readBigUInt64BE(0) >> 1n;
  return `vibs/${vibName}-${n}.xml`;
}
