import { createHash } from 'node:crypto';
import type { Source } from '../../tree/source.js';
import type { ResolvedEntry } from '../../tree/tree.js';
import { assignNames, fatNameProblem, type DirName } from './names.js';

export const SECTOR = 512;
/** The partition starts at 1 MiB, as every current partitioning tool aligns it. */
export const PARTITION_START = 2048;
/** Below this many clusters a volume is FAT16 by definition (Microsoft's FAT specification). */
export const MIN_CLUSTERS = 65525;
const MAX_CLUSTERS = 0x0ffffff5;
const MAX_FILE_SIZE = 0xffffffff;
/** A directory holds at most 65536 32-byte entries. */
const MAX_DIR_ENTRIES = 65536;
const BASE_RESERVED = 32;
const FAT_COUNT = 2;

export interface FatOptions {
  /** Volume label, 1–11 characters of A–Z 0–9 space !#$%&'()-@^_`{}~; none if omitted. */
  label?: string;
  /** Seconds since the epoch for every timestamp (SOURCE_DATE_EPOCH). */
  epoch: number;
  /** Volume serial; by default derived from the epoch, the label and the tree listing. */
  volumeId?: number;
}

export interface FatChild {
  name: DirName;
  isDir: boolean;
  firstCluster: number;
  size: number;
}

/** Something that occupies a contiguous run of clusters, in allocation (= image) order. */
export type FatItem =
  | { kind: 'dir'; path: string; firstCluster: number; clusters: number; parentCluster: number; children: FatChild[] }
  | { kind: 'file'; path: string; firstCluster: number; clusters: number; source: Source };

export interface FatPlan {
  label?: string;
  epoch: number;
  volumeId: number;
  diskSignature: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatSectors: number;
  /** Sectors of the FAT32 volume (= the partition). */
  totalSectors: number;
  clusterCount: number;
  usedClusters: number;
  /** Bytes of the whole disk image (MBR, alignment gap, partition). */
  imageSize: number;
  items: FatItem[];
}

/**
 * Place every directory and file: the root directory at cluster 2, then each entry in the given
 * order (resolved trees are sorted, parents first), each in one contiguous run of clusters, so the
 * image can be streamed front to back. The volume is at least MIN_CLUSTERS clusters (padded with
 * free space) and a whole number of MiB; the cluster size follows mkfs.fat's choice for its size.
 */
export function planFat(entries: readonly ResolvedEntry[], opts: FatOptions): FatPlan {
  const label = opts.label === undefined ? undefined : checkLabel(opts.label);
  const tree = buildTree(entries);

  let spc = 1;
  let geometry: Geometry;
  for (;;) {
    geometry = geometryFor(tree, spc);
    const next = mkfsClusterSize(geometry.totalSectors);
    if (next <= spc) break;
    spc = next;
  }

  const clusterBytes = spc * SECTOR;
  const items: FatItem[] = [];
  let next = 2;
  const place = (bytes: number) => {
    const clusters = Math.ceil(bytes / clusterBytes);
    const first = clusters > 0 ? next : 0;
    next += clusters;
    return { first, clusters };
  };
  const dirItems = new Map<string, Extract<FatItem, { kind: 'dir' }>>();
  const childOf = new Map<string, FatChild>();
  for (const node of tree.order) {
    if (node.kind === 'dir') {
      const { first, clusters } = place(Math.max(1, dirEntryCount(node, label !== undefined)) * 32);
      const parent = node.parent === undefined ? undefined : dirItems.get(node.parent)!;
      const item: FatItem = { kind: 'dir', path: node.path, firstCluster: first, clusters, parentCluster: parent && parent.path !== '' ? parent.firstCluster : 0, children: [] };
      dirItems.set(node.path, item);
      items.push(item);
    } else {
      const { first, clusters } = place(node.source.size);
      items.push({ kind: 'file', path: node.path, firstCluster: first, clusters, source: node.source });
    }
    const child = childOf.get(node.path);
    if (child) child.firstCluster = items[items.length - 1]!.firstCluster;
    if (node.kind === 'dir') {
      const names = dirNames(node);
      const item = dirItems.get(node.path)!;
      node.children.forEach((c, i) => {
        const fc: FatChild = { name: names[i]!, isDir: c.kind === 'dir', firstCluster: 0, size: c.kind === 'file' ? c.source.size : 0 };
        item.children.push(fc);
        childOf.set(c.path, fc);
      });
    }
  }

  const h = createHash('sha256').update(`dudkit fat\0${opts.epoch}\0${label ?? ''}\0`);
  for (const e of entries) h.update(`${e.type}\0${e.path}\0${e.type === 'file' ? e.content.size : 0}\0`);
  const digest = h.digest();
  return {
    ...(label !== undefined ? { label } : {}),
    epoch: opts.epoch,
    volumeId: opts.volumeId ?? digest.readUInt32LE(0),
    diskSignature: digest.readUInt32LE(4),
    sectorsPerCluster: spc,
    reservedSectors: geometry.reservedSectors,
    fatSectors: geometry.fatSectors,
    totalSectors: geometry.totalSectors,
    clusterCount: geometry.clusterCount,
    usedClusters: next - 2,
    imageSize: (PARTITION_START + geometry.totalSectors) * SECTOR,
    items,
  };
}

interface DirNode { kind: 'dir'; path: string; name: string; parent?: string; children: Node[]; names?: DirName[] }
interface FileNode { kind: 'file'; path: string; name: string; source: Source }
type Node = DirNode | FileNode;

function buildTree(entries: readonly ResolvedEntry[]): { order: Node[]; dirs: DirNode[]; files: FileNode[] } {
  const root: DirNode = { kind: 'dir', path: '', name: '', children: [] };
  const dirs = new Map<string, DirNode>([['', root]]);
  const order: Node[] = [root];
  const files: FileNode[] = [];
  const seen = new Map<string, Set<string>>();
  const dirFor = (path: string): DirNode => {
    const hit = dirs.get(path);
    if (hit) return hit;
    const cut = path.lastIndexOf('/');
    return add({ kind: 'dir', path, name: path.slice(cut + 1), children: [] }) as DirNode;
  };
  const add = (node: Node): Node => {
    const cut = node.path.lastIndexOf('/');
    const parent = dirFor(cut < 0 ? '' : node.path.slice(0, cut));
    const problem = fatNameProblem(node.name);
    if (problem) throw new RangeError(`${node.path}: name ${problem}`);
    const folded = seen.get(parent.path) ?? new Set<string>();
    seen.set(parent.path, folded);
    if (folded.has(node.name.toUpperCase())) throw new RangeError(`${node.path}: FAT names ignore case, and another entry of ${parent.path || 'the root'} has the same name`);
    folded.add(node.name.toUpperCase());
    if (node.kind === 'dir') {
      node.parent = parent.path;
      dirs.set(node.path, node);
    } else files.push(node);
    parent.children.push(node);
    order.push(node);
    return node;
  };
  for (const e of entries) {
    const name = e.path.slice(e.path.lastIndexOf('/') + 1);
    if (e.type === 'symlink') throw new RangeError(`${e.path}: FAT cannot store symbolic links`);
    if (e.type === 'dir') {
      if (!dirs.has(e.path)) add({ kind: 'dir', path: e.path, name, children: [] });
    } else {
      if (e.content.size > MAX_FILE_SIZE) throw new RangeError(`${e.path} is ${e.content.size} bytes: FAT32 files must be smaller than 4 GiB`);
      add({ kind: 'file', path: e.path, name, source: e.content });
    }
  }
  for (const d of dirs.values()) {
    if (dirEntryCount(d, true) > MAX_DIR_ENTRIES) throw new RangeError(`${d.path || 'the root directory'} has too many entries for FAT`);
  }
  return { order, dirs: [...dirs.values()], files };
}

/** The children's short and long names, assigned once the directory is complete. */
function dirNames(d: DirNode): DirName[] {
  d.names ??= assignNames(d.children.map((c) => c.name));
  return d.names;
}

/** 32-byte entries a directory needs: `.` and `..` (or the label in the root), one short entry per child plus its LFN entries. */
function dirEntryCount(d: DirNode, withLabel: boolean): number {
  const names = dirNames(d);
  let n = d.path === '' ? (withLabel ? 1 : 0) : 2;
  for (const name of names) n += 1 + (name.long === undefined ? 0 : Math.ceil(name.long.length / 13));
  return n;
}

interface Geometry { reservedSectors: number; fatSectors: number; totalSectors: number; clusterCount: number }

function geometryFor(tree: ReturnType<typeof buildTree>, spc: number): Geometry {
  const clusterBytes = spc * SECTOR;
  let needed = 0;
  for (const d of tree.dirs) needed += Math.ceil(Math.max(1, dirEntryCount(d, true)) * 32 / clusterBytes);
  for (const f of tree.files) needed += Math.ceil(f.source.size / clusterBytes);
  const clusters = Math.max(needed, MIN_CLUSTERS);
  // smallest volume with that many clusters, rounded up to whole MiB (the extra space becomes free
  // clusters); the FAT is sized for every cluster the rounded volume could hold, a slight
  // over-estimate that FAT allows
  const fat = fatSectorsFor(clusters);
  let total = Math.ceil((alignedReserved(fat, spc) + FAT_COUNT * fat + clusters * spc) / 2048) * 2048;
  for (;;) {
    const finalFat = fatSectorsFor(Math.floor((total - BASE_RESERVED) / spc));
    const finalReserved = alignedReserved(finalFat, spc);
    const clusterCount = Math.floor((total - finalReserved - FAT_COUNT * finalFat) / spc);
    if (clusterCount > MAX_CLUSTERS) throw new RangeError('tree too large for a FAT32 volume');
    if (clusterCount >= clusters) return { reservedSectors: finalReserved, fatSectors: finalFat, totalSectors: total, clusterCount };
    total += 2048;
  }
}

function fatSectorsFor(clusters: number): number {
  return Math.ceil(((clusters + 2) * 4) / SECTOR);
}

/** Reserved sectors (at least 32) such that the data region starts on a cluster boundary, as mkfs.fat aligns it. */
function alignedReserved(fatSectors: number, spc: number): number {
  const meta = BASE_RESERVED + FAT_COUNT * fatSectors;
  return BASE_RESERVED + ((spc - (meta % spc)) % spc);
}

/** mkfs.fat's FAT32 default (after Microsoft's format): sectors per cluster by volume size. */
function mkfsClusterSize(sectors: number): number {
  const mb = (sectors * SECTOR) / (1024 * 1024);
  return mb > 32 * 1024 ? 64 : mb > 16 * 1024 ? 32 : mb > 8 * 1024 ? 16 : mb > 260 ? 8 : 1;
}

/** Labels as FAT stores them: upper case, short-name characters, at most 11. */
function checkLabel(label: string): string {
  if (!/^[A-Z0-9 !#$%&'()\-@^_`{}~]{1,11}$/.test(label) || label.trim() === '') {
    throw new RangeError(`FAT volume label ${JSON.stringify(label)} must be 1–11 characters of A–Z, 0–9, space and !#$%&'()-@^_\`{}~`);
  }
  return label;
}
