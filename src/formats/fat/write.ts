import { UserError } from '../../errors.js';
import { encodeBootSector, encodeDirectory, encodeFsInfo, encodeMbr } from './records.js';
import { PARTITION_START, SECTOR, type FatPlan } from './plan.js';

const ZEROS = new Uint8Array(1 << 20);
const FAT_CHUNK_ENTRIES = 16384;
const EOC = 0x0fffffff;

/** `n` zero bytes as views of one shared buffer (consumers must not modify chunks). */
function* zeros(n: number): Generator<Uint8Array> {
  for (let left = n; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
}

/**
 * Stream the planned disk image front to back, exactly `plan.imageSize` bytes: MBR, gap to 1 MiB,
 * reserved sectors (boot sector, FSInfo, their backups at 6 and 7), both FATs, then the data
 * region in cluster order, reading each file once from its Source.
 */
export async function* writeFatImage(plan: FatPlan): AsyncGenerator<Uint8Array> {
  yield encodeMbr(plan);
  yield* zeros((PARTITION_START - 1) * SECTOR);

  const boot = encodeBootSector(plan);
  const fsinfo = encodeFsInfo(plan);
  const reserved = new Uint8Array(plan.reservedSectors * SECTOR);
  reserved.set(boot, 0);
  reserved.set(fsinfo, SECTOR);
  reserved.set(boot, 6 * SECTOR);
  reserved.set(fsinfo, 7 * SECTOR);
  yield reserved;

  for (let copy = 0; copy < 2; copy++) yield* fatTable(plan);

  const clusterBytes = plan.sectorsPerCluster * SECTOR;
  for (const item of plan.items) {
    const bytes = item.clusters * clusterBytes;
    if (item.kind === 'dir') {
      yield encodeDirectory(item, plan);
      continue;
    }
    let seen = 0;
    for await (const chunk of item.source.open()) {
      seen += chunk.length;
      if (seen > item.source.size) throw new UserError(`longer than its planned ${item.source.size} bytes (changed while being read?)`, item.source.origin);
      yield chunk;
    }
    if (seen !== item.source.size) throw new UserError(`shorter (${seen} bytes) than its planned ${item.source.size} bytes (changed while being read?)`, item.source.origin);
    yield* zeros(bytes - seen);
  }
  const dataStart = PARTITION_START + plan.reservedSectors + 2 * plan.fatSectors;
  const written = dataStart * SECTOR + plan.usedClusters * clusterBytes;
  yield* zeros(plan.imageSize - written);
}

/** One FAT: media and clean-shutdown entries, each item's cluster chain, then free (0) entries. */
function* fatTable(plan: FatPlan): Generator<Uint8Array> {
  const chainEnds = new Set<number>();
  for (const item of plan.items) if (item.clusters > 0) chainEnds.add(item.firstCluster + item.clusters - 1);
  const used = 2 + plan.usedClusters;
  const total = (plan.fatSectors * SECTOR) / 4;
  for (let start = 0; start < total; start += FAT_CHUNK_ENTRIES) {
    const count = Math.min(FAT_CHUNK_ENTRIES, total - start);
    if (start >= used) {
      yield* zeros(count * 4);
      continue;
    }
    const chunk = Buffer.alloc(count * 4);
    for (let i = 0; i < count; i++) {
      const c = start + i;
      let v = 0;
      if (c === 0) v = 0x0ffffff8;
      else if (c === 1) v = EOC;
      else if (c < used) v = chainEnds.has(c) ? EOC : c + 1;
      chunk.writeUInt32LE(v, i * 4);
    }
    yield chunk;
  }
}
