/** Path tables (ECMA-119 §9.4): one record per directory, breadth-first, L and M forms. */
import { be16, be32, le16, le32 } from './numbers.js';

export interface PathTableDir {
  readonly id: Uint8Array;
  readonly lba: number;
  /** 1-based number of the parent in the same table (root: 1). */
  readonly parent: number;
}

export function pathTableSize(dirs: readonly { id: Uint8Array }[]): number {
  return dirs.reduce((n, d) => n + 8 + d.id.length + (d.id.length % 2), 0);
}

/** Encode the table (little-endian `L` or big-endian `M`), unpadded. */
export function encodePathTable(dirs: readonly PathTableDir[], bigEndian: boolean): Uint8Array {
  const out = new Uint8Array(pathTableSize(dirs));
  let p = 0;
  for (const d of dirs) {
    out[p] = d.id.length;
    if (bigEndian) {
      be32(out, p + 2, d.lba);
      be16(out, p + 6, d.parent);
    } else {
      le32(out, p + 2, d.lba);
      le16(out, p + 6, d.parent);
    }
    out.set(d.id, p + 8);
    p += 8 + d.id.length + (d.id.length % 2);
  }
  return out;
}
