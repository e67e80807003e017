/** El Torito boot catalog and the boot-info table patched into a BIOS boot image (isolinux, GRUB2). */
import { BLOCK, le16, le32, le64, readLe32, readLe64 } from './numbers.js';

export const PLATFORM_BIOS = 0x00;
export const PLATFORM_EFI = 0xef;

export interface CatalogEntry {
  readonly platform: number;
  readonly lba: number;
  /** 512-byte sectors to load. */
  readonly sectors: number;
}

function bootEntry(b: Uint8Array, off: number, e: CatalogEntry): void {
  b[off] = 0x88; // bootable, no emulation, default load segment, system type 0
  le16(b, off + 6, e.sectors);
  le32(b, off + 8, e.lba);
}

/**
 * The 2048-byte catalog: validation entry for the first image's platform, the first image as
 * default entry, and each further image in a section of its own (the last header 0x91).
 */
export function bootCatalog(entries: readonly CatalogEntry[]): Uint8Array {
  const b = new Uint8Array(BLOCK);
  const first = entries[0];
  if (!first) throw new Error('boot catalog without entries');
  b[0] = 0x01;
  b[1] = first.platform;
  b[30] = 0x55;
  b[31] = 0xaa;
  let sum = 0;
  for (let i = 0; i < 32; i += 2) sum += b[i]! | (b[i + 1]! << 8);
  le16(b, 28, (0x10000 - (sum & 0xffff)) & 0xffff);
  bootEntry(b, 32, first);
  let off = 64;
  const rest = entries.slice(1);
  rest.forEach((e, i) => {
    b[off] = i === rest.length - 1 ? 0x91 : 0x90;
    b[off + 1] = e.platform;
    le16(b, off + 2, 1);
    bootEntry(b, off + 32, e);
    off += 64;
  });
  return b;
}

/**
 * A copy of the boot image with the boot-info table at bytes 8–63 (PVD LBA, own LBA, length,
 * checksum of the LE32 words from byte 64 on) and, when asked, GRUB2's LE64 at byte 2548.
 */
export function patchBootInfo(image: Uint8Array, imageLba: number, grub2: boolean): Uint8Array {
  const out = new Uint8Array(image);
  // GRUB's field lies inside the summed bytes: xorriso patches it first, then sums
  if (grub2) le64(out, 2548, imageLba * 4 + 5);
  const padded = new Uint8Array(Math.ceil(out.length / 4) * 4);
  padded.set(out);
  let sum = 0;
  for (let i = 64; i < padded.length; i += 4) sum = (sum + readLe32(padded, i)) % 0x100000000;
  out.fill(0, 8, 64);
  le32(out, 8, 16);
  le32(out, 12, imageLba);
  le32(out, 16, image.length);
  le32(out, 20, sum);
  return out;
}

/** Bytes of a BIOS image that `bootInfoOf` looks at: up to the end of GRUB2's field. */
export const BOOT_INFO_BYTES = 2556;

/**
 * Which of the tables `patchBootInfo` writes an image at `imageLba` carries: `head` holds its first
 * `BOOT_INFO_BYTES` bytes (or at least 64 of a shorter image).
 */
export function bootInfoOf(head: Uint8Array, imageLba: number, imageSize: number): { bootInfoTable: boolean; grub2BootInfo: boolean } {
  return {
    bootInfoTable: head.length >= 64 && readLe32(head, 8) === 16 && readLe32(head, 12) === imageLba && readLe32(head, 16) === imageSize,
    grub2BootInfo: imageSize >= BOOT_INFO_BYTES && head.length >= BOOT_INFO_BYTES && readLe64(head, 2548) === imageLba * 4 + 5,
  };
}
