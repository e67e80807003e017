import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, symlink, utimes, lutimes, chmod, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { trackTemporary, untrackTemporary } from '../tree/leftovers.js';
import type { ResolvedEntry } from '../tree/tree.js';

/**
 * Write a resolved tree as plain files. Everything goes into a hidden folder beside `out`, which
 * replaces `out` only when complete. Tree paths are already checked (no `..`, no absolute paths),
 * and the folder is new, so no existing symlink can redirect a write outside it.
 */
export async function emitDirectory(entries: ResolvedEntry[], out: string, ctx: Context): Promise<void> {
  const temp = join(dirname(out), `.${basename(out)}.dudkit-${process.pid}.tmp`);
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  trackTemporary(temp);
  try {
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
        await pipeline(counted, createWriteStream(p, { mode: e.mode }));
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
    const existing = await stat(out).catch(() => undefined);
    if (existing && !existing.isDirectory()) throw new UserError('exists and is not a directory', out);
    if (existing) await rm(out, { recursive: true, force: true });
    await rename(temp, out);
    untrackTemporary(temp);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    untrackTemporary(temp);
    throw err;
  }
}
