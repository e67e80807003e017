/**
 * The streamer: emits a planned image front to back, encoding each structure from the plan as its
 * turn comes and copying file data from the sources. Nothing is written out of order, so the sink
 * may be a pipe; memory holds at most one directory extent besides the sources' own chunks.
 */
import { UserError } from '../../errors.js';
import { bootRecord, jolietDescriptor, primaryDescriptor, terminator } from './descriptors.js';
import { bootCatalog, patchBootInfo } from './eltorito.js';
import { gptBackup, systemArea } from './hybrid.js';
import { encodePathTable } from './pathtable.js';
import { SECTION_BYTES, type DirExtent, type IsoPlan, type PlanDir, type PlannedRecord, type SystemUsePart } from './plan.js';
import { BLOCK, blocks } from './numbers.js';
import { FLAG_DIRECTORY, FLAG_MULTI_EXTENT, writeRecord } from './records.js';
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
      await this.write(ZEROS.subarray(0, k));
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

function encodeSystemUse(plan: IsoPlan, parts: readonly SystemUsePart[]): Uint8Array[] {
  return parts.map((p) => (p instanceof Uint8Array ? p : ce(plan.lba.continuation + p.block, p.offset, p.length)));
}

function target(plan: IsoPlan, r: PlannedRecord, tree: 'ecma' | 'joliet'): { lba: number; length: number; flags: number } {
  const n = r.node;
  if (r.placeholder) return { lba: plan.lba.empty!, length: 0, flags: 0 };
  if (n.kind === 'dir') return { lba: n[tree].lba, length: n[tree].size, flags: FLAG_DIRECTORY };
  if (r.section === undefined) return { lba: n.lba, length: n.size, flags: 0 };
  // multi-extent: contiguous sections, all but the last flagged
  const start = r.section * SECTION_BYTES;
  const last = start + SECTION_BYTES >= n.size;
  return { lba: n.lba + start / BLOCK, length: last ? n.size - start : SECTION_BYTES, flags: last ? 0 : FLAG_MULTI_EXTENT };
}

function encodeDirectory(plan: IsoPlan, d: PlanDir, tree: 'ecma' | 'joliet'): Uint8Array {
  const ext: DirExtent = d[tree];
  const buf = new Uint8Array(ext.size);
  for (const r of ext.records) {
    writeRecord(buf, r.offset, { ...target(plan, r, tree), id: r.id, epoch: plan.epoch, systemUse: encodeSystemUse(plan, r.systemUse) });
  }
  return buf;
}

function encodeContinuation(plan: IsoPlan): Uint8Array {
  const buf = new Uint8Array(plan.continuationBlocks * BLOCK);
  for (const a of plan.continuationAreas) {
    let p = a.block * BLOCK + a.offset;
    for (const e of encodeSystemUse(plan, a.parts)) {
      buf.set(e, p);
      p += e.length;
    }
  }
  return buf;
}

function pathTable(dirs: readonly PlanDir[], tree: 'ecma' | 'joliet', bigEndian: boolean): Uint8Array {
  return encodePathTable(
    dirs.map((d) => ({ id: tree === 'ecma' ? d.ecmaId : d.jolietId, lba: d[tree].lba, parent: (tree === 'ecma' ? d.ecmaParent : d.parent)[tree].number })),
    bigEndian,
  );
}

/** Write the whole image described by `plan` to `sink`, reading file data from the sources. */
export async function streamIso(plan: IsoPlan, sink: Sink): Promise<void> {
  const w = new Writer(sink);
  const { lba } = plan;
  if (plan.hybrid) await w.write(systemArea(plan.hybrid));
  await w.padTo(16);
  const ecmaTree = { rootLba: plan.root.ecma.lba, rootSize: plan.root.ecma.size, pathTableSize: plan.pathTableSize, lPathLba: lba.lPath, mPathLba: lba.mPath };
  await w.write(primaryDescriptor(plan.ids, ecmaTree, plan.volumeBlocks, plan.epoch));
  if (lba.bootRecord !== undefined) await w.write(bootRecord(lba.catalog!));
  if (lba.svd !== undefined) {
    const jTree = { rootLba: plan.root.joliet.lba, rootSize: plan.root.joliet.size, pathTableSize: plan.jolietPathTableSize, lPathLba: lba.jlPath!, mPathLba: lba.jmPath! };
    await w.write(jolietDescriptor(plan.ids, jTree, plan.volumeBlocks, plan.epoch));
  }
  await w.write(terminator());
  if (lba.catalog !== undefined) await w.write(bootCatalog(plan.boot));
  await w.padTo(lba.lPath);
  await w.write(pathTable(plan.dirs, 'ecma', false));
  await w.padTo(lba.mPath);
  await w.write(pathTable(plan.dirs, 'ecma', true));
  if (lba.jlPath !== undefined) {
    await w.padTo(lba.jlPath);
    await w.write(pathTable(plan.jolietDirs, 'joliet', false));
    await w.padTo(lba.jmPath!);
    await w.write(pathTable(plan.jolietDirs, 'joliet', true));
  }
  for (const d of plan.dirs) {
    await w.padTo(d.ecma.lba);
    await w.write(encodeDirectory(plan, d, 'ecma'));
  }
  await w.padTo(lba.continuation);
  await w.write(encodeContinuation(plan));
  for (const d of plan.jolietDirs) {
    await w.padTo(d.joliet.lba);
    await w.write(encodeDirectory(plan, d, 'joliet'));
  }
  await w.padTo(lba.data);
  for (const f of plan.files) {
    await w.padTo(f.lba);
    if (f.bootInfo) {
      // a BIOS image is small (≤ 1 MiB, checked by the planner): patched whole
      await w.write(patchBootInfo(await readSource(f.source), f.lba, f.bootInfo.grub2));
    } else {
      const copied = await w.sink.copy?.(f.source);
      if (copied !== undefined) {
        if (copied !== f.size) throw new UserError(`changed size while being read (planned ${f.size} bytes, got ${copied})`, f.source.origin);
        w.position += copied;
        await w.padTo(f.lba + blocks(f.size));
        continue;
      }
      const start = w.position;
      for await (const chunk of f.source.open()) {
        if (w.position - start + chunk.length > f.size) throw new UserError(`grew while being read (planned ${f.size} bytes)`, f.source.origin);
        await w.write(chunk);
      }
      if (w.position - start !== f.size) throw new UserError(`shrank while being read (planned ${f.size} bytes, got ${w.position - start})`, f.source.origin);
    }
    await w.padTo(f.lba + blocks(f.size));
  }
  const end = plan.imageBlocks * BLOCK;
  if (plan.hybrid?.gpt) {
    const backup = gptBackup(plan.hybrid);
    await w.zeros(end - backup.length - w.position);
    await w.write(backup);
  }
  await w.padTo(plan.imageBlocks);
}
