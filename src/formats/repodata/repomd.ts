/**
 * `repomd.xml`, the index of a repository's metadata files, in createrepo_c's layout: data
 * records in the given order, children `checksum`, `open-checksum`, `location`, `timestamp`,
 * `size`, `open-size` (the `open-*` ones only for compressed files), two-space indentation,
 * final newline.
 */
import { attrs, escapeText } from '../xml.js';
import type { ChecksumType } from './package.js';

export interface RepomdRecord {
  /** `primary`, `filelists`, `other`, `group`, `group_gz`, … */
  type: string;
  checksum: string;
  openChecksum?: string;
  /** Relative to the repository root: `repodata/<name>`. */
  href: string;
  timestamp: number;
  size: number;
  openSize?: number;
}

export function repomdXml(revision: string, records: readonly RepomdRecord[], checksumType: ChecksumType): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
  out += '<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n';
  out += `  <revision>${escapeText(revision)}</revision>\n`;
  for (const r of records) {
    out += `  <data${attrs([['type', r.type]])}>\n`;
    out += `    <checksum type="${checksumType}">${r.checksum}</checksum>\n`;
    if (r.openChecksum !== undefined) out += `    <open-checksum type="${checksumType}">${r.openChecksum}</open-checksum>\n`;
    out += `    <location${attrs([['href', r.href]])}/>\n`;
    out += `    <timestamp>${r.timestamp}</timestamp>\n`;
    out += `    <size>${r.size}</size>\n`;
    if (r.openSize !== undefined) out += `    <open-size>${r.openSize}</open-size>\n`;
    out += '  </data>\n';
  }
  return `${out}</repomd>\n`;
}
