import type { Context } from '../context.js';
import { counted } from '../formats/bytes.js';
import { writeCpio, type CpioMember } from '../formats/cpio/index.js';
import type { ResolvedEntry } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import type { Emitted } from './index.js';
import { emitOutput } from './output.js';
import { drain, type Stage } from './pipeline.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/**
 * How the archive is laid out. `initrd` (default): the entries alone, 4-byte padding. `tree`: as
 * `find . | cpio -o -H newc` from the tree's parent makes it (SUSE driver updates): `.` first,
 * directories with their real link count (2 + subdirectories), padded to GNU cpio's 512-byte block.
 */
export type CpioStyle = 'initrd' | 'tree';

/** Subdirectories per directory ('' is the root). */
function subdirCounts(entries: readonly ResolvedEntry[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    if (e.type !== 'dir') continue;
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
    counts.set(parent, (counts.get(parent) ?? 0) + 1);
  }
  return counts;
}

/** Tree entries as newc members: bare names, parents first (the kernel creates no parents). */
function* members(entries: readonly ResolvedEntry[], epoch: number, style: CpioStyle): Generator<CpioMember> {
  const subdirs = style === 'tree' ? subdirCounts(entries) : undefined;
  const nlink = (dir: string) => (subdirs ? { nlink: 2 + (subdirs.get(dir) ?? 0) } : {});
  if (style === 'tree') yield { name: '.', mode: S_IFDIR | 0o755, mtime: epoch, size: 0, ...nlink('') };
  for (const e of entries) {
    if (e.type === 'dir') yield { name: e.path, mode: S_IFDIR | e.mode, mtime: epoch, size: 0, ...nlink(e.path) };
    else if (e.type === 'symlink') yield { name: e.path, mode: S_IFLNK | 0o777, mtime: epoch, size: Buffer.byteLength(e.target), linkTarget: e.target };
    else yield { name: e.path, mode: S_IFREG | e.mode, mtime: epoch, size: e.content.size, data: e.content.open() };
  }
}

/**
 * Write the tree as a cpio (newc) initrd overlay at `out`, through `stages` (a compressor),
 * atomically. Progress counts the members' bytes read: the compressed size is not known ahead.
 */
export function emitCpio(entries: readonly ResolvedEntry[], out: string, stages: readonly Stage[], digests: readonly DigestName[], ctx: Context): Promise<Emitted> {
  const total = entries.reduce((n, e) => n + (e.type === 'file' ? e.content.size : 0), 0);
  const advance = (n: number) => ctx.progress.advance(n);
  // only size and bytes matter to the archive (a spread would also evaluate a lazy `key`)
  const reported = entries.map((e) => (e.type === 'file' ? { ...e, content: { size: e.content.size, origin: e.content.origin, open: () => counted(e.content.open(), advance) } } : e));
  return emitOutput(out, { stages, digests, total, countWritten: false }, ctx, (sink) => drain(cpioArchive(reported, ctx.epoch), sink));
}

/** The tree as a newc archive's bytes, streamed. */
export function cpioArchive(entries: readonly ResolvedEntry[], epoch: number, style: CpioStyle = 'initrd'): AsyncIterable<Uint8Array> {
  return writeCpio(members(entries, epoch, style), { format: 'newc', ...(style === 'tree' ? { blockSize: 512 } : {}) });
}
