/**
 * `dudkit inspect X.img` for FAT images: a USB stick image (MBR + FAT partition) or a bare FAT
 * file system: partition, FAT type, both labels (root directory and boot sector, as libblkid
 * reports LABEL and LABEL_FATBOOT) and the tree with its long names.
 */
import { FatReader } from '../formats/fat/index.js';
import { isIsoHead } from '../formats/iso9660/read.js';
import type { Inspector, Report } from '../inspectors.js';

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

export async function inspectFatImage(path: string): Promise<Report> {
  const fat = await FatReader.open(path);
  try {
    const v = fat.info;
    const entries: { path: string; type: 'file' | 'dir'; size: number; shortName: string }[] = [];
    for await (const e of fat.walk()) entries.push({ path: e.path, type: e.isDir ? 'dir' : 'file', size: e.isDir ? 0 : e.size, shortName: e.shortName });
    const volumeId = v.volumeId.toString(16).toUpperCase().padStart(8, '0');
    const json = {
      partition: v.partitionType !== undefined ? { type: v.partitionType, startSector: v.offset / 512 } : null,
      fatType: v.fatType,
      clusterBytes: v.bytesPerSector * v.sectorsPerCluster,
      clusterCount: v.clusterCount,
      volumeBytes: v.totalSectors * v.bytesPerSector,
      label: v.label ?? null,
      bootLabel: v.bootLabel ?? null,
      uuid: `${volumeId.slice(0, 4)}-${volumeId.slice(4)}`,
      entries,
    };
    const lines = [
      v.partitionType !== undefined ? `disk image: MBR partition type ${hex(v.partitionType)} at sector ${v.offset / 512}` : 'bare FAT file system (no partition table)',
      `FAT${v.fatType}, ${json.volumeBytes} bytes, ${json.clusterCount} clusters of ${json.clusterBytes} bytes, UUID ${json.uuid}`,
      `label ${v.label ?? '(none)'} (root directory), ${v.bootLabel ?? '(none)'} (boot sector)${v.label === 'OEMDRV' && v.bootLabel === 'OEMDRV' ? ': found automatically by the installer' : ''}`,
      '',
      ...entries.map((e) => `${e.type === 'dir' ? 'd' : '-'} ${String(e.size).padStart(12)} /${e.path}${e.path.slice(e.path.lastIndexOf('/') + 1).toUpperCase() !== e.shortName ? `  (${e.shortName})` : ''}`),
    ];
    return { kind: 'fat', json, text: lines.join('\n') };
  } finally {
    await fat.close();
  }
}

export const fatImageInspector: Inspector = {
  kind: 'fat',
  async detect(path, head, isDirectory) {
    if (isDirectory || head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa || isIsoHead(head)) return false;
    return FatReader.open(path).then(
      async (r) => {
        await r.close();
        return true;
      },
      () => false,
    );
  },
  inspect: inspectFatImage,
};
