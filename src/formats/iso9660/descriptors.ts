/** Volume descriptors: primary, Joliet supplementary, El Torito boot record, set terminator. */
import { asciiField, BLOCK, both16, both32, be32, descDate, le32, ucs2Field } from './numbers.js';
import { writeRecord, FLAG_DIRECTORY } from './records.js';

export interface VolumeIds {
  readonly volumeId: string;
  readonly systemId: string;
  readonly volumeSetId: string;
  readonly publisher: string;
  readonly preparer: string;
  readonly application: string;
}

export interface DescriptorTree {
  readonly rootLba: number;
  readonly rootSize: number;
  readonly pathTableSize: number;
  readonly lPathLba: number;
  readonly mPathLba: number;
}

function header(type: number): Uint8Array {
  const b = new Uint8Array(BLOCK);
  b[0] = type;
  b.set(Buffer.from('CD001', 'latin1'), 1);
  b[6] = 1;
  return b;
}

function volumeDescriptor(type: 1 | 2, ids: VolumeIds, tree: DescriptorTree, volumeBlocks: number, epoch: number): Uint8Array {
  const b = header(type);
  const field = type === 1 ? asciiField : ucs2Field;
  field(b, 8, 32, ids.systemId);
  field(b, 40, 32, type === 1 ? ids.volumeId : ids.volumeId.slice(0, 16));
  both32(b, 80, volumeBlocks);
  if (type === 2) b.set([0x25, 0x2f, 0x45], 88);
  both16(b, 120, 1);
  both16(b, 124, 1);
  both16(b, 128, BLOCK);
  both32(b, 132, tree.pathTableSize);
  le32(b, 140, tree.lPathLba);
  be32(b, 148, tree.mPathLba);
  writeRecord(b, 156, { lba: tree.rootLba, length: tree.rootSize, flags: FLAG_DIRECTORY, id: Uint8Array.of(0), epoch });
  field(b, 190, 128, ids.volumeSetId);
  field(b, 318, 128, ids.publisher);
  field(b, 446, 128, ids.preparer);
  field(b, 574, 128, ids.application);
  for (const off of [702, 739, 776]) field(b, off, 37, '');
  descDate(b, 813, epoch);
  descDate(b, 830, epoch);
  descDate(b, 847, undefined);
  descDate(b, 864, undefined);
  b[881] = 1;
  // application use: spaces in the PVD (where the media-check record goes), zeros in the SVD
  if (type === 1) b.fill(0x20, 883, 883 + 512);
  return b;
}

export function primaryDescriptor(ids: VolumeIds, tree: DescriptorTree, volumeBlocks: number, epoch: number): Uint8Array {
  return volumeDescriptor(1, ids, tree, volumeBlocks, epoch);
}

export function jolietDescriptor(ids: VolumeIds, tree: DescriptorTree, volumeBlocks: number, epoch: number): Uint8Array {
  return volumeDescriptor(2, ids, tree, volumeBlocks, epoch);
}

export function bootRecord(catalogLba: number): Uint8Array {
  const b = header(0);
  b.set(Buffer.from('EL TORITO SPECIFICATION', 'latin1'), 7);
  le32(b, 71, catalogLba);
  return b;
}

export function terminator(): Uint8Array {
  return header(255);
}
