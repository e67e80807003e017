/**
 * isohybrid system area: an MBR whose partition covers the image (so `dd` to a USB stick works),
 * optionally with a GPT and its backup at the end, in one of two forms (`delivery.md` §6.3): xorriso's
 * `-isohybrid-gpt-basdat` (248 entries, RHEL 9) or syslinux `isohybrid --uefi` (128 entries,
 * RHEL 7/8). `systemArea` encodes it; `decodeSystemArea` reads the same fields back from any image.
 */
import { createHash } from 'node:crypto';
// the GPT header and entry-array CRC is zlib's CRC-32 (Node ≥ 20.15)
import { crc32 } from 'node:zlib';
import { le32, le64, readLe32, readLe64 } from './numbers.js';

export const SECTOR = 512;
const SECTORS_PER_TRACK = 32;

export interface Geometry {
  readonly heads: number;
  /** Bytes per cylinder: the image is padded to a whole number of them. */
  readonly cylinderBytes: number;
}

/** 64 heads × 32 sectors (1 MiB cylinders), more heads when that would exceed 1024 cylinders. */
export function geometry(imageBytes: number): Geometry {
  let heads = 64;
  const sectors = Math.ceil(imageBytes / SECTOR);
  if (Math.ceil(sectors / (heads * SECTORS_PER_TRACK)) > 1024) heads = Math.min(255, Math.ceil(sectors / (1024 * SECTORS_PER_TRACK)));
  return { heads, cylinderBytes: heads * SECTORS_PER_TRACK * SECTOR };
}

function chs(b: Uint8Array, off: number, lba: number, g: Geometry): void {
  const perCyl = g.heads * SECTORS_PER_TRACK;
  let c = Math.floor(lba / perCyl);
  let h = Math.floor((lba % perCyl) / SECTORS_PER_TRACK);
  let s = (lba % SECTORS_PER_TRACK) + 1;
  if (c > 1023) [c, h, s] = [1023, g.heads - 1, SECTORS_PER_TRACK];
  b[off] = h;
  b[off + 1] = s | ((c >> 8) & 3) << 6;
  b[off + 2] = c & 0xff;
}

/** Deterministic bytes from the volume id and epoch (disk signature, GUIDs). */
function derived(volumeId: string, epoch: number, what: string, n: number): Uint8Array {
  return createHash('sha256').update(`${what}\0${volumeId}\0${epoch}`).digest().subarray(0, n);
}

function guid(volumeId: string, epoch: number, what: string): Uint8Array {
  const g = new Uint8Array(derived(volumeId, epoch, what, 16));
  g[7] = (g[7]! & 0x0f) | 0x40; // version 4 (byte 7 is the high byte of the LE third field)
  g[8] = (g[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return g;
}

const BASIC_DATA = Uint8Array.from([0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7]);


/** Identifiers of an `isohybrid --uefi` area, kept from the input: isohybrid draws them at random. */
export interface KeptIds {
  /** MBR disk signature (bytes 440–443). */
  readonly signature: Uint8Array;
  readonly diskGuid: Uint8Array;
  /** Unique GUIDs of GPT entries 1 and 2. */
  readonly partitionGuids: readonly [Uint8Array, Uint8Array];
}

/** Identifiers of a GRUB2 hybrid area (RHEL 10), kept from the input. */
export interface Grub2Ids {
  readonly signature: Uint8Array;
  readonly diskGuid: Uint8Array;
  /** Unique GUIDs of GPT entries 1–3 (ISO9660, Appended2, Gap1). */
  readonly partitionGuids: readonly [Uint8Array, Uint8Array, Uint8Array];
}

export interface HybridLayout {
  /** 432 bytes of boot code (isohdpfx.bin), or zeros. */
  readonly bootCode: Uint8Array;
  readonly imageBytes: number;
  /** LBA (2048-byte) of the El Torito BIOS image, or 0. */
  readonly biosLba: number;
  /** The EFI image's extent when a GPT is wanted. */
  readonly efi?: { readonly lba: number; readonly size: number };
  readonly gpt: boolean;
  readonly volumeId: string;
  readonly epoch: number;
  /**
   * syslinux `isohybrid --uefi` form instead of xorriso's: identifiers kept, GPT entry 1 over the ISO
   * volume only (the image is padded past it to whole cylinders), entry 2 and MBR entry 2 as long as
   * the El Torito UEFI entry loads.
   */
  readonly isohybridUefi?: { readonly ids: KeptIds; readonly volumeBytes: number; readonly efiSectors: number };
  /**
   * xorriso's `--grub2-mbr` form with `-partition_offset 16` and the UEFI image appended as GPT
   * partition 2 (RHEL 10): protective 0xEE MBR entry, GPT entries ISO9660 / Appended2 / Gap1.
   * Sectors: `isoEnd` = end of the ISO data = start of the appended partition, of `appendedSectors`.
   */
  readonly grub2?: { readonly ids: Grub2Ids; readonly isoEnd: number; readonly appendedSectors: number };
  /** xorriso's form: identifiers kept from a rebuilt image instead of derived from the volume id. */
  readonly keptIds?: KeptIds;
}

const ESP = Uint8Array.from([0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b]);
/** ISO 9660 partition start in 2048-byte blocks (`-partition_offset 16`): its second superblock set is at block 32. */
export const PARTITION_OFFSET = 16;

/** Entry count, first usable sector and backup length (entry array + header) of each GPT form. */
function gptShape(h: HybridLayout): { entries: number; firstUsable: number; backupSectors: number } {
  return h.isohybridUefi ? { entries: 128, firstUsable: 34, backupSectors: 33 } : { entries: 248, firstUsable: 64, backupSectors: 63 };
}

/** Sectors the GPT form needs after the ISO data: its backup entry array and header. */
export function gptBackupSectors(isohybridUefi: boolean): number {
  return isohybridUefi ? 33 : 63;
}

function partition(b: Uint8Array, off: number, p: { active: boolean; type: number; start: number; count: number }, g: Geometry): void {
  b[off] = p.active ? 0x80 : 0;
  chs(b, off + 1, p.start, g);
  b[off + 4] = p.type;
  chs(b, off + 5, p.start + p.count - 1, g);
  le32(b, off + 8, p.start);
  le32(b, off + 12, p.count);
}

/** The 32 KiB system area (MBR, and GPT header + entries when asked). */
export function systemArea(h: HybridLayout): Uint8Array {
  const b = new Uint8Array(32768);
  const g = geometry(h.imageBytes);
  const sectors = h.imageBytes / SECTOR;
  b.set(h.bootCode.subarray(0, 432), 0);
  if (h.grub2) return grub2Area(b, h, h.grub2.ids, g);
  le32(b, 432, h.biosLba * 4);
  b.set(h.isohybridUefi?.ids.signature ?? h.keptIds?.signature ?? derived(h.volumeId, h.epoch, 'mbr-signature', 4), 440);
  partition(b, 446, { active: true, type: h.gpt ? 0x00 : 0x17, start: 0, count: sectors }, g);
  if (h.gpt && h.efi) {
    const efiStart = h.efi.lba * 4;
    const efiCount = h.isohybridUefi?.efiSectors ?? Math.ceil(h.efi.size / SECTOR);
    b.set([0x00, 0xfe, 0xff, 0xff, 0xef, 0xfe, 0xff, 0xff], 462);
    le32(b, 462 + 8, efiStart);
    le32(b, 462 + 12, efiCount);
  }
  b[510] = 0x55;
  b[511] = 0xaa;
  if (h.gpt) {
    const entries = gptEntries(h);
    b.set(gptHeader(h, entries, false), SECTOR);
    b.set(entries, 2 * SECTOR);
  }
  return b;
}

/** RHEL 10's area: GRUB's code finds the rest of `eltorito.img` at its 512-byte sector 4 (LE64 at 432). */
function grub2Area(b: Uint8Array, h: HybridLayout, ids: Grub2Ids, g: Geometry): Uint8Array {
  const sectors = h.imageBytes / SECTOR;
  le64(b, 432, h.biosLba * 4 + 4);
  b.set(ids.signature, 440);
  partition(b, 446, { active: false, type: 0xee, start: 1, count: sectors - 1 }, g);
  b[510] = 0x55;
  b[511] = 0xaa;
  const entries = gptEntries(h);
  b.set(gptHeader(h, entries, false), SECTOR);
  b.set(entries, 2 * SECTOR);
  return b;
}

function gptEntries(h: HybridLayout): Uint8Array {
  const sectors = h.imageBytes / SECTOR;
  const { entries, backupSectors } = gptShape(h);
  const lastUsable = sectors - 1 - backupSectors;
  const e = new Uint8Array(entries * 128);
  const put = (i: number, first: number, last: number, name: string, attributes: bigint, id: Uint8Array, type = BASIC_DATA) => {
    const o = i * 128;
    e.set(type, o);
    e.set(id, o + 16);
    le64(e, o + 32, first);
    le64(e, o + 40, last);
    new DataView(e.buffer, e.byteOffset + o + 48, 8).setBigUint64(0, attributes, true);
    e.set(Buffer.from(name, 'utf16le'), o + 56);
  };
  const required = 0x1000000000000001n;
  const g2 = h.grub2;
  if (g2) {
    // xorriso: partition 1 from the offset to the appended one, the ESP, then the padding as Gap1
    const espEnd = g2.isoEnd + g2.appendedSectors;
    put(0, PARTITION_OFFSET * 4, g2.isoEnd - 1, 'ISO9660', required, g2.ids.partitionGuids[0]);
    put(1, g2.isoEnd, espEnd - 1, 'Appended2', 0n, g2.ids.partitionGuids[1], ESP);
    if (espEnd < lastUsable - 1) put(2, espEnd, lastUsable - 1, 'Gap1', required, g2.ids.partitionGuids[2]);
    return e;
  }
  const u = h.isohybridUefi;
  if (u) {
    // Debian's isohybrid: both entries Basic Data, attributes 0, entry 1 ends with the ISO volume
    put(0, 0, u.volumeBytes / SECTOR - 1, 'ISOHybrid ISO', 0n, u.ids.partitionGuids[0]);
    if (h.efi) put(1, h.efi.lba * 4, h.efi.lba * 4 + u.efiSectors - 1, 'ISOHybrid', 0n, u.ids.partitionGuids[1]);
    return e;
  }
  const ids = h.keptIds?.partitionGuids;
  put(0, 0, lastUsable - 1, 'ISOHybrid', required, ids?.[0] ?? guid(h.volumeId, h.epoch, 'partition-0'));
  if (h.efi) put(1, h.efi.lba * 4, h.efi.lba * 4 + Math.ceil(h.efi.size / SECTOR) - 1, 'ISOHybrid1', required, ids?.[1] ?? guid(h.volumeId, h.epoch, 'partition-1'));
  return e;
}

function gptHeader(h: HybridLayout, entries: Uint8Array, backup: boolean): Uint8Array {
  const last = h.imageBytes / SECTOR - 1;
  const shape = gptShape(h);
  const b = new Uint8Array(SECTOR);
  b.set(Buffer.from('EFI PART', 'latin1'), 0);
  le32(b, 8, 0x00010000);
  le32(b, 12, 92);
  le64(b, 24, backup ? last : 1);
  le64(b, 32, backup ? 1 : last);
  le64(b, 40, shape.firstUsable);
  le64(b, 48, last - shape.backupSectors);
  b.set(h.isohybridUefi?.ids.diskGuid ?? h.grub2?.ids.diskGuid ?? h.keptIds?.diskGuid ?? guid(h.volumeId, h.epoch, 'disk'), 56);
  le64(b, 72, backup ? last - (shape.backupSectors - 1) : 2);
  le32(b, 80, shape.entries);
  le32(b, 84, 128);
  le32(b, 88, crc32(entries));
  le32(b, 16, crc32(b.subarray(0, 92)));
  return b;
}

/** The last sectors of a GPT image (63 or 33 by form): backup entry array, then the backup header. */
export function gptBackup(h: HybridLayout): Uint8Array {
  const entries = gptEntries(h);
  const { backupSectors } = gptShape(h);
  const out = new Uint8Array(backupSectors * SECTOR);
  out.set(entries, 0);
  out.set(gptHeader(h, entries, true), (backupSectors - 1) * SECTOR);
  return out;
}


export interface MbrPartition {
  /** 1–4: the slot in the partition table. */
  readonly index: number;
  readonly active: boolean;
  readonly type: number;
  readonly start: number;
  readonly sectors: number;
}

/** What an image's system area holds: nothing, data that is no MBR, or an MBR (and GPT header). */
export type DecodedSystemArea =
  | { readonly kind: 'blank' }
  | { readonly kind: 'other' }
  | {
      readonly kind: 'mbr';
      /** Bytes 0–431. */
      readonly bootCode: Uint8Array;
      /** The LE64 at byte 432 where isohybrid boot code finds the El Torito BIOS image (512-byte sectors). */
      readonly bootImageSector: number;
      readonly signature: number;
      /** Bytes 440–443 as stored. */
      readonly signatureBytes: Uint8Array;
      /** Used slots only (type or size set). */
      readonly partitions: MbrPartition[];
      /** The primary GPT header at LBA 1, when there is one. */
      readonly gpt?: DecodedGpt;
    };

export interface GptPartition {
  /** 1-based slot in the entry array. */
  readonly index: number;
  /** Type GUID as stored (mixed-endian bytes). */
  readonly type: Uint8Array;
  readonly guid: Uint8Array;
  readonly first: number;
  readonly last: number;
  readonly attributes: bigint;
  readonly name: string;
}

export interface DecodedGpt {
  /** Where its entry array lies and how long it is. */
  readonly entriesLba: number;
  readonly entries: number;
  readonly firstUsable: number;
  readonly diskGuid: Uint8Array;
  /** Used entries, when the array lies within the bytes decoded. */
  readonly partitions: readonly GptPartition[];
}

function decodeGpt(area: Uint8Array): DecodedGpt | undefined {
  if (area.length < 2 * SECTOR || Buffer.from(area.subarray(512, 520)).toString('latin1') !== 'EFI PART') return undefined;
  const h = area.subarray(SECTOR, 2 * SECTOR);
  const entriesLba = readLe64(h, 72);
  const entries = readLe32(h, 80);
  const size = readLe32(h, 84);
  const partitions: GptPartition[] = [];
  for (let i = 0; size >= 128 && i < entries; i++) {
    const o = entriesLba * SECTOR + i * size;
    if (o + 128 > area.length) break;
    const e = area.subarray(o, o + 128);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const name = Buffer.from(e.subarray(56, 128)).toString('utf16le').replace(/\0[\s\S]*$/, '');
    const attributes = new DataView(e.buffer, e.byteOffset + 48, 8).getBigUint64(0, true);
    partitions.push({ index: i + 1, type: e.slice(0, 16), guid: e.slice(16, 32), first: readLe64(e, 32), last: readLe64(e, 40), attributes, name });
  }
  return { entriesLba, entries, firstUsable: readLe64(h, 40), diskGuid: h.slice(56, 72), partitions };
}

/** Decode the first ≥ 1024 bytes of an image (the whole 32 KiB area to tell blank from other data). */
export function decodeSystemArea(area: Uint8Array): DecodedSystemArea {
  if (area[510] !== 0x55 || area[511] !== 0xaa) return area.every((b) => b === 0) ? { kind: 'blank' } : { kind: 'other' };
  const partitions: MbrPartition[] = [];
  for (let i = 0; i < 4; i++) {
    const o = 446 + 16 * i;
    const type = area[o + 4]!;
    const sectors = readLe32(area, o + 12);
    if (type === 0 && sectors === 0) continue;
    partitions.push({ index: i + 1, active: area[o] === 0x80, type, start: readLe32(area, o + 8), sectors });
  }
  const gpt = decodeGpt(area);
  return {
    kind: 'mbr',
    bootCode: area.subarray(0, 432),
    bootImageSector: readLe64(area, 432),
    signature: readLe32(area, 440),
    signatureBytes: area.slice(440, 444),
    partitions,
    ...(gpt ? { gpt } : {}),
  };
}
