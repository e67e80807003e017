/**
 * Generating a repository's `repodata/` from its RPMs (repodata.md), without createrepo_c.
 *
 * Each package's stream is read once: its headers from the first bytes, its checksum and size
 * from all of them. Packages are taken in createrepo_c's order and their `<package>` chunks go
 * straight into three gzip spools in the scratch folder, so memory holds one package's headers
 * at a time. `repomd.xml` is written last, from the spools' checksums and sizes.
 *
 * Use in a layout: `tree.generatedDir('<repo>/repodata', repodataDir(pkgs, opts))`, where each
 * package names its tree path and its `href` relative to `<repo>`; the folder's files are only
 * known once built, because their names carry their checksums.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { asUserError, UserError } from '../../errors.js';
import type { BuildRun } from '../../tree/artifacts.js';
import { inlineHashing, type Hashing, type HashingScope } from '../../tree/hashing.js';
import { identityOf } from '../../tree/identity.js';
import type { Scratch } from '../../tree/scratch.js';
import { bytesSource, type Source } from '../../tree/source.js';
import { compsXml, type CompsGroup } from './comps.js';
import { documentEnd, documentStart, filelistsPackage, otherPackage, primaryPackage, type MetadataType } from './metadata.js';
import { CHANGELOG_LIMIT, readRepoPackage, type ChecksumType } from './package.js';
import { repomdXml, type RepomdRecord } from './repomd.js';
import { GzipSpool, gzipSmall, type SpooledFile } from './spool.js';
import { inOrder } from '../../tree/in-order.js';

export interface RepoInput {
  /** Location relative to the repository root (`kmod-foo-1.0-1.x86_64.rpm`, `Packages/x.rpm`). */
  href: string;
  source: Source;
  /** The RPM file's mtime as it will be on the medium; default `epoch`. */
  mtime?: number;
}

export interface RepodataOptions {
  /** SOURCE_DATE_EPOCH: the revision, every timestamp, and the default package mtime. */
  epoch: number;
  /** `sha256` (default) everywhere; `sha1` only for RHEL 5's yum. */
  checksum?: ChecksumType;
  /** A comps group file, stored plain (`group`) and gzipped (`group_gz`). */
  groups?: readonly CompsGroup[];
  /** `<checksum>-<type>.xml.gz` names (createrepo_c's default, true) or plain `<type>.xml.gz`. */
  uniqueNames?: boolean;
  changelogLimit?: number;
  /**
   * Signs repomd.xml (yum's `repo_gpgcheck`): given its exact bytes, returns an armored detached
   * OpenPGP signature, stored as `repodata/repomd.xml.asc`.
   */
  signRepomd?: (repomd: Uint8Array) => Promise<Uint8Array | string>;
}

/** A generated file, its path relative to the repository root (`repodata/…`). */
export interface RepodataFile {
  path: string;
  source: Source;
}

const TYPES: readonly MetadataType[] = ['primary', 'filelists', 'other'];
/** Packages read ahead of the one being written: bounded memory, overlapping I/O. */
const READ_AHEAD = 4;
const READ_BUFFER = 1 << 20;

/**
 * The repository's metadata files. `hashing`: where the packages' checksums are computed (the
 * build's worker pool: its lanes hash while the main thread parses; the bytes do not depend on it).
 */
export async function buildRepodata(packages: readonly RepoInput[], opts: RepodataOptions, scratch: Scratch, hashing: HashingScope = inlineHashing): Promise<RepodataFile[]> {
  const checksumType = opts.checksum ?? 'sha256';
  const unique = opts.uniqueNames ?? true;
  const ordered = createrepoOrder(packages);
  const totalBytes = ordered.reduce((n, p) => n + p.source.size, 0);
  const spooled = await hashing(checksumType, totalBytes, (h) => spoolMetadata(ordered, opts, scratch, h));

  const files: RepodataFile[] = [];
  const records: RepomdRecord[] = [];
  const add = (type: string, name: string, source: Source, rec: Omit<RepomdRecord, 'type' | 'href' | 'timestamp'>): void => {
    const path = `repodata/${unique ? `${rec.checksum}-` : ''}${name}`;
    files.push({ path, source });
    records.push({ type, href: path, timestamp: opts.epoch, ...rec });
  };
  TYPES.forEach((type, i) => {
    const s = spooled[i]!;
    add(type, `${type}.xml.gz`, s.source, { checksum: s.checksum, openChecksum: s.openChecksum, size: s.size, openSize: s.openSize });
  });
  if (opts.groups) {
    const xml = new TextEncoder().encode(compsXml(opts.groups));
    const gz = gzipSmall(xml);
    const digest = (b: Uint8Array): string => createHash(checksumType).update(b).digest('hex');
    add('group', 'groups.xml', bytesSource(xml, 'generated groups.xml'), { checksum: digest(xml), size: xml.length });
    add('group_gz', 'groups.xml.gz', bytesSource(gz, 'generated groups.xml.gz'), {
      checksum: digest(gz), openChecksum: digest(xml), size: gz.length, openSize: xml.length,
    });
  }
  const repomd = new TextEncoder().encode(repomdXml(String(opts.epoch), records, checksumType));
  files.unshift({ path: 'repodata/repomd.xml', source: bytesSource(repomd, 'generated repomd.xml') });
  if (opts.signRepomd) files.push({ path: 'repodata/repomd.xml.asc', source: bytesSource(await opts.signRepomd(repomd), 'generated repomd.xml.asc') });
  return files;
}

/**
 * The three metadata documents, gzipped into scratch spools: packages read a few ahead (their
 * I/O and hashing overlap), their chunks written strictly in order.
 */
async function spoolMetadata(ordered: readonly RepoInput[], opts: RepodataOptions, scratch: Scratch, hashing: Hashing): Promise<SpooledFile[]> {
  const checksumType = opts.checksum ?? 'sha256';
  const spools: GzipSpool[] = [];
  try {
    for (const type of TYPES) spools.push(await GzipSpool.create(scratch.path(`${type}.xml.gz`), checksumType, `generated ${type}.xml.gz`));
    const [primary, filelists, other] = spools as [GzipSpool, GzipSpool, GzipSpool];
    for (const [i, type] of TYPES.entries()) await spools[i]!.write(documentStart(type, ordered.length));
    // one read buffer per package in flight, handed from package to package
    const buffers = Array.from({ length: READ_AHEAD }, () => new Uint8Array(READ_BUFFER));
    const chunksOf = async (input: RepoInput): Promise<[string, string, string]> => {
      const buffer = buffers.pop()!;
      try {
        const pkg = await readRepoPackage(input.source, checksumType, opts.changelogLimit ?? CHANGELOG_LIMIT, buffer, hashing);
        return [primaryPackage(pkg, { href: input.href, mtime: input.mtime ?? opts.epoch }), filelistsPackage(pkg), otherPackage(pkg)];
      } catch (err) {
        asUserError(err, input.source.origin);
      } finally {
        buffers.push(buffer);
      }
    };
    await inOrder(ordered, READ_AHEAD, chunksOf, async ([p, f, o]) => {
      await primary.write(p);
      await filelists.write(f);
      await other.write(o);
    });
    const spooled: SpooledFile[] = [];
    for (const [i, type] of TYPES.entries()) {
      await spools[i]!.write(documentEnd(type));
      spooled.push(await spools[i]!.finish());
    }
    return spooled;
  } catch (err) {
    await Promise.all(spools.map((s) => s.abort()));
    throw err;
  }
}

/**
 * createrepo_c's package order (`task_cmp`): by file base name, then by the whole relative path,
 * both as bytes. Also refuses locations that are not plain relative paths, or given twice.
 */
export function createrepoOrder<T extends { href: string }>(packages: readonly T[]): T[] {
  const seen = new Set<string>();
  for (const p of packages) {
    const parts = p.href.split('/');
    if (p.href.startsWith('/') || p.href.includes('\0') || parts.some((x) => x === '' || x === '.' || x === '..')) {
      throw new UserError(`package location must be a relative path inside the repository: ${JSON.stringify(p.href)}`);
    }
    if (seen.has(p.href)) throw new UserError(`package location given twice: ${p.href}`);
    seen.add(p.href);
  }
  const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
  return [...packages].sort((a, b) => Buffer.compare(bytes(basename(a.href)), bytes(basename(b.href))) || Buffer.compare(bytes(a.href), bytes(b.href)));
}

/** A package as a layout places it: its path in the tree and its location in the repository. */
export interface RepoTreePackage {
  /** Tree path of the RPM (a dependency of the generated folder). */
  path: string;
  /** Relative to the repository root. */
  href: string;
  mtime?: number;
}

/**
 * The `repodata/` folder as a generated tree folder (the Tree's GeneratedDir shape): its
 * dependencies are the RPMs' tree paths; it builds to `repomd.xml` and the metadata files,
 * named relative to the folder.
 */
export function repodataDir(packages: readonly RepoTreePackage[], opts: RepodataOptions): {
  deps: readonly string[];
  key?: string;
  build(deps: Source[], scratch: Scratch, run: BuildRun): Promise<{ path: string; source: Source }[]>;
} {
  // the same packages at the same places give the same metadata (unless a signer is involved)
  const key = identityOf(['repodata', packages.map((p) => [p.href, p.mtime]), opts]);
  return {
    deps: packages.map((p) => p.path),
    ...(key !== undefined ? { key } : {}),
    async build(deps, scratch, run) {
      const inputs = packages.map((p, i) => ({ href: p.href, source: deps[i]!, mtime: p.mtime }));
      const files = await buildRepodata(inputs, opts, scratch, run.hashing);
      return files.map((f) => ({ path: f.path.slice('repodata/'.length), source: f.source }));
    },
  };
}
