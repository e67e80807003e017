/**
 * Where a target may write: its `out` is a relative path that stays inside the output folder
 * (`-o`), and no folder on the way there is a symbolic link leading out of it. Checked for every
 * target before the first one is written, so a bad `out` writes and deletes nothing.
 */
import { lstat, realpath } from 'node:fs/promises';
import { join, relative, isAbsolute, sep } from 'node:path';
import { UserError } from '../errors.js';

const FIX = 'give a relative path inside the output folder (-o), e.g. out: dd.iso or out: media/dd.iso';

/** The normalized `out` (`./` and doubled `/` dropped), or a UserError naming `key`. */
export function checkOutName(out: string, key: string, file: string): string {
  const bad = (why: string): never => {
    throw new UserError(`${key}: ${JSON.stringify(out)} ${why}; ${FIX}`, file);
  };
  if (out.includes('\0')) bad('contains a NUL byte');
  if (out.startsWith('/')) bad('is an absolute path');
  const parts = out.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) bad('has a ".." component');
  if (parts.length === 0) bad('names the output folder itself');
  return parts.join('/');
}

/** `path` is `root` or lies below it. */
const within = (root: string, path: string) => {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel.split(sep)[0] !== '..');
};

/**
 * Check that the folders leading to `out` (a checked name) inside `outDir` are folders, or symbolic
 * links that resolve inside `outDir`; folders that do not exist yet are made by the build itself.
 */
export async function checkOutFolders(outDir: string, out: string, key: string, file: string): Promise<void> {
  const root = await realpath(outDir);
  const parts = out.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const path = join(outDir, ...parts.slice(0, i));
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    if (st.isSymbolicLink()) {
      const target = await realpath(path).catch(() => undefined);
      if (target === undefined || !within(root, target)) {
        throw new UserError(`${key}: ${path} is a symbolic link that leads outside the output folder; dudkit does not write through it (remove the link or choose another out:)`, file);
      }
    } else if (!st.isDirectory()) {
      throw new UserError(`${key}: ${path} is in the way: a file where out: needs a folder`, file);
    }
  }
}
