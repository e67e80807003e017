/**
 * `rom check` and `inspect` of an option ROM (option-rom.md §6, §9.2): walk the images as firmware
 * does (by PCIR image length, stopping after the image marked last) and report every field with
 * what is wrong with it. The report is the JSON document of §9.2.
 */
import { FormatError } from '../../errors.js';
import {
  BLOCK,
  byteSum,
  CODE_TYPE_EFI,
  CODE_TYPE_X86,
  EFI,
  hasSignature,
  hex,
  IPXE_EFI,
  isIpxeEfiLayout,
  isRomSignature,
  LAST_IMAGE,
  PCIR,
  readClass,
  ROM,
  SUB_HEADERS,
  u16,
} from './layout.js';

export interface SubHeaderReport {
  offset: number;
  length: number;
  sum: number;
  ok: boolean;
}

export interface PcirReport {
  offset: number;
  vendor: string;
  device: string;
  class: string;
  revision: number;
  length: number;
  imageLength: number;
  codeRevision: number;
  codeType: number;
  indicator: number;
  last: boolean;
}

export interface EfiReport {
  initSize: number;
  subsystem: number;
  machine: string;
  compression: number;
  peOffset: number;
  sum: number;
  balanced: boolean;
}

export interface RomImageReport {
  index: number;
  offset: number;
  length: number;
  type: 'legacy' | 'efi' | 'other';
  sizeByte: number | null;
  entry: { bytes: string; target: number | null } | null;
  /** Legacy: byte 6 over byte 2 × 512 bytes; EFI in iPXE's layout: the adjust byte over the image. */
  checksum: { offset: number; value: number; sum: number; ok: boolean } | null;
  pcir: PcirReport | null;
  pnp: SubHeaderReport | null;
  undi: SubHeaderReport | null;
  ipxe: SubHeaderReport | null;
  efi: EfiReport | null;
  problems: string[];
}

export interface RomReport {
  kind: 'option-rom';
  size: number;
  /** What `rom check`'s exit status says: no problem anywhere. */
  valid: boolean;
  /** Bytes after the last image. */
  trailing: number;
  /** Every problem of the file and its images (an image's are prefixed with the image). */
  problems: string[];
  images: RomImageReport[];
}

/** Check a whole ROM file; refused (FormatError) only when it does not start with `55 AA`. */
export function checkRom(b: Uint8Array): RomReport {
  if (!isRomSignature(b, 0)) throw new FormatError('not an option ROM: it does not start with the signature 55 AA');
  const images: RomImageReport[] = [];
  const fileProblems: string[] = [];
  let offset = 0;
  for (;;) {
    const { image, next } = checkImage(b, images.length, offset);
    images.push(image);
    if (next === undefined) {
      offset += image.length;
      break;
    }
    if (next >= b.length) {
      fileProblems.push(`image ${image.index} is not marked as the last image (PCIR indicator bit 7 clear), but the file ends after it`);
      offset = next;
      break;
    }
    if (!isRomSignature(b, next)) {
      fileProblems.push(`image ${image.index} is not marked as the last image, but no 55 AA follows it at ${hex(next)}`);
      offset = next;
      break;
    }
    offset = next;
  }
  const trailing = Math.max(0, b.length - offset);
  if (trailing > 0) fileProblems.push(`${trailing} bytes after the last image (at ${hex(offset)}): the file is not the sum of its images`);
  const problems = [...images.flatMap((i) => i.problems.map((p) => `image ${i.index} at ${hex(i.offset)}: ${p}`)), ...fileProblems];
  return { kind: 'option-rom', size: b.length, valid: problems.length === 0, trailing, problems, images };
}

/** One image at `offset`; `next` is where firmware looks for the next one (undefined: it stops here). */
function checkImage(b: Uint8Array, index: number, offset: number): { image: RomImageReport; next?: number } {
  const problems: string[] = [];
  const rest = b.length - offset;
  const image: RomImageReport = {
    index, offset, length: rest, type: 'legacy', sizeByte: null, entry: null, checksum: null, pcir: null, pnp: null, undi: null, ipxe: null, efi: null, problems,
  };
  if (rest < ROM.headerLength) {
    problems.push(`${rest} bytes are too short for the ${ROM.headerLength}-byte option ROM header`);
    return { image };
  }
  const pointer = u16(b, offset + ROM.pcirPointer);
  const pcirAt = offset + pointer;
  const hasPcir = pointer !== 0 && pcirAt + PCIR.minLength <= b.length && hasSignature(b, pcirAt, 'PCIR');
  if (pointer !== 0 && !hasPcir) problems.push(`the PCIR pointer at 0x18 (${hex(pointer)}) does not point at a PCIR structure`);
  const codeType = hasPcir ? b[pcirAt + PCIR.codeType]! : CODE_TYPE_X86;
  image.type = codeType === CODE_TYPE_X86 ? 'legacy' : codeType === CODE_TYPE_EFI ? 'efi' : 'other';
  const sizeByte = b[offset + ROM.sizeByte]!;
  let next: number | undefined;
  if (hasPcir) {
    image.pcir = pcirReport(b, offset, pointer);
    const blocks = image.pcir.imageLength;
    if (blocks === 0) problems.push('the PCIR image length is 0: firmware cannot find where the image ends');
    else if (blocks * BLOCK > rest) problems.push(`the PCIR image length (${blocks} × ${BLOCK} bytes) runs past the end of the file (${rest} bytes from the image)`);
    else {
      image.length = blocks * BLOCK;
      if (!image.pcir.last) next = offset + image.length;
    }
  } else if (image.type === 'legacy' && sizeByte > 0 && sizeByte * BLOCK <= rest) {
    // an ISA-style image without PCIR: the size byte is all firmware knows of its length
    image.length = sizeByte * BLOCK;
  }
  if (image.type === 'legacy') checkLegacy(b, image, sizeByte);
  else if (image.type === 'efi') checkEfi(b, image, hasPcir ? pcirAt : undefined);
  return next === undefined ? { image } : { image, next };
}

function pcirReport(b: Uint8Array, image: number, pointer: number): PcirReport {
  const at = image + pointer;
  const indicator = b[at + PCIR.indicator]!;
  return {
    offset: pointer,
    vendor: hex(u16(b, at + PCIR.vendor), 4),
    device: hex(u16(b, at + PCIR.device), 4),
    class: hex(readClass(b, at), 6),
    revision: b[at + PCIR.revision]!,
    length: u16(b, at + PCIR.length),
    imageLength: u16(b, at + PCIR.imageLength),
    codeRevision: u16(b, at + PCIR.codeRevision),
    codeType: b[at + PCIR.codeType]!,
    indicator,
    last: (indicator & LAST_IMAGE) !== 0,
  };
}

/** Jump target of the entry at offset 3: `E9 rel16` (target rel16 + 6) or `EB rel8` (rel8 + 5). */
function entryTarget(b: Uint8Array, image: number): number | null {
  const op = b[image + ROM.entry];
  if (op === 0xe9) return (u16(b, image + ROM.entry + 1) + 6) & 0xffff;
  if (op === 0xeb) return ((b[image + ROM.entry + 1]! << 24) >> 24) + 5;
  return null;
}

function checkLegacy(b: Uint8Array, image: RomImageReport, sizeByte: number): void {
  const { offset, problems } = image;
  image.sizeByte = sizeByte;
  const bytes = Array.from(b.subarray(offset + ROM.entry, offset + ROM.entry + 3), (x) => x.toString(16).padStart(2, '0')).join('');
  image.entry = { bytes, target: entryTarget(b, offset) };
  if (sizeByte === 0) problems.push('the size byte (offset 2) is 0: SeaBIOS skips the ROM without a message');
  else if (sizeByte * BLOCK > image.length) problems.push(`the size byte says ${sizeByte} × ${BLOCK} = ${sizeByte * BLOCK} bytes, more than the image (${image.length} bytes)`);
  const covered = Math.min(sizeByte * BLOCK, b.length - offset);
  const sum = byteSum(b, offset, offset + covered);
  image.checksum = { offset: ROM.checksum, value: b[offset + ROM.checksum]!, sum, ok: sum === 0 };
  if (sizeByte > 0 && sum !== 0) problems.push(`the ${covered} bytes the size byte covers sum to ${hex(sum, 2)}, not 0: SeaBIOS logs "Found option rom with bad checksum" and skips the ROM (dudkit rom fix sets byte 6)`);
  const end = offset + image.length;
  for (const sub of SUB_HEADERS) {
    const pointer = u16(b, offset + sub.pointer);
    const start = offset + pointer;
    if (pointer === 0 || start + 4 > end || !hasSignature(b, start, sub.signature)) continue;
    const length = sub.length(b, start);
    const sum = byteSum(b, start, Math.min(start + length, end));
    const report = { offset: pointer, length, sum, ok: sum === 0 && start + length <= end };
    image[sub.key] = report;
    if (start + length > end) problems.push(`the ${sub.signature} header at ${hex(pointer)} (${length} bytes) runs past the image`);
    else if (sum !== 0) problems.push(`the ${sub.signature} header at ${hex(pointer)} sums to ${hex(sum, 2)}, not 0 (its checksum byte is at +${sub.checksum})`);
  }
}

function checkEfi(b: Uint8Array, image: RomImageReport, pcir: number | undefined): void {
  const { offset } = image;
  const sum = byteSum(b, offset, offset + image.length);
  image.efi = {
    initSize: u16(b, offset + EFI.initSize),
    subsystem: u16(b, offset + EFI.subsystem),
    machine: hex(u16(b, offset + EFI.machine), 4),
    compression: u16(b, offset + EFI.compression),
    peOffset: u16(b, offset + EFI.peOffset),
    sum,
    balanced: sum === 0,
  };
  if (isIpxeEfiLayout(b, offset, pcir)) image.checksum = { offset: IPXE_EFI.adjust, value: b[offset + IPXE_EFI.adjust]!, sum, ok: sum === 0 };
}
