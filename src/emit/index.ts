import type { Medium } from '../../layouts/types.js';
import type { Context } from '../context.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { emitDirectory } from './directory.js';

export interface Emitted {
  path: string;
  size?: number;
  md5?: string;
  sha256?: string;
}

/** Write a resolved tree as the given medium at `out` (atomically). */
export async function emitMedium(entries: ResolvedEntry[], medium: Medium, out: string, checksums: ('md5' | 'sha256')[], ctx: Context): Promise<Emitted> {
  switch (medium.kind) {
    case 'directory':
      await emitDirectory(entries, out, ctx);
      return { path: out };
    default:
      throw new Error(`no emitter for ${medium.kind} yet (checksums: ${checksums.join(',')})`);
  }
}
