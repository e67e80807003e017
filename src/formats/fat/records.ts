import { fatTime } from './time.js';
import { lfnEntries, type DirName } from './names.js';
import { PARTITION_START, SECTOR, type FatChild, type FatPlan } from './plan.js';

/** Pure encoders of the fixed structures: MBR, FAT32 boot sector, FSInfo, directory entries. */

const ATTR_DIR = 0x10;
const ATTR_ARCHIVE = 0x20;
const ATTR_VOLUME = 0x08;
/** BIOS geometry used for the CHS fields and the BPB (the usual LBA translation). */
const HEADS = 255;
const SECTORS_PER_TRACK = 63;
const PARTITION_TYPE_FAT32_LBA = 0x0c;

function chs(lba: number): [number, number, number] {
  const cyl = Math.floor(lba / (HEADS * SECTORS_PER_TRACK));
  if (cyl > 1023) return [0xfe, 0xff, 0xff]; // beyond CHS: the conventional "use LBA" marker
  const head = Math.floor(lba / SECTORS_PER_TRACK) % HEADS;
  const sector = (lba % SECTORS_PER_TRACK) + 1;
  return [head, sector | ((cyl >> 2) & 0xc0), cyl & 0xff];
}

/** Boot code for both the MBR and the FAT boot sector: the stick is not bootable, so `int 18h` hands the boot back to the BIOS (next device), then halt. */
const NOT_BOOTABLE = [0xcd, 0x18, 0xf4, 0xeb, 0xfd];

export function encodeMbr(plan: FatPlan): Uint8Array {
  const b = Buffer.alloc(SECTOR);
  b.set(NOT_BOOTABLE, 0);
  b.writeUInt32LE(plan.diskSignature, 440);
  const p = 446;
  b[p] = 0x00;
  b.set(chs(PARTITION_START), p + 1);
  b[p + 4] = PARTITION_TYPE_FAT32_LBA;
  b.set(chs(PARTITION_START + plan.totalSectors - 1), p + 5);
  b.writeUInt32LE(PARTITION_START, p + 8);
  b.writeUInt32LE(plan.totalSectors, p + 12);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

export function encodeBootSector(plan: FatPlan): Uint8Array {
  const b = Buffer.alloc(SECTOR);
  b.set([0xeb, 0x58, 0x90], 0); // jump over the BPB to the boot code at 0x5a
  b.write('MSWIN4.1', 3, 'latin1'); // the OEM name FAT drivers are most used to
  b.writeUInt16LE(SECTOR, 11);
  b[13] = plan.sectorsPerCluster;
  b.writeUInt16LE(plan.reservedSectors, 14);
  b[16] = 2; // FATs
  b[21] = 0xf8; // media: fixed disk
  b.writeUInt16LE(SECTORS_PER_TRACK, 24);
  b.writeUInt16LE(HEADS, 26);
  b.writeUInt32LE(PARTITION_START, 28); // hidden sectors before the volume
  b.writeUInt32LE(plan.totalSectors, 32);
  b.writeUInt32LE(plan.fatSectors, 36);
  b.writeUInt32LE(2, 44); // root directory cluster
  b.writeUInt16LE(1, 48); // FSInfo sector
  b.writeUInt16LE(6, 50); // backup boot sector
  b[64] = 0x80; // drive number
  b[66] = 0x29; // extended boot signature: the next three fields are valid
  b.writeUInt32LE(plan.volumeId, 67);
  b.write((plan.label ?? 'NO NAME').padEnd(11, ' '), 71, 'latin1');
  b.write('FAT32   ', 82, 'latin1');
  b.set(NOT_BOOTABLE, 0x5a);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

export function encodeFsInfo(plan: FatPlan): Uint8Array {
  const b = Buffer.alloc(SECTOR);
  b.writeUInt32LE(0x41615252, 0);
  b.writeUInt32LE(0x61417272, 484);
  const free = plan.clusterCount - plan.usedClusters;
  b.writeUInt32LE(free, 488);
  b.writeUInt32LE(free > 0 ? 2 + plan.usedClusters : 0xffffffff, 492); // hint: first free cluster, or unknown
  b.writeUInt32LE(0xaa550000, 508);
  return b;
}

function shortEntry(name: Uint8Array, attr: number, caseFlags: number, cluster: number, size: number, epoch: number): Uint8Array {
  const b = Buffer.alloc(32);
  b.set(name, 0);
  b[11] = attr;
  b[12] = caseFlags;
  const t = fatTime(epoch);
  b[13] = t.tenths;
  b.writeUInt16LE(t.time, 14);
  b.writeUInt16LE(t.date, 16);
  b.writeUInt16LE(t.date, 18);
  b.writeUInt16LE(cluster >>> 16, 20);
  b.writeUInt16LE(t.time, 22);
  b.writeUInt16LE(t.date, 24);
  b.writeUInt16LE(cluster & 0xffff, 26);
  b.writeUInt32LE(size, 28);
  return b;
}

const dotName = (dots: number) => Buffer.from('.'.repeat(dots).padEnd(11, ' '), 'latin1');

/**
 * A directory's bytes, padded with zeros to its clusters: `.` and `..` (sub-directories) or the
 * volume label (root), then each child's LFN entries and short entry.
 */
export function encodeDirectory(item: { path: string; firstCluster: number; parentCluster: number; children: FatChild[]; clusters: number }, plan: FatPlan): Uint8Array {
  const out = new Uint8Array(item.clusters * plan.sectorsPerCluster * SECTOR);
  let at = 0;
  const put = (e: Uint8Array) => {
    out.set(e, at);
    at += 32;
  };
  if (item.path === '') {
    if (plan.label !== undefined) put(shortEntry(Buffer.from(plan.label.padEnd(11, ' '), 'latin1'), ATTR_VOLUME, 0, 0, 0, plan.epoch));
  } else {
    put(shortEntry(dotName(1), ATTR_DIR, 0, item.firstCluster, 0, plan.epoch));
    put(shortEntry(dotName(2), ATTR_DIR, 0, item.parentCluster, 0, plan.epoch));
  }
  for (const c of item.children) {
    const n: DirName = c.name;
    if (n.long !== undefined) for (const e of lfnEntries(n.long, n.short)) put(e);
    put(shortEntry(n.short, c.isDir ? ATTR_DIR : ATTR_ARCHIVE, n.caseFlags, c.firstCluster, c.isDir ? 0 : c.size, plan.epoch));
  }
  return out;
}
