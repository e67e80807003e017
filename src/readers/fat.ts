/**
 * `dudkit inspect X.img` for FAT images: a USB stick image (MBR + FAT partition) or a bare FAT
 * file system: partition, FAT type, both labels (root directory and boot sector, as libblkid
 * reports LABEL and LABEL_FATBOOT) and the tree with its long names.
 */
import { FatReader } from '../formats/fat/index.js';
import { isIsoHead } from '../formats/iso9660/read.js';
import type { Reader } from './types.js';

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

export type FatFacts = Awaited<ReturnType<typeof fatFacts>>;

export async function fatFacts(path: string) {
  const fat = await FatReader.open(path);
  try {
    const v = fat.info;
    const entries: { path: string; type: 'file' | 'dir'; size: number; shortName: string }[] = [];
    for await (const e of fat.walk()) entries.push({ path: e.path, type: e.isDir ? 'dir' : 'file', size: e.isDir ? 0 : e.size, shortName: e.shortName });
    const volumeId = v.volumeId.toString(16).toUpperCase().padStart(8, '0');
    return {
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
  } finally {
    await fat.close();
  }
}

export function fatText(f: FatFacts): string {
  return [
    f.partition ? `disk image: MBR partition type ${hex(f.partition.type)} at sector ${f.partition.startSector}` : 'bare FAT file system (no partition table)',
    `FAT${f.fatType}, ${f.volumeBytes} bytes, ${f.clusterCount} clusters of ${f.clusterBytes} bytes, UUID ${f.uuid}`,
    `label ${f.label ?? '(none)'} (root directory), ${f.bootLabel ?? '(none)'} (boot sector)${f.label === 'OEMDRV' && f.bootLabel === 'OEMDRV' ? ': found automatically by the installer' : ''}`,
    '',
    ...f.entries.map((e) => `${e.type === 'dir' ? 'd' : '-'} ${String(e.size).padStart(12)} /${e.path}${e.path.slice(e.path.lastIndexOf('/') + 1).toUpperCase() !== e.shortName ? `  (${e.shortName})` : ''}`),
  ].join('\n');
}

export const fatReader: Reader<FatFacts> = {
  kind: 'fat',
  async bid({ path, bytes }, opened) {
    if (opened?.kind === 'fat') return 10;
    // a damaged FAT volume (it did not open as a medium) is still this reader's to report on
    if (bytes.length < 512 || bytes[510] !== 0x55 || bytes[511] !== 0xaa || isIsoHead(bytes)) return 0;
    return FatReader.open(path).then(
      async (r) => {
        await r.close();
        return 10;
      },
      () => 0,
    );
  },
  inspect: async (path) => ({ kind: 'fat', path, facts: await fatFacts(path), findings: [] }),
  render: { inspect: (r) => fatText(r.facts) },
};
