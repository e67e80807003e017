/**
 * Zip emitter (release archives, `xenserver.md` §5): entries in tree order (parents first, byte
 * order), deflated (folders and links stored), Unix modes, every timestamp the same fixed time
 * from SOURCE_DATE_EPOCH, so equal inputs give equal archives. Streams through fflate's `Zip`:
 * each chunk is compressed and written before the next is read, the archive is never held in
 * memory; the pipeline's stages and checksum taps see the bytes as they are written.
 */
import { Zip, ZipDeflate, ZipPassThrough, type ZipInputFile } from 'fflate';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { AtomicFile, type DigestName } from './atomic.js';
import type { Emitted } from './index.js';
import { emitOutput } from './output.js';
import { fileSink, type Sink } from './pipeline.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const OS_UNIX = 3;
/** No zip64: sizes and offsets must stay below 4 GiB. */
const LIMIT = 0xffffffff;
/** MS-DOS timestamps start in 1980. */
const DOS_EPOCH = Date.UTC(1980, 0, 1) / 1000;

/**
 * fflate encodes the MS-DOS time from a Date's *local* fields; a Date whose local fields are the
 * UTC fields of the epoch makes the archive the same in every time zone.
 */
function dosDate(epoch: number): Date {
  const u = new Date(Math.max(epoch, DOS_EPOCH) * 1000);
  return new Date(u.getUTCFullYear(), u.getUTCMonth(), u.getUTCDate(), u.getUTCHours(), u.getUTCMinutes(), u.getUTCSeconds());
}

export interface ZipLayout {
  /** These paths first, in this order; the rest in tree order. */
  order?: readonly string[];
  /** false: no folder entries (ESXi bundles). */
  directories?: boolean;
}

/** The entries in the order the archive holds them. */
function zipMembers(entries: readonly ResolvedEntry[], layout: ZipLayout = {}): ResolvedEntry[] {
  const kept = layout.directories === false ? entries.filter((e) => e.type !== 'dir') : [...entries];
  const order = layout.order ?? [];
  const rank = (e: ResolvedEntry) => {
    const i = order.indexOf(e.path);
    return i < 0 ? order.length : i;
  };
  // stable: entries not named keep their tree order
  return kept.map((e, i) => [e, i] as const).sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j).map(([e]) => e);
}

/** Write the tree as a zip archive at `out`, atomically, hashing as it streams. */
export function emitZip(entries: readonly ResolvedEntry[], out: string, digests: readonly DigestName[], ctx: Context, layout: ZipLayout = {}): Promise<Emitted> {
  const members = zipMembers(entries, layout);
  const total = members.reduce((n, e) => n + (e.type === 'file' ? e.content.size : 0), 0);
  // progress counts the members' bytes read: the compressed size is not known ahead
  return emitOutput(out, { digests, total, countWritten: false }, ctx, (sink) => writeZip(members, sink, dosDate(ctx.epoch), out, (n) => ctx.progress.advance(n)));
}

/** A small zip file (a bundle's metadata zip) written into `path`, members in the order given, no folder entries. */
export async function zipFile(members: readonly ResolvedEntry[], path: string, epoch: number): Promise<void> {
  await AtomicFile.with(path, [], (file) => writeZip(members, fileSink(file, []), dosDate(epoch), path, () => undefined));
}

/** The zip format writer: members in tree order into `sink`, each chunk compressed and passed on before the next is read. */
async function writeZip(entries: readonly ResolvedEntry[], sink: Sink, mtime: Date, out: string, advance: (n: number) => void): Promise<void> {
  let pending: Uint8Array[] = [];
  let failure: Error | undefined;
  let ended = false;
  let written = 0;
  const zip = new Zip((err, data, final) => {
    if (err) failure = err;
    else pending.push(data);
    if (final) ended = true;
  });
  const flush = async (): Promise<void> => {
    if (failure) throw new UserError(`zip: ${failure.message}`, out);
    const chunks = pending;
    pending = [];
    for (const c of chunks) {
      await sink.write(c);
      written += c.length;
    }
    if (written >= LIMIT) throw new UserError('the archive reaches 4 GiB: zip64 is not supported', out);
  };
  const add = (file: ZipInputFile, mode: number): void => {
    Object.assign(file, { mtime, os: OS_UNIX, attrs: (mode << 16) >>> 0 });
    zip.add(file);
  };
  for (const e of entries) {
    if (e.type === 'dir') {
      const d = new ZipPassThrough(`${e.path}/`);
      add(d, S_IFDIR | e.mode);
      d.push(new Uint8Array(0), true);
    } else if (e.type === 'symlink') {
      const l = new ZipPassThrough(e.path);
      add(l, S_IFLNK | 0o777);
      l.push(new TextEncoder().encode(e.target), true);
    } else {
      if (e.content.size >= LIMIT) throw new UserError(`${e.path}: ${e.content.size} bytes; zip members of 4 GiB or more need zip64, which is not supported`, out);
      const z = new ZipDeflate(e.path, { level: 9 });
      add(z, S_IFREG | e.mode);
      let seen = 0;
      for await (const chunk of e.content.open()) {
        seen += chunk.length;
        if (seen > e.content.size) break;
        z.push(chunk);
        advance(chunk.length);
        await flush();
      }
      if (seen !== e.content.size) throw new UserError(`${seen > e.content.size ? 'longer' : 'shorter'} than its planned ${e.content.size} bytes`, e.content.origin);
      z.push(new Uint8Array(0), true);
    }
    await flush();
  }
  zip.end();
  await flush();
  if (!ended) throw new Error('zip: the archive did not end');
  await sink.end();
}
