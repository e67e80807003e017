/**
 * Where the fields of a PCI option ROM image lie (option-rom.md §1–§5): the legacy header, the PCI
 * Data Structure, the checksummed sub-headers of legacy images and the EFI image header. Every
 * offset is relative to the image's first byte (`55 AA`); all numbers are little-endian.
 */
import { FormatError } from '../../errors.js';

/** Images are whole multiples of this; size fields count these. */
export const BLOCK = 512;
/** Byte 2 is one byte: a legacy image is at most 255 × 512 bytes. */
export const MAX_LEGACY_BLOCKS = 255;

/** The legacy header (§1). */
export const ROM = { sizeByte: 2, entry: 3, checksum: 6, pcirPointer: 0x18, headerLength: 0x1c } as const;

/** The PCI Data Structure (§2), relative to its own start. */
export const PCIR = {
  vendor: 4,
  device: 6,
  length: 0x0a,
  revision: 0x0c,
  /** Three bytes: programming interface, sub-class, base class. */
  classCode: 0x0d,
  imageLength: 0x10,
  codeRevision: 0x12,
  codeType: 0x14,
  indicator: 0x15,
  /** Revision 0's length: every field dudkit reads or writes lies inside it. */
  minLength: 0x18,
} as const;

/** PCIR+0x15 bit 7: firmware stops after this image. */
export const LAST_IMAGE = 0x80;
export const CODE_TYPE_X86 = 0;
export const CODE_TYPE_EFI = 3;

/** The EFI image header (§5). */
export const EFI = { initSize: 2, signature: 4, subsystem: 8, machine: 0x0a, compression: 0x0c, peOffset: 0x16 } as const;
export const EFI_SIGNATURE = 0x0ef1;
/** iPXE's `efirom` layout, the one EFI layout whose adjust byte dudkit keeps balanced. */
export const IPXE_EFI = { pcir: 0x1c, pcirLength: 0x18, adjust: 0x34, peOffset: 0x38 } as const;

export type SubHeaderKey = 'pnp' | 'undi' | 'ipxe';

/** A sub-header of a legacy image with its own checksum (§3): where its pointer, length and checksum byte are. */
export interface SubHeader {
  key: SubHeaderKey;
  signature: string;
  /** Offset in the image header of the 16-bit pointer to the structure. */
  pointer: number;
  /** Offset of the checksum byte in the structure. */
  checksum: number;
  /** The bytes the checksum covers, read from the structure. */
  length(bytes: Uint8Array, at: number): number;
}

/** In the order `fixrom.pl` fixes them (before the image checksum). */
export const SUB_HEADERS: readonly SubHeader[] = [
  { key: 'pnp', signature: '$PnP', pointer: 0x1a, checksum: 9, length: (b, at) => (b[at + 5] ?? 0) * 16 },
  { key: 'undi', signature: 'UNDI', pointer: 0x16, checksum: 5, length: (b, at) => b[at + 4] ?? 0 },
  { key: 'ipxe', signature: 'iPXE', pointer: 0x10, checksum: 5, length: (b, at) => b[at + 4] ?? 0 },
];

export function u16(b: Uint8Array, at: number): number {
  if (at < 0 || at + 2 > b.length) throw new FormatError(`truncated option ROM: a 16-bit field at 0x${at.toString(16)} lies past the end (${b.length} bytes)`);
  return b[at]! | (b[at + 1]! << 8);
}

export function setU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >> 8) & 0xff;
}

/** The byte sum mod 256 of `b[from … to−1]`. */
export function byteSum(b: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += b[i]!;
  return s & 0xff;
}

export function hasSignature(b: Uint8Array, at: number, sig: string): boolean {
  if (at < 0 || at + sig.length > b.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig.charCodeAt(i)) return false;
  return true;
}

/** `55 AA` at `at`. */
export const isRomSignature = (b: Uint8Array, at: number): boolean => b[at] === 0x55 && b[at + 1] === 0xaa;

/** The 24-bit class code as configuration space reads it (base, sub-class, interface) from PCIR+0x0D…0x0F. */
export function readClass(b: Uint8Array, pcir: number): number {
  const at = pcir + PCIR.classCode;
  return (b[at + 2]! << 16) | (b[at + 1]! << 8) | b[at]!;
}

export function writeClass(b: Uint8Array, pcir: number, cls: number): void {
  const at = pcir + PCIR.classCode;
  b[at] = cls & 0xff;
  b[at + 1] = (cls >> 8) & 0xff;
  b[at + 2] = (cls >> 16) & 0xff;
}

/** An EFI image in iPXE's layout (§5): PCIR at 0x1C of revision-0 length, the PE image at 0x38. */
export function isIpxeEfiLayout(b: Uint8Array, image: number, pcir: number | undefined): boolean {
  return (
    pcir === image + IPXE_EFI.pcir &&
    u16(b, pcir + PCIR.length) === IPXE_EFI.pcirLength &&
    u16(b, image + EFI.peOffset) === IPXE_EFI.peOffset &&
    u16(b, image + EFI.signature) === EFI_SIGNATURE &&
    u16(b, image + EFI.signature + 2) === 0
  );
}

export const hex = (n: number, digits = 0): string => `0x${n.toString(16).padStart(digits, '0')}`;
