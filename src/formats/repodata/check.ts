/**
 * Checking a repository the way dnf/librepo and yum use it (repodata.md "What readers check"):
 * repomd.xml parses; every file it lists exists with the size and checksum given, and its
 * uncompressed form with the open-size and open-checksum; primary lists every package once, at
 * a safe relative location, whose file has the size and checksum given. Files are reached
 * through a lookup, so the same check runs on a folder or inside an image.
 */
import { createHash } from 'node:crypto';
import { FormatError } from '../../errors.js';
import type { Source } from '../../tree/source.js';
import { TooLargeError } from '../../tree/bounded.js';
import { parsePrimary, parseRepomd, readMetadataBytes, type PrimaryPackage, type Repomd } from './read.js';

/** A file of the repository by its path relative to the repository root, or undefined. */
export type RepoLookup = (path: string) => Promise<Source | undefined>;

export interface RepositoryCheck {
  repomd?: Repomd;
  packages: PrimaryPackage[];
  /** One line per failed rule; empty when the repository is sound. */
  problems: string[];
}

const HASHES = new Set(['sha256', 'sha1', 'sha512', 'sha384', 'sha224', 'md5']);
/** repomd/primary say `sha` for SHA-1 in old yum repositories. */
const hashName = (t: string): string => (t === 'sha' ? 'sha1' : t);

async function digest(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, type: string): Promise<{ hex: string; size: number }> {
  // the type comes from the metadata: one this reader does not know is the repository's fault
  if (!HASHES.has(hashName(type))) throw new FormatError(`unknown checksum type ${JSON.stringify(type)}`);
  const h = createHash(hashName(type));
  let size = 0;
  for await (const c of stream) {
    h.update(c);
    size += c.length;
  }
  return { hex: h.digest('hex'), size };
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c);
  return Buffer.concat(parts);
}

function safeHref(href: string): boolean {
  return href !== '' && !href.startsWith('/') && !href.includes('\0') && !href.split('/').some((p) => p === '' || p === '.' || p === '..');
}

/**
 * Check the repository reachable through `lookup`. `rpmFiles`, when given, are the `.rpm` paths
 * actually present (relative to the root): primary must describe exactly those.
 * `checkPackages: false` skips hashing the RPMs themselves.
 */
export async function checkRepository(lookup: RepoLookup, rpmFiles?: readonly string[], opts: { checkPackages?: boolean } = {}): Promise<RepositoryCheck> {
  const problems: string[] = [];
  const repomdSource = await lookup('repodata/repomd.xml');
  if (!repomdSource) return { packages: [], problems: ['repodata/repomd.xml is missing'] };
  let repomd: Repomd;
  try {
    repomd = parseRepomd(await collect(repomdSource.open()));
  } catch (err) {
    return { packages: [], problems: [`repodata/repomd.xml: ${(err as Error).message}`] };
  }

  let packages: PrimaryPackage[] = [];
  for (const d of repomd.data) {
    const where = `repomd.xml <data type="${d.type}">`;
    if (!safeHref(d.href)) {
      problems.push(`${where}: unsafe location ${JSON.stringify(d.href)}`);
      continue;
    }
    if (!HASHES.has(hashName(d.checksum.type))) {
      problems.push(`${where}: unknown checksum type ${JSON.stringify(d.checksum.type)}`);
      continue;
    }
    const file = await lookup(d.href);
    if (!file) {
      problems.push(`${where}: ${d.href} is missing`);
      continue;
    }
    const got = await digest(file.open(), d.checksum.type);
    if (d.size !== undefined && got.size !== d.size) problems.push(`${d.href}: ${got.size} bytes, repomd.xml says ${d.size}`);
    if (got.hex !== d.checksum.value) problems.push(`${d.href}: checksum doesn't match repomd.xml (${d.checksum.type} ${got.hex})`);
    if (d.openChecksum || d.type === 'primary') {
      try {
        const xml = await readMetadataBytes(file);
        if (d.openChecksum) {
          const open = await digest([xml], d.openChecksum.type);
          if (d.openSize !== undefined && open.size !== d.openSize) problems.push(`${d.href}: ${open.size} bytes uncompressed, repomd.xml says ${d.openSize}`);
          if (open.hex !== d.openChecksum.value) problems.push(`${d.href}: uncompressed checksum doesn't match repomd.xml open-checksum`);
        }
        if (d.type === 'primary') packages = parsePrimary(xml);
      } catch (err) {
        // a dudkit limit is not a defect of the repository: it ends the check, it is not a finding
        if (!(err instanceof FormatError) || err instanceof TooLargeError) throw err;
        problems.push(`${d.href}: ${err.message}`);
      }
    }
  }
  if (!repomd.data.some((d) => d.type === 'primary')) problems.push('repomd.xml lists no primary metadata');

  const seen = new Set<string>();
  const missing = new Set<string>();
  for (const p of packages) {
    const where = `primary.xml package ${p.name}-${p.version}-${p.release}.${p.arch}`;
    if (!safeHref(p.href)) {
      problems.push(`${where}: unsafe location ${JSON.stringify(p.href)}`);
      continue;
    }
    if (seen.has(p.href)) problems.push(`${where}: location ${p.href} listed twice`);
    seen.add(p.href);
    if (opts.checkPackages === false) continue;
    const file = await lookup(p.href);
    if (!file) {
      problems.push(`${where}: ${p.href} is missing`);
      missing.add(p.href);
      continue;
    }
    if (!HASHES.has(hashName(p.checksum.type))) {
      problems.push(`${where}: unknown checksum type ${JSON.stringify(p.checksum.type)}`);
      continue;
    }
    const got = await digest(file.open(), p.checksum.type);
    if (got.size !== p.size.package) problems.push(`${p.href}: ${got.size} bytes, primary.xml says ${p.size.package}`);
    if (got.hex !== p.checksum.value) problems.push(`${p.href}: checksum doesn't match primary.xml (stale repodata?)`);
  }
  if (rpmFiles) {
    for (const f of rpmFiles) if (!seen.has(f)) problems.push(`${f} is not described by primary.xml`);
    const present = new Set(rpmFiles);
    for (const href of seen) if (!present.has(href) && !missing.has(href)) problems.push(`primary.xml lists ${href}, which is not in the repository`);
  }
  return { repomd, packages, problems };
}
