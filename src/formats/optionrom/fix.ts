/**
 * The fix-up of `dudkit rom fix` (option-rom.md §9.1): SeaBIOS's sizing for the fields that are
 * unset, then iPXE's `fixrom.pl` order per image (sub-header checksums, then the image checksum),
 * plus the EFI adjust byte of iPXE's layout. Any later byte change invalidates the checksums, so
 * the steps run in this fixed order over every image.
 */
import { FormatError } from '../../errors.js';
import {
  BLOCK,
  byteSum,
  CODE_TYPE_EFI,
  CODE_TYPE_X86,
  hasSignature,
  hex,
  IPXE_EFI,
  isIpxeEfiLayout,
  isRomSignature,
  LAST_IMAGE,
  MAX_LEGACY_BLOCKS,
  PCIR,
  readClass,
  ROM,
  setU16,
  SUB_HEADERS,
  u16,
  writeClass,
} from './layout.js';

export interface FixOptions {
  vendor?: number;
  device?: number;
  /** The 24-bit class code as configuration space reads it (`0x020000` = Ethernet). */
  classCode?: number;
  /** The byte an image cut short is padded with (default 0). */
  fill?: number;
}

export interface FixResult {
  rom: Uint8Array;
  /** What was changed, one sentence each (for `--verbose`). */
  changes: string[];
  /** Bytes after the last image, kept as they were. */
  trailing: number;
}

interface FixImage {
  index: number;
  offset: number;
  length: number;
  /** Absolute offset of the PCIR structure, when the image has one. */
  pcir?: number;
  codeType: number;
}

const at = (img: FixImage) => `image ${img.index} at ${hex(img.offset)}`;

/**
 * Step 1: walk from offset 0 while the next offset holds `55 AA`, ignoring the last-image flag (so
 * concatenated ROMs are fixed into one). Returns the images and the padded length of the ROM.
 */
function walk(b: Uint8Array): { images: FixImage[]; end: number } {
  if (!isRomSignature(b, 0)) throw new FormatError('not an option ROM: it does not start with the signature 55 AA');
  const images: FixImage[] = [];
  let offset = 0;
  while (offset + 2 <= b.length && isRomSignature(b, offset)) {
    const index = images.length;
    const where = `image ${index} at ${hex(offset)}`;
    if (offset + ROM.headerLength > b.length) throw new FormatError(`${where}: ${b.length - offset} bytes are too short for the ${ROM.headerLength}-byte option ROM header`);
    const pointer = u16(b, offset + ROM.pcirPointer);
    let pcir: number | undefined;
    if (pointer !== 0) {
      pcir = offset + pointer;
      if (pcir + PCIR.minLength > b.length || !hasSignature(b, pcir, 'PCIR')) {
        throw new FormatError(`${where}: the PCIR pointer at 0x18 (${hex(pointer)}) does not point at a PCIR structure within the file: correct the pointer or set it to 0`);
      }
    }
    const codeType = pcir === undefined ? CODE_TYPE_X86 : b[pcir + PCIR.codeType]!;
    const blocks = (pcir !== undefined && u16(b, pcir + PCIR.imageLength)) || (codeType === CODE_TYPE_X86 && b[offset + ROM.sizeByte]!) || Math.ceil((b.length - offset) / BLOCK);
    const length = blocks * BLOCK;
    if (pcir !== undefined && pointer + PCIR.minLength > length) {
      throw new FormatError(`${where}: the PCIR structure at ${hex(pointer)} lies outside the image (${length} bytes)`);
    }
    images.push({ index, offset, length, ...(pcir !== undefined ? { pcir } : {}), codeType });
    offset += length;
  }
  return { images, end: offset };
}

/** Fix every image of `input` in the order of §9.1; `input` is not changed. */
export function fixRom(input: Uint8Array, opts: FixOptions = {}): FixResult {
  const { images, end } = walk(input);
  const changes: string[] = [];
  const rom = new Uint8Array(Math.max(end, input.length));
  rom.set(input);
  if (end > input.length) {
    const fill = opts.fill ?? 0;
    rom.fill(fill, input.length);
    changes.push(`${at(images[images.length - 1]!)}: padded with ${end - input.length} bytes of ${hex(fill, 2)} to ${end - images[images.length - 1]!.offset} bytes`);
  }
  const set = (img: FixImage, offset: number, value: number, what: string) => {
    if (rom[offset] === value) return;
    changes.push(`${at(img)}: ${what} ${hex(rom[offset]!, 2)} → ${hex(value, 2)}`);
    rom[offset] = value;
  };
  const set16 = (img: FixImage, offset: number, value: number, what: string) => {
    const old = u16(rom, offset);
    if (old === value) return;
    changes.push(`${at(img)}: ${what} ${hex(old)} → ${hex(value)}`);
    setU16(rom, offset, value);
  };

  // 2. IDs
  for (const img of images) {
    if (opts.vendor === undefined && opts.device === undefined && opts.classCode === undefined) break;
    if (img.pcir === undefined) throw new FormatError(`${at(img)} has no PCIR structure (the word at 0x18 is 0): --vendor, --device and --class need one`);
    if (opts.vendor !== undefined) set16(img, img.pcir + PCIR.vendor, opts.vendor, 'PCIR vendor ID');
    if (opts.device !== undefined) set16(img, img.pcir + PCIR.device, opts.device, 'PCIR device ID');
    if (opts.classCode !== undefined && readClass(rom, img.pcir) !== opts.classCode) {
      changes.push(`${at(img)}: PCIR class ${hex(readClass(rom, img.pcir), 6)} → ${hex(opts.classCode, 6)}`);
      writeClass(rom, img.pcir, opts.classCode);
    }
  }
  // 3. sizes: only unset ones
  for (const img of images) {
    const blocks = img.length / BLOCK;
    if (img.pcir !== undefined && u16(rom, img.pcir + PCIR.imageLength) === 0) set16(img, img.pcir + PCIR.imageLength, blocks, 'PCIR image length');
    if (img.codeType !== CODE_TYPE_X86) continue;
    const size = rom[img.offset + ROM.sizeByte]!;
    if (size === 0) {
      if (blocks > MAX_LEGACY_BLOCKS) {
        throw new FormatError(`${at(img)}: ${img.length} bytes is too large for a legacy image (its size byte allows at most ${MAX_LEGACY_BLOCKS} × ${BLOCK} = ${MAX_LEGACY_BLOCKS * BLOCK} bytes)`);
      }
      set(img, img.offset + ROM.sizeByte, blocks, 'size byte');
    } else if (size * BLOCK > img.length) {
      throw new FormatError(`${at(img)}: its size byte (${size} × ${BLOCK} bytes) is larger than the image (${img.length} bytes by the PCIR image length)`);
    }
  }
  // 4. the last-image indicator
  for (const img of images) {
    if (img.pcir === undefined) continue;
    const indicator = rom[img.pcir + PCIR.indicator]!;
    const want = img === images[images.length - 1] ? indicator | LAST_IMAGE : indicator & ~LAST_IMAGE;
    set(img, img.pcir + PCIR.indicator, want, 'PCIR indicator');
  }
  // 5. sub-headers of legacy images, then 6. the image checksum
  for (const img of images) {
    const imageEnd = img.offset + img.length;
    if (img.codeType === CODE_TYPE_X86) {
      for (const sub of SUB_HEADERS) {
        const pointer = u16(rom, img.offset + sub.pointer);
        const start = img.offset + pointer;
        if (pointer === 0 || !hasSignature(rom, start, sub.signature) || start + 4 > imageEnd) continue;
        const length = sub.length(rom, start);
        if (length <= sub.checksum || start + length > imageEnd) {
          throw new FormatError(`${at(img)}: the ${sub.signature} header at ${hex(pointer)} has length ${length}, which ${length <= sub.checksum ? 'does not cover its checksum byte' : 'runs past the image'}`);
        }
        const cks = start + sub.checksum;
        set(img, cks, (rom[cks]! - byteSum(rom, start, start + length)) & 0xff, `${sub.signature} checksum`);
      }
      const cks = img.offset + ROM.checksum;
      set(img, cks, (rom[cks]! - byteSum(rom, img.offset, img.offset + rom[img.offset + ROM.sizeByte]! * BLOCK)) & 0xff, 'checksum byte');
    } else if (img.codeType === CODE_TYPE_EFI && isIpxeEfiLayout(rom, img.offset, img.pcir)) {
      const adjust = img.offset + IPXE_EFI.adjust;
      set(img, adjust, (rom[adjust]! - byteSum(rom, img.offset, imageEnd)) & 0xff, 'EFI adjust byte');
    }
  }
  return { rom, changes, trailing: rom.length - end };
}
