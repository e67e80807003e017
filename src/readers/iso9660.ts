/** `dudkit inspect X.iso`: volume, tree (Rock Ridge names), boot entries, system area, media check. */
import type { Context } from '../context.js';
import { checkMediaCheck } from '../formats/isomd5.js';
import { IsoReader, isIsoHead } from '../formats/iso9660/read.js';
import { comparePaths } from '../tree/tree.js';
import type { Inspection, Reader } from './types.js';
import { modeString } from '../formats/mode.js';

export type IsoFacts = Awaited<ReturnType<typeof isoFacts>>;

/** Volume, tree (Rock Ridge names), boot entries with the files they boot, system area, media check. */
export async function isoFacts(path: string, ctx: Context) {
  const iso = await IsoReader.open(path);
  try {
    ctx.progress.phase(`reading ${path}`);
    const entries = (await iso.entries()).sort((a, b) => comparePaths(a.path, b.path));
    const boot = await iso.bootEntries();
    const byLba = new Map(entries.filter((e) => e.type === 'file' && e.extents[0]).map((e) => [e.extents[0]!.lba, e.path]));
    const bootJson = boot.map((b) => ({ ...b, ...(byLba.has(b.lba) ? { path: byLba.get(b.lba) } : {}) }));
    const system = await iso.systemArea();
    const mediaCheck = await checkMediaCheck(path, ctx.progress);
    const v = iso.volume;
    return {
      volume: v,
      size: v.volumeBlocks * 2048,
      boot: bootJson,
      systemArea: system,
      mediaCheck: { state: mediaCheck.state, ...(mediaCheck.stored ? { md5: mediaCheck.stored.md5, supported: mediaCheck.stored.supported } : {}), ...(mediaCheck.failedFragment ? { failedFragment: mediaCheck.failedFragment } : {}) },
      entries: entries.map((e) => ({ path: e.path, type: e.type, mode: e.mode, size: e.size, mtime: e.mtime, ...(e.target !== undefined ? { target: e.target } : {}), ...(e.zisofs ? { zisofs: { storedSize: e.zisofs.storedSize, algorithm: e.zisofs.algorithm, blockSize: e.zisofs.blockSize } } : {}) })),
    };
  } finally {
    await iso.close();
  }
}

export function isoText(f: IsoFacts): string {
  const v = f.volume;
  const { mediaCheck } = f;
  const lines = [
    `ISO 9660 image, volume id ${JSON.stringify(v.volumeId)}, ${v.volumeBlocks} blocks (${v.volumeBlocks * 2048} bytes)`,
    `names: ${[v.rockRidge ? 'Rock Ridge' : '', v.joliet ? 'Joliet' : '', 'ISO 9660'].filter(Boolean).join(', ')}`,
    ...(v.publisher ? [`publisher: ${v.publisher}`] : []),
    ...(v.application ? [`application: ${v.application}`] : []),
    ...f.boot.map((b) => `boot: ${b.platform}, emulation ${b.emulation}, ${b.loadSectors} sectors at block ${b.lba}${b.path ? ` (/${b.path})` : ''}`),
    ...f.systemArea.mbr.map((p) => `MBR partition ${p.index}: type 0x${p.type.toString(16).padStart(2, '0')}${p.active ? ' active' : ''}, sectors ${p.start}+${p.sectors}`),
    ...(f.systemArea.gpt ? ['GPT present'] : []),
    `media check: ${mediaCheck.state}${mediaCheck.md5 ? ` (${mediaCheck.md5})` : ''}${mediaCheck.failedFragment ? `, fragment ${mediaCheck.failedFragment} differs` : ''}`,
    '',
    ...f.entries.map((e) => `${modeString(e.mode)} ${String(e.size).padStart(12)} /${e.path}${e.target !== undefined ? ` -> ${e.target}` : ''}${e.zisofs ? ` (zisofs-compressed, ${e.zisofs.storedSize} bytes stored)` : ''}`),
  ];
  return lines.join('\n');
}

/** Any ISO image no more specific reader claims: its volume, tree, boot entries and media check. */
export const iso9660Reader: Reader<IsoFacts> = {
  kind: 'iso9660',
  bid: (head) => (isIsoHead(head.bytes) ? 10 : 0),
  inspect: async (path, _opened, { ctx }): Promise<Inspection<IsoFacts>> => ({ kind: 'iso9660', path, facts: await isoFacts(path, ctx), findings: [] }),
  render: { inspect: (r) => isoText(r.facts) },
};
