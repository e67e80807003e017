/**
 * Reading repository metadata back (for `inspect`/`verify`): repomd.xml, and the package lists of
 * primary, filelists and other, compressed or not. The documents are parsed whole with
 * fast-xml-parser; a driver medium's metadata is small, and the RPMs are never read here.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError } from '../../errors.js';
import type { Source } from '../../tree/source.js';
import { ReadBudget, readWhole } from '../../tree/bounded.js';
import { decompress } from '../compress/index.js';
import { DEPENDENCY_KINDS, type DependencyKind, type DepFlags, type RepoChangelog, type RepoDependency, type RepoFile } from './package.js';

export interface Checksum {
  type: string;
  value: string;
}

export interface RepomdData {
  type: string;
  checksum: Checksum;
  openChecksum?: Checksum;
  href: string;
  timestamp?: number;
  size?: number;
  openSize?: number;
}

export interface Repomd {
  revision: string;
  data: RepomdData[];
}

export interface PackageId {
  pkgid: string;
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
}

export interface PrimaryPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  checksum: Checksum;
  summary: string;
  description: string;
  href: string;
  time: { file: number; build: number };
  size: { package: number; installed: number; archive: number };
  sourcerpm: string;
  headerRange: { start: number; end: number };
  deps: Record<DependencyKind, RepoDependency[]>;
  /** The primary subset of the files. */
  files: RepoFile[];
}

type Node = Record<string, unknown>;

const ARRAYS = new Set(['data', 'package', 'entry', 'file', 'changelog']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  alwaysCreateTextNode: true,
  htmlEntities: true,
  isArray: (name) => ARRAYS.has(name),
});

function parse(xml: Uint8Array | string, what: string): Node {
  const text = typeof xml === 'string' ? xml : new TextDecoder().decode(xml);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new FormatError(`${what}: not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  return parser.parse(text) as Node;
}

function child(n: Node | undefined, name: string): Node | undefined {
  return n?.[name] as Node | undefined;
}

function children(n: Node | undefined, name: string): Node[] {
  return (n?.[name] as Node[] | undefined) ?? [];
}

function textOf(n: Node | undefined): string {
  return (n?.['#text'] as string | undefined) ?? '';
}

function attr(n: Node | undefined, name: string): string | undefined {
  return n?.[`@${name}`] as string | undefined;
}

function need(n: Node | undefined, name: string, what: string): string {
  const v = attr(n, name);
  if (v === undefined) throw new FormatError(`${what}: missing attribute ${name}`);
  return v;
}

function num(s: string | undefined): number | undefined {
  return s === undefined || s === '' ? undefined : Number(s);
}

export function parseRepomd(xml: Uint8Array | string): Repomd {
  const root = child(parse(xml, 'repomd.xml'), 'repomd');
  if (!root) throw new FormatError('repomd.xml: no <repomd> root element');
  return {
    revision: textOf(child(root, 'revision')),
    data: children(root, 'data').map((d) => {
      const type = need(d, 'type', 'repomd.xml <data>');
      const sum = child(d, 'checksum');
      const open = child(d, 'open-checksum');
      const out: RepomdData = {
        type,
        checksum: { type: attr(sum, 'type') ?? '', value: textOf(sum) },
        href: need(child(d, 'location'), 'href', `repomd.xml <data type="${type}"> <location>`),
      };
      if (open) out.openChecksum = { type: attr(open, 'type') ?? '', value: textOf(open) };
      const timestamp = num(textOf(child(d, 'timestamp')));
      const size = num(textOf(child(d, 'size')));
      const openSize = num(textOf(child(d, 'open-size')));
      if (timestamp !== undefined) out.timestamp = timestamp;
      if (size !== undefined) out.size = size;
      if (openSize !== undefined) out.openSize = openSize;
      return out;
    }),
  };
}

function dependency(e: Node): RepoDependency {
  const d: RepoDependency = { name: attr(e, 'name') ?? '' };
  const flags = attr(e, 'flags');
  if (flags !== undefined) {
    d.flags = flags as DepFlags;
    const epoch = attr(e, 'epoch');
    const ver = attr(e, 'ver');
    const rel = attr(e, 'rel');
    if (epoch !== undefined) d.epoch = epoch;
    if (ver !== undefined) d.ver = ver;
    if (rel !== undefined) d.rel = rel;
  }
  if (attr(e, 'pre') === '1') d.pre = true;
  return d;
}

function files(n: Node): RepoFile[] {
  return children(n, 'file').map((f) => {
    const type = attr(f, 'type');
    return type === 'dir' || type === 'ghost' ? { path: textOf(f), type } : { path: textOf(f) };
  });
}

function version(p: Node): { epoch: string; version: string; release: string } {
  const v = child(p, 'version');
  return { epoch: attr(v, 'epoch') ?? '0', version: attr(v, 'ver') ?? '', release: attr(v, 'rel') ?? '' };
}

export function parsePrimary(xml: Uint8Array | string): PrimaryPackage[] {
  const root = child(parse(xml, 'primary.xml'), 'metadata');
  if (!root) throw new FormatError('primary.xml: no <metadata> root element');
  return children(root, 'package').map((p) => {
    const format = child(p, 'format');
    const sum = child(p, 'checksum');
    const time = child(p, 'time');
    const size = child(p, 'size');
    const range = child(format, 'header-range');
    const name = textOf(child(p, 'name'));
    const deps = Object.fromEntries(DEPENDENCY_KINDS.map((k) => [k, children(child(format, k), 'entry').map(dependency)])) as Record<DependencyKind, RepoDependency[]>;
    return {
      name,
      arch: textOf(child(p, 'arch')),
      ...version(p),
      checksum: { type: attr(sum, 'type') ?? '', value: textOf(sum) },
      summary: textOf(child(p, 'summary')),
      description: textOf(child(p, 'description')),
      href: need(child(p, 'location'), 'href', `primary.xml package ${name} <location>`),
      time: { file: num(attr(time, 'file')) ?? 0, build: num(attr(time, 'build')) ?? 0 },
      size: { package: num(attr(size, 'package')) ?? 0, installed: num(attr(size, 'installed')) ?? 0, archive: num(attr(size, 'archive')) ?? 0 },
      sourcerpm: textOf(child(format, 'sourcerpm')),
      headerRange: { start: num(attr(range, 'start')) ?? 0, end: num(attr(range, 'end')) ?? 0 },
      deps,
      files: files(format ?? {}),
    };
  });
}

function packageId(p: Node): PackageId {
  return { pkgid: attr(p, 'pkgid') ?? '', name: attr(p, 'name') ?? '', arch: attr(p, 'arch') ?? '', ...version(p) };
}

export function parseFilelists(xml: Uint8Array | string): (PackageId & { files: RepoFile[] })[] {
  const root = child(parse(xml, 'filelists.xml'), 'filelists');
  if (!root) throw new FormatError('filelists.xml: no <filelists> root element');
  return children(root, 'package').map((p) => ({ ...packageId(p), files: files(p) }));
}

export function parseOther(xml: Uint8Array | string): (PackageId & { changelogs: RepoChangelog[] })[] {
  const root = child(parse(xml, 'other.xml'), 'otherdata');
  if (!root) throw new FormatError('other.xml: no <otherdata> root element');
  return children(root, 'package').map((p) => ({
    ...packageId(p),
    changelogs: children(p, 'changelog').map((c) => ({ author: attr(c, 'author') ?? '', date: num(attr(c, 'date')) ?? 0, text: textOf(c) })),
  }));
}

/**
 * A metadata file's XML bytes, decompressed by magic (gzip, xz, zstd, bzip2 or plain). Parsed
 * whole, so held within a read budget: a 150 KB primary.xml.gz may decompress to gigabytes.
 */
export async function readMetadataBytes(source: Source): Promise<Uint8Array> {
  return readWhole(() => decompress(source.open()), new ReadBudget(), `${source.origin} decompresses to`);
}
