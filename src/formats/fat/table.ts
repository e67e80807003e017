/** Reading and writing one entry of a FAT held in memory (12-, 16- or 32-bit entries). */

export type FatBits = 12 | 16 | 32;

export function fatGet(fat: Uint8Array, bits: FatBits, cluster: number): number {
  if (bits === 32) return (fat[cluster * 4]! | (fat[cluster * 4 + 1]! << 8) | (fat[cluster * 4 + 2]! << 16) | (fat[cluster * 4 + 3]! << 24)) & 0x0fffffff;
  if (bits === 16) return fat[cluster * 2]! | (fat[cluster * 2 + 1]! << 8);
  const at = Math.floor((cluster * 3) / 2);
  const v = fat[at]! | (fat[at + 1]! << 8);
  return cluster & 1 ? v >> 4 : v & 0xfff;
}

/** Set an entry; FAT32 keeps the reserved top 4 bits of the old value. */
export function fatSet(fat: Uint8Array, bits: FatBits, cluster: number, value: number): void {
  if (bits === 32) {
    const v = ((fat[cluster * 4 + 3]! & 0xf0) << 24) | (value & 0x0fffffff);
    fat[cluster * 4] = v & 0xff;
    fat[cluster * 4 + 1] = (v >>> 8) & 0xff;
    fat[cluster * 4 + 2] = (v >>> 16) & 0xff;
    fat[cluster * 4 + 3] = (v >>> 24) & 0xff;
  } else if (bits === 16) {
    fat[cluster * 2] = value & 0xff;
    fat[cluster * 2 + 1] = (value >> 8) & 0xff;
  } else {
    const at = Math.floor((cluster * 3) / 2);
    if (cluster & 1) {
      fat[at] = (fat[at]! & 0x0f) | ((value & 0x0f) << 4);
      fat[at + 1] = (value >> 4) & 0xff;
    } else {
      fat[at] = value & 0xff;
      fat[at + 1] = (fat[at + 1]! & 0xf0) | ((value >> 8) & 0x0f);
    }
  }
}

/** The end-of-chain mark written by this module, and the smallest value readers treat as end of chain. */
export function endOfChain(bits: FatBits): { mark: number; min: number } {
  return bits === 32 ? { mark: 0x0fffffff, min: 0x0ffffff8 } : bits === 16 ? { mark: 0xffff, min: 0xfff8 } : { mark: 0xfff, min: 0xff8 };
}
