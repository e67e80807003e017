/**
 * The streamer: emits a planned image front to back, encoding each structure from the plan as its
 * turn comes and copying file data from the sources. Nothing is written out of order, so the sink
 * may be a pipe; memory holds at most one directory extent besides the sources' own chunks.
 */
import { UserError } from '../../errors.js';
import { bootRecord, jolietDescriptor, primaryDescriptor, terminator } from './descriptors.js';
import { bootCatalog, patchBootInfo } from './eltorito.js';
import { gptBackup, PARTITION_OFFSET, systemArea } from './hybrid.js';
import { encodePathTable } from './pathtable.js';
import { SECTION_BYTES, type DirExtent, type IsoPlan, type PlanDir, type PlannedRecord, type SystemUsePart } from './plan.js';
import { BLOCK, blocks } from './numbers.js';
import { FLAG_DIRECTORY, FLAG_MULTI_EXTENT, writeRecord, type DirectoryRecord } from './records.js';
import { ce } from './susp.js';
import { readSource, type Source } from '../../tree/source.js';

export interface Sink {
  /** Called with consecutive parts of the image; the chunk may be reused once the promise settles. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Optional fast path: append a source's bytes by other means (pooled reads of a file on disk).
   * Returns the byte count, or undefined to have the streamer iterate `source.open()`.
   */
  copy?(source: Source): Promise<number | undefined>;
}

const ZEROS = new Uint8Array(1 << 20);

class Writer {
  position = 0;
  constructor(readonly sink: Sink) {}
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    this.position += chunk.length;
    await this.sink.write(chunk);
  }
  async zeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, ZEROS.length);
      this.position += k;
      await this.sink.write(ZEROS.subarray(0, k));
      n -= k;
    }
  }
  /** Pad with zeros to the given block; also a check that the plan and the stream agree. */
  async padTo(lba: number): Promise<void> {
    const target = lba * BLOCK;
    if (this.position > target) throw new Error(`ISO stream overran block ${lba} (at byte ${this.position})`);
    await this.zeros(target - this.position);
  }
}

/**
 * How a copy of the metadata addresses blocks: the first copy as planned; the second one of a
 * partition-offset image `meta` blocks further on, every address counted from block `base`.
 */
interface View {
  readonly meta: number;
  readonly base: number;
}
const FIRST: View = { meta: 0, base: 0 };

/** A record's system-use entries as bytes; most have no continuation reference, and are their own. */
function encodeSystemUse(plan: IsoPlan, parts: readonly SystemUsePart[], v: View): readonly Uint8Array[] {
  if (parts.every((p) => p instanceof Uint8Array)) return parts as readonly Uint8Array[];
  return parts.map((p) => (p instanceof Uint8Array ? p : ce(plan.lba.continuation + v.meta - v.base + p.block, p.offset, p.length)));
}

/** What one record says: where its extent is, how long, which flags, under its identifier. */
function describe(plan: IsoPlan, r: PlannedRecord, tree: 'ecma' | 'joliet', v: View): DirectoryRecord {
  const n = r.node;
  const systemUse = encodeSystemUse(plan, r.systemUse, v);
  const record = (lba: number, length: number, flags: number): DirectoryRecord => ({ lba, length, flags, id: r.id, epoch: plan.epoch, systemUse });
  if (r.placeholder) return record(plan.lba.empty! - v.base, 0, 0);
  if (n.kind === 'dir') return record(n[tree].lba + v.meta - v.base, n[tree].size, FLAG_DIRECTORY);
  if (r.section === undefined) return record(n.lba - v.base, n.size, 0);
  // multi-extent: contiguous sections, all but the last flagged
  const start = r.section * SECTION_BYTES;
  const last = start + SECTION_BYTES >= n.size;
  return record(n.lba - v.base + start / BLOCK, last ? n.size - start : SECTION_BYTES, last ? 0 : FLAG_MULTI_EXTENT);
}

function encodeDirectory(plan: IsoPlan, d: PlanDir, tree: 'ecma' | 'joliet', v: View): Uint8Array {
  const ext: DirExtent = d[tree];
  const buf = new Uint8Array(ext.size);
  for (const r of ext.records) writeRecord(buf, r.offset, describe(plan, r, tree, v));
  return buf;
}

function encodeContinuation(plan: IsoPlan, v: View): Uint8Array {
  const buf = new Uint8Array(plan.continuationBlocks * BLOCK);
  for (const a of plan.continuationAreas) {
    let p = a.block * BLOCK + a.offset;
    for (const e of encodeSystemUse(plan, a.parts, v)) {
      buf.set(e, p);
      p += e.length;
    }
  }
  return buf;
}

function pathTable(dirs: readonly PlanDir[], tree: 'ecma' | 'joliet', bigEndian: boolean, v: View): Uint8Array {
  return encodePathTable(
    dirs.map((d) => ({ id: tree === 'ecma' ? d.ecmaId : d.jolietId, lba: d[tree].lba + v.meta - v.base, parent: (tree === 'ecma' ? d.ecmaParent : d.parent)[tree].number })),
    bigEndian,
  );
}

/** The descriptors' view of one metadata copy: root directories and path tables. */
function trees(plan: IsoPlan, v: View) {
  const { lba } = plan;
  const at = (n: number) => n + v.meta - v.base;
  return {
    ecma: { rootLba: at(plan.root.ecma.lba), rootSize: plan.root.ecma.size, pathTableSize: plan.pathTableSize, lPathLba: at(lba.lPath), mPathLba: at(lba.mPath) },
    joliet: lba.jlPath === undefined ? undefined : { rootLba: at(plan.root.joliet.lba), rootSize: plan.root.joliet.size, pathTableSize: plan.jolietPathTableSize, lPathLba: at(lba.jlPath), mPathLba: at(lba.jmPath!) },
  };
}

/** Path tables, directories, continuation area and Joliet directories of one metadata copy. */
async function writeMetadata(w: Writer, plan: IsoPlan, v: View): Promise<void> {
  const { lba } = plan;
  await w.padTo(lba.lPath + v.meta);
  await w.write(pathTable(plan.dirs, 'ecma', false, v));
  await w.padTo(lba.mPath + v.meta);
  await w.write(pathTable(plan.dirs, 'ecma', true, v));
  if (lba.jlPath !== undefined) {
    await w.padTo(lba.jlPath + v.meta);
    await w.write(pathTable(plan.jolietDirs, 'joliet', false, v));
    await w.padTo(lba.jmPath! + v.meta);
    await w.write(pathTable(plan.jolietDirs, 'joliet', true, v));
  }
  for (const d of plan.dirs) {
    await w.padTo(d.ecma.lba + v.meta);
    await w.write(encodeDirectory(plan, d, 'ecma', v));
  }
  await w.padTo(lba.continuation + v.meta);
  await w.write(encodeContinuation(plan, v));
  for (const d of plan.jolietDirs) {
    await w.padTo(d.joliet.lba + v.meta);
    await w.write(encodeDirectory(plan, d, 'joliet', v));
  }
}

/** Copy a source's bytes, checking it has the planned size. */
async function copySource(w: Writer, source: Source, size: number): Promise<void> {
  const copied = await w.sink.copy?.(source);
  if (copied !== undefined) {
    if (copied !== size) throw new UserError(`changed size while being read (planned ${size} bytes, got ${copied})`, source.origin);
    w.position += copied;
    return;
  }
  const start = w.position;
  for await (const chunk of source.open()) {
    if (w.position - start + chunk.length > size) throw new UserError(`grew while being read (planned ${size} bytes)`, source.origin);
    await w.write(chunk);
  }
  if (w.position - start !== size) throw new UserError(`shrank while being read (planned ${size} bytes, got ${w.position - start})`, source.origin);
}

/** Write the whole image described by `plan` to `sink`, reading file data from the sources. */
export async function streamIso(plan: IsoPlan, sink: Sink): Promise<void> {
  const w = new Writer(sink);
  const { lba } = plan;
  if (plan.hybrid) await w.write(systemArea(plan.hybrid));
  await w.padTo(16);
  const first = trees(plan, FIRST);
  await w.write(primaryDescriptor(plan.ids, first.ecma, plan.volumeBlocks, plan.epoch));
  if (lba.bootRecord !== undefined) await w.write(bootRecord(lba.catalog!));
  if (lba.svd !== undefined) await w.write(jolietDescriptor(plan.ids, first.joliet!, plan.volumeBlocks, plan.epoch));
  await w.write(terminator());
  if (lba.catalog !== undefined) await w.write(bootCatalog(plan.boot));
  const part = plan.partition;
  const second: View | undefined = part ? { meta: part.metaShift, base: PARTITION_OFFSET } : undefined;
  if (part && second) {
    // partition 1's own superblock set: the same volume seen from block 16, without El Torito
    const t = trees(plan, second);
    await w.padTo(part.pvd);
    await w.write(primaryDescriptor(plan.ids, t.ecma, part.volumeBlocks, plan.epoch));
    if (part.svd !== undefined) await w.write(jolietDescriptor(plan.ids, t.joliet!, part.volumeBlocks, plan.epoch));
    await w.write(terminator());
  }
  await writeMetadata(w, plan, FIRST);
  if (second) await writeMetadata(w, plan, second);
  await w.padTo(lba.data);
  for (const f of plan.files) {
    // files follow one another: the padding before one is only checked (an await per call adds up over thousands)
    if (w.position !== f.lba * BLOCK) await w.padTo(f.lba);
    // a BIOS image is small (≤ 1 MiB, checked by the planner): patched whole
    if (f.bootInfo) await w.write(patchBootInfo(await readSource(f.source), f.lba, f.bootInfo.grub2));
    else await copySource(w, f.source, f.size);
    await w.padTo(f.lba + blocks(f.size));
  }
  if (plan.appended) {
    await w.padTo(plan.appended.lba);
    await copySource(w, plan.appended.source, plan.appended.source.size);
    await w.padTo(plan.appended.lba + blocks(plan.appended.source.size));
  }
  const end = plan.imageBlocks * BLOCK;
  if (plan.hybrid?.gpt) {
    const backup = gptBackup(plan.hybrid);
    await w.zeros(end - backup.length - w.position);
    await w.write(backup);
  }
  await w.padTo(plan.imageBlocks);
}
