/**
 * The three package documents (primary, filelists, other) as createrepo_c 0.x writes them: one
 * `<package>` chunk per package, produced on its own so the documents can be streamed package by
 * package. Element order, attribute order, indentation and escaping follow createrepo_c's
 * libxml2 output byte for byte (checked against it by the tests).
 *
 * Where the reference is createrepo_c 0.17 (Debian 12, what the tests run): no `vcs` attribute on
 * `<version>` (0.17 does not write one, whatever the VCS tag says); header strings that are not
 * valid UTF-8 arrive here with U+FFFD (createrepo_c reinterprets them as Latin-1); legacy SUSE
 * weak dependencies (tags 1156–1161) are not translated into recommends/suggests.
 */
import { FormatError } from '../../errors.js';
import { attrs as xmlAttrs, escapeText, forbiddenXmlChar } from '../xml.js';
import { DEPENDENCY_KINDS, isPrimaryFile, type RepoDependency, type RepoFile, type RepoPackage } from './package.js';

export type MetadataType = 'primary' | 'filelists' | 'other';

const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
const ROOTS: Record<MetadataType, [open: string, close: string]> = {
  primary: ['<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm"', '</metadata>'],
  filelists: ['<filelists xmlns="http://linux.duke.edu/metadata/filelists"', '</filelists>'],
  other: ['<otherdata xmlns="http://linux.duke.edu/metadata/other"', '</otherdata>'],
};

/** Declaration and root start tag; `count` is the number of packages that will follow. */
export function documentStart(type: MetadataType, count: number): string {
  return `${XML_DECL}${ROOTS[type][0]} packages="${count}">\n`;
}

/** The root end tag; createrepo_c writes no newline after it. */
export function documentEnd(type: MetadataType): string {
  return ROOTS[type][1];
}

/** Text content, refusing characters XML cannot carry (createrepo_c refuses such packages too). */
function text(s: string, what: string): string {
  checkChars(s, what);
  return escapeText(s);
}

function attrs(list: readonly (readonly [string, string | number | undefined])[], what: string): string {
  for (const [, v] of list) if (typeof v === 'string') checkChars(v, what);
  return xmlAttrs(list);
}

function checkChars(s: string, what: string): void {
  const bad = forbiddenXmlChar(s);
  if (bad) throw new FormatError(`${what} contains the control character U+${bad.code.toString(16).toUpperCase().padStart(4, '0')}, which XML 1.0 cannot carry`);
}

function versionTag(p: RepoPackage, indent: string): string {
  return `${indent}<version${attrs([['epoch', p.epoch], ['ver', p.version], ['rel', p.release]], 'version')}/>\n`;
}

function fileTags(files: readonly RepoFile[], indent: string): string {
  let out = '';
  for (const f of files) out += `${indent}<file${f.type ? ` type="${f.type}"` : ''}>${text(f.path, 'file name')}</file>\n`;
  return out;
}

function dependencyBlock(kind: string, deps: readonly RepoDependency[]): string {
  if (deps.length === 0) return '';
  let out = `    <rpm:${kind}>\n`;
  for (const d of deps) {
    const list: [string, string | undefined][] = [['name', d.name]];
    if (d.flags) list.push(['flags', d.flags], ['epoch', d.epoch], ['ver', d.ver], ['rel', d.rel]);
    if (d.pre) list.push(['pre', '1']);
    out += `      <rpm:entry${attrs(list, `${kind} entry`)}/>\n`;
  }
  return `${out}    </rpm:${kind}>\n`;
}

export interface Placement {
  /** Path relative to the repository root. */
  href: string;
  /** The RPM file's modification time (seconds). */
  mtime: number;
}

/** One `<package>` of primary.xml. */
export function primaryPackage(p: RepoPackage, at: Placement): string {
  const t = (s: string, what: string): string => text(s, what);
  let out = '<package type="rpm">\n';
  out += `  <name>${t(p.name, 'name')}</name>\n`;
  out += `  <arch>${t(p.arch, 'arch')}</arch>\n`;
  out += versionTag(p, '  ');
  out += `  <checksum type="${p.checksumType}" pkgid="YES">${p.checksum}</checksum>\n`;
  out += `  <summary>${t(p.summary, 'summary')}</summary>\n`;
  out += `  <description>${t(p.description, 'description')}</description>\n`;
  out += `  <packager>${t(p.packager, 'packager')}</packager>\n`;
  out += `  <url>${t(p.url, 'url')}</url>\n`;
  out += `  <time${attrs([['file', at.mtime], ['build', p.buildTime]], 'time')}/>\n`;
  out += `  <size${attrs([['package', p.size.package], ['installed', p.size.installed], ['archive', p.size.archive]], 'size')}/>\n`;
  out += `  <location${attrs([['href', at.href]], 'location')}/>\n`;
  out += '  <format>\n';
  out += `    <rpm:license>${t(p.license, 'license')}</rpm:license>\n`;
  out += `    <rpm:vendor>${t(p.vendor, 'vendor')}</rpm:vendor>\n`;
  out += `    <rpm:group>${t(p.group, 'group')}</rpm:group>\n`;
  out += `    <rpm:buildhost>${t(p.buildhost, 'buildhost')}</rpm:buildhost>\n`;
  out += `    <rpm:sourcerpm>${t(p.sourcerpm, 'sourcerpm')}</rpm:sourcerpm>\n`;
  out += `    <rpm:header-range start="${p.headerRange.start}" end="${p.headerRange.end}"/>\n`;
  for (const kind of DEPENDENCY_KINDS) out += dependencyBlock(kind, p.deps[kind]);
  out += fileTags(p.files.filter((f) => isPrimaryFile(f.path)), '    ');
  out += '  </format>\n';
  return `${out}</package>\n`;
}

function packageStart(p: RepoPackage): string {
  return `<package${attrs([['pkgid', p.checksum], ['name', p.name], ['arch', p.arch]], 'package')}>\n${versionTag(p, '  ')}`;
}

/** One `<package>` of filelists.xml: every file. */
export function filelistsPackage(p: RepoPackage): string {
  return `${packageStart(p)}${fileTags(p.files, '  ')}</package>\n`;
}

/** One `<package>` of other.xml: the changelog entries. */
export function otherPackage(p: RepoPackage): string {
  let out = packageStart(p);
  for (const c of p.changelogs) {
    out += `  <changelog${attrs([['author', c.author], ['date', c.date]], 'changelog author')}>${text(c.text, 'changelog')}</changelog>\n`;
  }
  return `${out}</package>\n`;
}
