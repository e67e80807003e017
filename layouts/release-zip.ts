/**
 * The XenServer release zip (`xenserver.md` §5): the pack ISO, `<name>.iso.md5`,
 * `<name>.metadata.md5`, the driver sources as `<label>-<RPM_VERSION>-src.tar.gz` (the GPL
 * obligation: a source folder and the given source RPMs), the pack's other side files (an update
 * pack's public key) and, for an update pack, a README on importing the key. Entries at the zip
 * root, deflated, at SOURCE_DATE_EPOCH.
 */
import { basename, posix, resolve } from 'node:path';
import { z } from 'zod';
import { archiveOf } from '../src/emit/archive.js';
import { checksumFile, checksumFiles } from '../src/emit/derived.js';
import { MAX_LENGTH, tooLong } from '../src/manifest/limits.js';
import { nest } from '../src/emit/nested.js';
import { UserError } from '../src/errors.js';
import { metadataMd5Line } from '../src/formats/xenserver/legacy.js';
import type { DriverSet } from '../src/model/driverset.js';
import { folderOrFile, type FolderEntry } from '../src/tree/folder.js';
import { bytesSource, digestOf, sliceSource, type Source } from '../src/tree/source.js';
import { Tree, type Generated, type ResolvedEntry } from '../src/tree/tree.js';
import { defineLayout, type Derived, type LayoutEnv, type Plan, type PrepareEnv } from './types.js';

export const releaseZipOptions = z.strictObject({
  out: z.string().min(1).optional(),
  /** The pack to ship. */
  of: z.enum(['xenserver-legacy', 'xenserver-update']).default('xenserver-legacy'),
  /** The ISO's file stem in the zip; default the pack's own (`<label>` legacy, `<label>-<version>` update). */
  name: z.string().max(MAX_LENGTH.name, tooLong(MAX_LENGTH.name)).regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, 'must be a plain file stem').optional(),
  /** Driver sources: a folder (archived into the source tar.gz) or a ready source archive (shipped as is). */
  source: z.string().min(1).optional(),
  /** `RPM_VERSION` in the source archive's name; default the manifest's version. */
  rpmVersion: z.union([z.string(), z.number()]).transform(String).pipe(z.string().max(MAX_LENGTH.version, tooLong(MAX_LENGTH.version)).regex(/^[A-Za-z0-9._+~^]+$/, 'must be an RPM version')).optional(),
  checksums: z.array(z.enum(['md5', 'sha256'])).default([]),
});
type Options = z.output<typeof releaseZipOptions>;

interface Prepared {
  folder?: FolderEntry[];
  archive?: Source & { name: string };
}

/**
 * Refuse a link leading out of the source folder: the archive carries links as links,
 * and one leading out of the folder would point users' extracted copies at files outside it.
 */
function checkLink(rel: string, target: string, path: string): void {
  const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
  if (target.startsWith('/') || resolved === '..' || resolved.startsWith('../')) {
    throw new UserError(`source: a symbolic link to ${JSON.stringify(target)}, outside the source folder; replace it by the file it points to, or remove it`, path);
  }
}

async function prepare(o: Options, env: PrepareEnv): Promise<Prepared> {
  const out: Prepared = {};
  if (o.source) {
    const path = resolve(env.baseDir, o.source);
    const found = await folderOrFile(path);
    // devices, sockets and fifos in a source folder are not sources
    if (found.kind === 'folder') {
      out.folder = found.entries.filter((e) => e.type !== 'other');
      for (const e of out.folder) if (e.type === 'symlink') checkLink(e.rel, e.target, e.path);
    }
    else if (found.kind === 'file') out.archive = { ...found.source, name: basename(path) };
    else throw new UserError('source: neither a folder nor a file', path);
  }
  return out;
}

const SRPM_MODE = 0o644;

/** `<label>-<ver>-src.tar.gz`: the source folder and the source RPMs under `<label>-<ver>/`, as tar, gzip. */
function sourceArchive(top: string, folder: FolderEntry[], srpms: { name: string; source: Source }[], epoch: number): Generated {
  const members: ResolvedEntry[] = [{ type: 'dir', path: top, mode: 0o755 }];
  for (const w of folder) {
    const path = `${top}/${w.rel}`;
    if (w.type === 'dir') members.push({ type: 'dir', path, mode: w.mode & 0o7777 });
    else if (w.type === 'symlink') members.push({ type: 'symlink', path, target: w.target });
    else if (w.type === 'file') members.push({ type: 'file', path, mode: w.mode & 0o7777, content: sliceSource(w.path, 0, w.size) });
  }
  for (const s of srpms) members.push({ type: 'file', path: `${top}/${s.name}`, mode: SRPM_MODE, content: s.source });
  return archiveOf({ name: `${top}-src.tar.gz`, format: 'tar', members, filters: ['gzip'], epoch });
}

const README = (key: string) => `Before installing this update on a host, import its signing key there once:
/opt/xensource/debug/import-update-key ${key}
(then xe update-upload file-name=<iso> and xe update-apply, or xe-install-supplemental-pack <iso>).
Without the key, XenServer refuses the update with "Invalid signature".
`;

function plan(set: DriverSet, o: Options, env: LayoutEnv, prepared: Prepared): Plan {
  const inner = env.inner(o.of);
  if (inner.medium.kind !== 'iso') throw new UserError(`release-zip: the ${o.of} target writes a ${inner.medium.kind}, not an ISO; the release zip ships the ISO`);
  // a legacy pack keeps its own stem (its .metadata.md5 is named after it)
  const name = o.name ?? (o.of === 'xenserver-legacy' ? env.innerOutName(o.of).replace(/\.iso$/i, '') : `${set.meta.name}-${set.meta.version}`);
  const iso = `${name}.iso`;
  const metadataName = `${name}.metadata.md5`;
  const nested = nest(inner, iso, env);
  const tree = new Tree().file(iso, nested.image);
  const put = (d: Derived) => tree.file(d.name(iso), nested.derived(d));
  put(checksumFile('md5'));
  // the pack's own side files, not its checksum files: the legacy metadata MD5, an update pack's public key
  const sides = (inner.derived ?? []).filter((d) => !d.digests?.length);
  for (const d of sides) put(d);
  const others = sides.map((d) => d.name(iso)).filter((n) => n !== metadataName);
  if (others.length === sides.length) {
    // an update pack: MD5 of update.xml (dudkit convention, §5)
    put({
      name: () => metadataName,
      deps: ['update.xml'],
      make: async ({ deps: [doc] }) => bytesSource(metadataMd5Line(await digestOf(doc!)), metadataName),
    });
  }

  const srpms = set.rpms.filter((r) => r.pkg.isSource).map((r) => ({ name: r.fileName, source: r.source }));
  if (prepared.archive) tree.file(prepared.archive.name, prepared.archive);
  if (prepared.folder || srpms.length > 0) {
    const top = `${set.meta.name}-${o.rpmVersion ?? set.meta.version}`;
    tree.file(`${top}-src.tar.gz`, sourceArchive(top, prepared.folder ?? [], srpms, env.epoch));
  } else if (!prepared.archive) {
    throw new UserError('release-zip: no driver sources to ship: give source: <folder or archive>, or the source RPM in sources: (- rpm: …src.rpm); the GPL requires the sources with the binaries');
  }
  if (o.of === 'xenserver-update') {
    // the update pack writes its public key beside itself; users import it on every host
    const key = others[0];
    if (!key) throw new UserError('release-zip: the xenserver-update pack names no public key file to ship');
    tree.file('README', bytesSource(README(key), 'README'));
  }
  // the packages are the inner ISO's: its rules decided them
  return { tree, decisions: (inner.decisions ?? []).map((d) => `the ${o.of} ISO it ships: ${d}`), medium: { kind: 'zip' }, derived: checksumFiles(o.checksums), notes: [] };
}

export const releaseZip = defineLayout({
  kind: 'release-zip',
  options: releaseZipOptions,
  defaultOut: (set) => `${set.meta.name}-${set.meta.version}.zip`,
  inputs: (o: Options) => ({ source: o.source }),
  prepare,
  plan,
});
