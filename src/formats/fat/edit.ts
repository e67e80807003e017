import { open } from 'node:fs/promises';
import { FormatError } from '../../errors.js';
import { FatReader } from './read.js';
import { endOfChain, fatGet, fatSet } from './table.js';

/**
 * Replace the contents of existing files inside a FAT12/16/32 image, in place (work on a copy:
 * an interrupted edit leaves the file inconsistent). Each file keeps its clusters as far as they
 * go; more are taken from the lowest free clusters, surplus ones are freed; every FAT copy, the
 * directory entry's size and first cluster, and FAT32's FSInfo free count are updated. Names,
 * timestamps and every other byte stay as they were. Used to edit the grub.cfg copy inside an
 * installer ISO's efiboot.img.
 */
export async function replaceFatFiles(path: string, replacements: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const reader = await FatReader.open(path);
  try {
    const fh = await open(path, 'r+');
    try {
      const { info, table, geometry: g } = reader;
      const bits = info.fatType;
      const { mark } = endOfChain(bits);
      let freed = 0;
      for (const [name, data] of replacements) {
        const file = await reader.find(name);
        if (!file || file.isDir) throw new FormatError(`${name}: no such file in the FAT image`);
        const old: number[] = [];
        for (const run of reader.chain(file.firstCluster, file.path)) for (let i = 0; i < run.count; i++) old.push(run.first + i);
        const need = Math.ceil(data.length / g.clusterBytes);
        const clusters = old.slice(0, need);
        for (const c of old.slice(need)) {
          fatSet(table, bits, c, 0);
          freed++;
        }
        for (let c = 2; clusters.length < need; c++) {
          if (c >= info.clusterCount + 2) throw new FormatError(`no free space in the FAT image for ${name} (${data.length} bytes)`);
          if (fatGet(table, bits, c) === 0) {
            clusters.push(c);
            freed--;
            // mark it at once so the scan cannot hand it out twice
            fatSet(table, bits, c, mark);
          }
        }
        clusters.forEach((c, i) => fatSet(table, bits, c, i + 1 < clusters.length ? clusters[i + 1]! : mark));
        for (const [i, c] of clusters.entries()) {
          const block = new Uint8Array(g.clusterBytes);
          block.set(data.subarray(i * g.clusterBytes, (i + 1) * g.clusterBytes));
          await fh.write(block, 0, block.length, g.firstDataByte + (c - 2) * g.clusterBytes);
        }
        const entry = Buffer.alloc(32);
        await fh.read(entry, 0, 32, file.entryOffset);
        const first = clusters[0] ?? 0;
        entry.writeUInt16LE(bits === 32 ? first >>> 16 : 0, 20);
        entry.writeUInt16LE(first & 0xffff, 26);
        entry.writeUInt32LE(data.length, 28);
        await fh.write(entry, 0, 32, file.entryOffset);
      }
      for (let k = 0; k < g.fatCount; k++) await fh.write(table, 0, table.length, g.fatByte + k * g.fatBytes);
      if (g.fsInfoByte !== undefined) {
        const fsinfo = Buffer.alloc(512);
        await fh.read(fsinfo, 0, 512, g.fsInfoByte);
        const free = fsinfo.readUInt32LE(488);
        if (fsinfo.readUInt32LE(0) === 0x41615252 && free !== 0xffffffff) {
          fsinfo.writeUInt32LE(free + freed, 488);
          await fh.write(fsinfo, 488, 4, g.fsInfoByte + 488);
        }
      }
    } finally {
      await fh.close();
    }
  } finally {
    await reader.close();
  }
}
