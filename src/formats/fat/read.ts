import { open, type FileHandle } from 'node:fs/promises';
import { FormatError } from '../../errors.js';
import { lfnChecksum, CASE_LOWER_BASE, CASE_LOWER_EXT } from './names.js';
import { endOfChain, fatGet } from './table.js';

/** MBR partition types that hold a FAT file system (FAT12, FAT16 <32M, FAT16, FAT32 CHS/LBA, FAT16 LBA, EFI system). */
const FAT_PARTITION_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e, 0xef]);

export interface FatVolumeInfo {
  /** Byte offset of the volume in the file (0 for a bare file system, else the first FAT partition). */
  offset: number;
  /** MBR partition type, when the volume came from a partition table. */
  partitionType?: number;
  fatType: 12 | 16 | 32;
  bytesPerSector: number;
  sectorsPerCluster: number;
  clusterCount: number;
  totalSectors: number;
  volumeId: number;
  /** The label in the root directory (what libblkid reports as LABEL), trailing spaces removed. */
  label?: string;
  /** BS_VolLab from the boot sector (libblkid's LABEL_FATBOOT). */
  bootLabel?: string;
}

/** Byte positions of the volume's structures in the file. */
export interface FatGeometry {
  firstDataByte: number;
  clusterBytes: number;
  rootDirByte: number;
  rootDirBytes: number;
  rootCluster: number;
  fatByte: number;
  /** Bytes of each FAT copy on disk. */
  fatBytes: number;
  fatCount: number;
  /** FAT32 FSInfo sector position, if there is one. */
  fsInfoByte?: number;
}

export interface FatFileRead {
  /** Path from the root, long names where present ('EFI/BOOT/grub.cfg'). */
  path: string;
  /** The 8.3 name as stored ('GRUB    CFG' → 'GRUB.CFG'). */
  shortName: string;
  isDir: boolean;
  size: number;
  firstCluster: number;
  /** Byte offset of the 32-byte short entry in the file. */
  entryOffset: number;
}

/**
 * A FAT12/16/32 file system in a file, bare (an El Torito EFI image) or inside an MBR-partitioned
 * disk image. Reads by position; only the FAT itself is held in memory (a few MiB at most for
 * volumes dudkit meets), file data is streamed cluster run by cluster run.
 */
export class FatReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly info: FatVolumeInfo,
    /** The first FAT (entries 0 … clusterCount + 1); edit.ts changes it and writes it back. */
    readonly table: Uint8Array,
    readonly geometry: FatGeometry,
  ) {}

  static async open(path: string): Promise<FatReader> {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const sector0 = await readAt(fh, 0, 512, size, 'the first sector');
      let offset = 0;
      let partitionType: number | undefined;
      if (!looksLikeBootSector(sector0)) {
        if (sector0[510] !== 0x55 || sector0[511] !== 0xaa) throw new FormatError('neither a FAT file system nor a disk image with a partition table');
        const b = Buffer.from(sector0);
        for (let i = 0; i < 4 && partitionType === undefined; i++) {
          const type = b[446 + i * 16 + 4]!;
          if (FAT_PARTITION_TYPES.has(type)) {
            partitionType = type;
            offset = b.readUInt32LE(446 + i * 16 + 8) * 512;
          }
        }
        if (partitionType === undefined) throw new FormatError('the partition table has no FAT partition');
      }
      const bs = Buffer.from(await readAt(fh, offset, 512, size, 'the FAT boot sector'));
      if (!looksLikeBootSector(bs)) throw new FormatError(`no FAT boot sector at offset ${offset}`);
      const bytesPerSector = bs.readUInt16LE(11);
      const spc = bs[13]!;
      const reserved = bs.readUInt16LE(14);
      const fats = bs[16]!;
      const rootEntries = bs.readUInt16LE(17);
      const totalSectors = bs.readUInt16LE(19) || bs.readUInt32LE(32);
      const fatSz16 = bs.readUInt16LE(22);
      const fatSectors = fatSz16 || bs.readUInt32LE(36);
      const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
      const dataSectors = totalSectors - reserved - fats * fatSectors - rootDirSectors;
      if (fats < 1 || fatSectors === 0 || dataSectors <= 0) throw new FormatError(`inconsistent FAT boot sector at offset ${offset}`);
      const clusterCount = Math.floor(dataSectors / spc);
      // As Linux (fs/fat/inode.c) and fsck.fat decide: BPB_FATSz16 == 0 with a BPB_FATSz32 is FAT32
      // whatever the cluster count (mkfs.fat -F 32 makes small ones); otherwise 12 or 16 by count.
      const fatType = fatSz16 === 0 ? 32 : clusterCount < 4085 ? 12 : 16;
      if (fatType === 16 && clusterCount >= 65525) throw new FormatError(`FAT16 boot sector at offset ${offset} with ${clusterCount} clusters, more than FAT16 can address`);
      if (offset + totalSectors * bytesPerSector > size) throw new FormatError(`FAT volume at offset ${offset} needs ${totalSectors * bytesPerSector} bytes, the file ends before`);
      const ext = fatType === 32 ? 64 : 36; // extended BPB position
      const fatBytes = Math.min(fatSectors * bytesPerSector, Math.ceil(((clusterCount + 2) * fatType) / 8));
      const fat = await readAt(fh, offset + reserved * bytesPerSector, fatBytes, size, 'the FAT');
      const rootDirByte = offset + (reserved + fats * fatSectors) * bytesPerSector;
      const info: FatVolumeInfo = {
        offset,
        ...(partitionType !== undefined ? { partitionType } : {}),
        fatType,
        bytesPerSector,
        sectorsPerCluster: spc,
        clusterCount,
        totalSectors,
        volumeId: bs[ext + 2] === 0x29 ? bs.readUInt32LE(ext + 3) : 0,
      };
      if (bs[ext + 2] === 0x29) {
        const lab = bs.toString('latin1', ext + 7, ext + 18).replace(/ +$/, '');
        if (lab !== '' && lab !== 'NO NAME') info.bootLabel = lab;
      }
      const fsInfoSector = fatType === 32 ? bs.readUInt16LE(48) : 0;
      const reader = new FatReader(fh, info, fat, {
        firstDataByte: rootDirByte + rootDirSectors * bytesPerSector,
        clusterBytes: spc * bytesPerSector,
        rootDirByte,
        rootDirBytes: rootDirSectors * bytesPerSector,
        rootCluster: fatType === 32 ? bs.readUInt32LE(44) : 0,
        fatByte: offset + reserved * bytesPerSector,
        fatBytes: fatSectors * bytesPerSector,
        fatCount: fats,
        ...(fsInfoSector > 0 && fsInfoSector < reserved ? { fsInfoByte: offset + fsInfoSector * bytesPerSector } : {}),
      });
      const root = await reader.readDirectory(reader.geometry.rootCluster, '');
      if (root.label !== undefined) info.label = root.label;
      return reader;
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Every file and directory, parents before children, in directory order. */
  async *walk(): AsyncGenerator<FatFileRead> {
    const queue: { cluster: number; path: string }[] = [{ cluster: this.geometry.rootCluster, path: '' }];
    const visited = new Set<number>([this.geometry.rootCluster]);
    while (queue.length > 0) {
      const { cluster, path } = queue.shift()!;
      for (const e of (await this.readDirectory(cluster, path)).entries) {
        yield e;
        if (e.isDir) {
          if (e.firstCluster < 2 || visited.has(e.firstCluster)) throw new FormatError(`directory ${e.path} points to cluster ${e.firstCluster}, which is invalid or already used`);
          visited.add(e.firstCluster);
          queue.push({ cluster: e.firstCluster, path: e.path });
        }
      }
    }
  }

  /** Find one entry by path (case-insensitive, as FAT is); undefined if absent. */
  async find(path: string): Promise<FatFileRead | undefined> {
    let cluster = this.geometry.rootCluster;
    let found: FatFileRead | undefined;
    let prefix = '';
    for (const part of path.split('/').filter((p) => p !== '')) {
      if (found && !found.isDir) return undefined;
      const { entries } = await this.readDirectory(cluster, prefix);
      found = entries.find((e) => e.path.slice(e.path.lastIndexOf('/') + 1).toUpperCase() === part.toUpperCase() || e.shortName === part.toUpperCase());
      if (!found) return undefined;
      cluster = found.firstCluster;
      prefix = found.path;
    }
    return found;
  }

  /** A file's bytes, following its cluster chain. */
  async *read(file: FatFileRead): AsyncGenerator<Uint8Array> {
    let left = file.size;
    for (const run of this.chain(file.firstCluster, file.path)) {
      if (left === 0) break;
      const n = Math.min(left, run.count * this.geometry.clusterBytes);
      for (let done = 0; done < n; ) {
        const len = Math.min(n - done, 1 << 20);
        const buf = new Uint8Array(len);
        const { bytesRead } = await this.fh.read(buf, 0, len, this.clusterByte(run.first) + done);
        if (bytesRead !== len) throw new FormatError(`${file.path}: data beyond the end of the image`);
        done += len;
        yield buf;
      }
      left -= n;
    }
    if (left > 0) throw new FormatError(`${file.path}: cluster chain shorter than its size of ${file.size} bytes`);
  }

  private clusterByte(cluster: number): number {
    return this.geometry.firstDataByte + (cluster - 2) * this.geometry.clusterBytes;
  }

  /** The chain from `first` as runs of consecutive clusters; FormatError on loops and bad links. */
  *chain(first: number, what: string): Generator<{ first: number; count: number }> {
    if (first === 0) return;
    const end = endOfChain(this.info.fatType).min;
    let c = first;
    let steps = 0;
    let run = { first, count: 0 };
    for (;;) {
      if (c < 2 || c >= this.info.clusterCount + 2) throw new FormatError(`${what || 'root directory'}: cluster chain reaches invalid cluster ${c}`);
      if (++steps > this.info.clusterCount) throw new FormatError(`${what || 'root directory'}: cluster chain loops`);
      if (c === run.first + run.count) run.count++;
      else {
        yield run;
        run = { first: c, count: 1 };
      }
      const n = fatGet(this.table, this.info.fatType, c);
      if (n >= end) break;
      c = n;
    }
    yield run;
  }

  private async readDirectory(cluster: number, path: string): Promise<{ entries: FatFileRead[]; label?: string }> {
    if (cluster === 0) {
      if (this.info.fatType === 32) throw new FormatError(`${path}: directory at cluster 0`);
      const base = this.geometry.rootDirByte;
      return parseDirectory(await readAt(this.fh, base, this.geometry.rootDirBytes, Infinity, 'the root directory'), path, (rel) => base + rel);
    }
    // the whole chain first, so a loop is found before any read; a directory holds at most 65536 entries
    const runs = [...this.chain(cluster, path)];
    const runBytes = runs.map((r) => r.count * this.geometry.clusterBytes);
    if (runBytes.reduce((a, b) => a + b, 0) > 65536 * 32) throw new FormatError(`directory ${path || '/'} is larger than FAT allows`);
    const parts: Uint8Array[] = [];
    for (const [i, run] of runs.entries()) parts.push(await readAt(this.fh, this.clusterByte(run.first), runBytes[i]!, Infinity, `directory ${path || '/'}`));
    return parseDirectory(Buffer.concat(parts), path, (rel) => {
      let i = 0;
      for (; rel >= runBytes[i]!; i++) rel -= runBytes[i]!;
      return this.clusterByte(runs[i]!.first) + rel;
    });
  }
}

/** Decode one directory's 32-byte entries, joining VFAT long names whose checksum matches. */
export function parseDirectory(bytes: Uint8Array, path: string, position: (relative: number) => number): { entries: FatFileRead[]; label?: string } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const entries: FatFileRead[] = [];
  let label: string | undefined;
  let lfn: { sum: number; parts: string[]; expect: number } | undefined;
  for (let at = 0; at + 32 <= b.length; at += 32) {
    const first = b[at]!;
    if (first === 0x00) break;
    const attr = b[at + 11]!;
    if (first === 0xe5) {
      lfn = undefined;
      continue;
    }
    if ((attr & 0x3f) === 0x0f) {
      const seq = first & 0x1f;
      if (first & 0x40) lfn = { sum: b[at + 13]!, parts: [], expect: seq };
      if (!lfn || seq !== lfn.expect || b[at + 13] !== lfn.sum) {
        lfn = undefined;
        continue;
      }
      let s = '';
      for (const o of [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30]) {
        const u = b.readUInt16LE(at + o);
        if (u === 0 || u === 0xffff) break;
        s += String.fromCharCode(u);
      }
      lfn.parts.unshift(s);
      lfn.expect--;
      continue;
    }
    const short = b.subarray(at, at + 11);
    if (attr & 0x08) {
      if (path === '' && !(attr & 0x10)) label = short.toString('latin1').replace(/ +$/, '');
      lfn = undefined;
      continue;
    }
    const shortName = shortToString(short, 0);
    if (shortName === '.' || shortName === '..') {
      lfn = undefined;
      continue;
    }
    const long = lfn && lfn.expect === 0 && lfn.sum === lfnChecksum(short) ? lfn.parts.join('') : undefined;
    lfn = undefined;
    const name = long ?? shortToString(short, b[at + 12]!);
    entries.push({
      path: path ? `${path}/${name}` : name,
      shortName,
      isDir: (attr & 0x10) !== 0,
      size: b.readUInt32LE(at + 28),
      firstCluster: (b.readUInt16LE(at + 20) << 16) | b.readUInt16LE(at + 26),
      entryOffset: position(at),
    });
  }
  return label !== undefined ? { entries, label } : { entries };
}

function shortToString(short: Uint8Array, caseFlags: number): string {
  const s = Buffer.from(short).toString('latin1');
  let base = s.slice(0, 8).replace(/ +$/, '');
  let ext = s.slice(8).replace(/ +$/, '');
  if (base.charCodeAt(0) === 0x05) base = '\u00e5' + base.slice(1);
  if (caseFlags & CASE_LOWER_BASE) base = base.toLowerCase();
  if (caseFlags & CASE_LOWER_EXT) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

function looksLikeBootSector(b: Uint8Array): boolean {
  const bps = b[11]! | (b[12]! << 8);
  const spc = b[13]!;
  return (b[0] === 0xeb || b[0] === 0xe9) && [512, 1024, 2048, 4096].includes(bps) && spc > 0 && (spc & (spc - 1)) === 0 && b[16]! >= 1 && (b[14]! | (b[15]! << 8)) >= 1;
}

async function readAt(fh: FileHandle, offset: number, length: number, fileSize: number, what: string): Promise<Uint8Array> {
  if (offset + length > fileSize) throw new FormatError(`truncated: ${what} at offset ${offset} needs ${length} bytes`);
  const buf = new Uint8Array(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead !== length) throw new FormatError(`truncated: ${what} at offset ${offset} needs ${length} bytes, got ${bytesRead}`);
  return buf;
}
