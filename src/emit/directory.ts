import { createWriteStream } from 'node:fs';
import { chmod, lstat, lutimes, mkdir, readdir, rename, rmdir, symlink, unlink, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { temporaryName } from '../tree/leftovers.js';
import { atomically } from './atomic.js';
import type { ResolvedEntry } from '../tree/tree.js';

/**
 * Write a resolved tree as plain files. Everything goes into a hidden folder beside `out`, which
 * takes the place of `out` only when complete (the one atomic-output step, `atomically`). Tree
 * paths are already checked (no `..`, no absolute paths, nothing below a symlink), and the folder
 * is new, so no existing symlink can redirect a write outside it.
 *
 * An existing `out` may be a user's folder (a mistyped `out:`), so it is replaced only when all
 * it holds is dudkit's (see `replaceable`). The old folder is renamed aside, the new one put in
 * place, and the old one emptied entry by entry (no recursive delete).
 */
export async function emitDirectory(entries: ResolvedEntry[], out: string, ctx: Context): Promise<void> {
  const previous = await replaceable(out, new Set(entries.map((e) => e.path)));
  await atomically(out, (temp) => fill(temp, entries, out, ctx), async (temp) => {
    // the old folder is not tracked: an interrupt between the two renames must not delete it
    const aside = previous && temporaryName(out);
    if (aside) await rename(out, aside);
    await rename(temp, out);
    if (aside && !(await emptyOut(aside, previous))) ctx.warn(`${out}: the previous folder changed during the build; kept it as ${aside}`);
  });
}

/** Write the entries into the new folder `temp`, then its modes and times. */
async function fill(temp: string, entries: ResolvedEntry[], out: string, ctx: Context): Promise<void> {
  await mkdir(temp);
  const total = entries.reduce((n, e) => n + (e.type === 'file' ? e.content.size : 0), 0);
  ctx.progress.phase(`writing ${out}`, total);
  for (const e of entries) {
    const p = join(temp, e.path);
    if (e.type === 'dir') await mkdir(p, { recursive: true, mode: e.mode });
    else if (e.type === 'symlink') await symlink(e.target, p);
    else {
      await mkdir(dirname(p), { recursive: true });
      const counted = Readable.from(e.content.open());
      counted.on('data', (c: Buffer) => ctx.progress.advance(c.length));
      await pipeline(counted, createWriteStream(p, { mode: e.mode, flags: 'wx' }));
      await chmod(p, e.mode);
    }
  }
  // mtimes last and deepest first, so writing children does not disturb a parent's time
  for (const e of [...entries].reverse()) {
    const p = join(temp, e.path);
    if (e.type === 'symlink') await lutimes(p, ctx.epoch, ctx.epoch);
    else {
      if (e.type === 'dir') await chmod(p, e.mode);
      await utimes(p, ctx.epoch, ctx.epoch);
    }
  }
  await chmod(temp, 0o755);
  await utimes(temp, ctx.epoch, ctx.epoch);
}

/**
 * The entries of an existing `out` (deepest first), when each is dudkit's: a path this build
 * writes, or one that still carries the time stamp dudkit gave the folder it wrote and everything
 * in it (a whole second, SOURCE_DATE_EPOCH or the build's start). Adding or changing anything
 * gives the file, and the folder it went into, the current time to the nanosecond instead. A
 * UserError naming the first entry that is neither; `undefined` when `out` does not exist.
 */
async function replaceable(out: string, written: Set<string>): Promise<string[] | undefined> {
  const st = await lstat(out, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return undefined;
  if (st.isSymbolicLink()) throw new UserError('is a symbolic link; dudkit replaces only a folder it wrote itself (remove the link or choose another out:)', out);
  if (!st.isDirectory()) throw new UserError('exists and is not a folder (remove it or choose another out:)', out);
  const stamp = st.mtimeNs % 1_000_000_000n === 0n ? st.mtimeNs : undefined;
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(out, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const e = await lstat(join(out, r), { bigint: true });
      if (!written.has(r) && e.mtimeNs !== stamp) {
        throw new UserError(`holds ${r}, which dudkit did not write there (it is not part of this build and was added or changed since); dudkit replaces only its own files: move ${r} away (or remove the folder) and build again`, out);
      }
      if (e.isDirectory()) await walk(r);
      found.push(r);
    }
  };
  await walk('');
  return found;
}

/** Remove the listed entries (deepest first) of the old folder, then the folder; false if it held more. */
async function emptyOut(aside: string, entries: string[]): Promise<boolean> {
  try {
    for (const r of entries) {
      const p = join(aside, r);
      if ((await lstat(p)).isDirectory()) await rmdir(p);
      else await unlink(p);
    }
    await rmdir(aside);
    return true;
  } catch {
    return false;
  }
}
