/**
 * The files of a given RPM as a tree gets them when the package is unpacked (`rpm2cpio | cpio -id`,
 * what mkdud does for a SUSE update's `inst-sys/`): read once for their SHA-256, each file's bytes
 * streamed again from the payload when the tree is written (nothing is kept in memory).
 */
import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { memberKey, type RpmPackage } from '../formats/rpm/read.js';
import type { Source } from '../tree/source.js';

export interface PayloadFile {
  /** Relative to the package's root (`lib/modules/…`). */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits (07777). */
  mode: number;
  target?: string;
  /** Regular files: hex SHA-256 of the bytes, and the bytes. */
  sha256?: string;
  source?: Source;
}

/** The member's bytes, found by walking the payload again (a hard link's data lies on the set's last member). */
function memberSource(pkg: RpmPackage, path: string, size: number, dataAt: string): Source {
  return {
    size,
    origin: `${pkg.path}: ${path}`,
    async *open() {
      for await (const m of pkg.payloadEntries()) {
        if (memberKey(m.name) !== dataAt) continue;
        yield* m.data;
        return;
      }
      throw new UserError(`${path} is missing from the payload`, pkg.path);
    },
  };
}

export async function payloadFiles(pkg: RpmPackage): Promise<PayloadFile[]> {
  const out: PayloadFile[] = [];
  // hard-linked files: every member of a set but the last has size 0; the set shares the inode
  const pendingLinks = new Map<number, PayloadFile[]>();
  for await (const m of pkg.payloadEntries()) {
    const path = memberKey(m.name);
    const mode = m.file.mode & 0o7777;
    if (m.file.type === 'dir') out.push({ path, type: 'dir', mode });
    else if (m.file.type === 'symlink') out.push({ path, type: 'symlink', mode, target: m.file.linkTo });
    else if (m.file.type === 'file') {
      const entry: PayloadFile = { path, type: 'file', mode };
      out.push(entry);
      if (m.size === 0 && m.file.size > 0) {
        pendingLinks.set(m.file.inode, [...(pendingLinks.get(m.file.inode) ?? []), entry]);
        continue;
      }
      const h = createHash('sha256');
      for await (const chunk of m.data) h.update(chunk);
      entry.sha256 = h.digest('hex');
      entry.source = memberSource(pkg, path, m.size, path);
      for (const linked of pendingLinks.get(m.file.inode) ?? []) {
        linked.sha256 = entry.sha256;
        linked.source = memberSource(pkg, linked.path, m.size, path);
      }
      pendingLinks.delete(m.file.inode);
    } else throw new UserError(`${path}: a ${m.file.type} file; a SUSE inst-sys/ takes files, folders and symlinks only`, pkg.path);
  }
  if (pendingLinks.size > 0) throw new UserError('a hard-linked file set has no member carrying its data', pkg.path);
  return out;
}

/** Hex SHA-256 of a source's bytes. */
export async function sha256Of(source: Source): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of source.open()) h.update(chunk);
  return h.digest('hex');
}
