import type { Context } from '../context.js';
import { compress } from '../formats/compress/index.js';
import { writeCpio, type CpioMember } from '../formats/cpio/index.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { AtomicFile, HashTap, writeChecksumFiles, type DigestName } from './atomic.js';
import type { Emitted } from './index.js';

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** Tree entries as newc members: bare names, parents first (the kernel creates no parents). */
function* members(entries: readonly ResolvedEntry[], epoch: number): Generator<CpioMember> {
  for (const e of entries) {
    if (e.type === 'dir') yield { name: e.path, mode: S_IFDIR | e.mode, mtime: epoch, size: 0 };
    else if (e.type === 'symlink') yield { name: e.path, mode: S_IFLNK | 0o777, mtime: epoch, size: Buffer.byteLength(e.target), linkTarget: e.target };
    else yield { name: e.path, mode: S_IFREG | e.mode, mtime: epoch, size: e.content.size, data: e.content.open() };
  }
}

/** A cpio archive of the tree as bytes (newc), optionally gzip-compressed; streams. */
export function cpioStream(entries: readonly ResolvedEntry[], compression: 'none' | 'gzip', epoch: number): AsyncIterable<Uint8Array> {
  const archive = writeCpio(members(entries, epoch), { format: 'newc' });
  return compression === 'gzip' ? compress(archive, 'gzip', { level: 9 }) : archive;
}

/** Write the tree as a cpio(.gz) initrd overlay at `out`, atomically, hashing as it streams. */
export async function emitCpio(entries: readonly ResolvedEntry[], out: string, compression: 'none' | 'gzip', checksums: DigestName[], ctx: Context): Promise<Emitted> {
  const taps = checksums.map((a) => new HashTap(a));
  ctx.progress.phase(`writing ${out}`);
  const size = await AtomicFile.with(out, taps, async (f) => {
    for await (const chunk of cpioStream(entries, compression, ctx.epoch)) {
      await f.write(chunk);
      ctx.progress.advance(chunk.length);
    }
    return f.size;
  });
  const digests = Object.fromEntries(taps.map((t) => [t.algorithm, t.hex()])) as Partial<Record<DigestName, string>>;
  await writeChecksumFiles(out, digests);
  return { path: out, size, ...digests };
}
