import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Derived, Medium, Plan } from './plan.js';
import type { Context } from '../context.js';
import type { BuildRun } from '../tree/artifacts.js';
import { resolveTree } from '../tree/resolve.js';
import type { Scratch } from '../tree/scratch.js';
import type { ResolvedEntry } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import { deriveFrom, digestsFor, type MadeDerived } from './derived.js';

export interface Emitted {
  path: string;
  size?: number;
  md5?: string;
  sha256?: string;
}

/**
 * Write a resolved tree as the given medium at `out` (atomically), taking these digests of its bytes.
 * Each medium's writer loads when first used: a build pays for the media it makes, not for all.
 */
export async function emitMedium(entries: ResolvedEntry[], medium: Medium, out: string, digests: readonly DigestName[], ctx: Context): Promise<Emitted> {
  switch (medium.kind) {
    case 'directory':
      await (await import('./directory.js')).emitDirectory(entries, out, ctx);
      return { path: out };
    case 'iso': {
      const { emitIso } = await import('./iso.js');
      const r = await emitIso(
        entries,
        out,
        {
          volumeId: medium.volumeId,
          joliet: medium.joliet === true ? {} : medium.joliet,
          implantMd5: medium.implantMd5,
          digests,
          ...(medium.application ? { application: medium.application } : {}),
          ...(medium.publisher ? { publisher: medium.publisher } : {}),
          ...(medium.systemId ? { systemId: medium.systemId } : {}),
          ...(medium.preparer ? { preparer: medium.preparer } : {}),
          ...(medium.boot ? { boot: medium.boot } : {}),
          ...(medium.hybrid ? { hybrid: medium.hybrid } : {}),
          ...(medium.level3 ? { level3: true } : {}),
          ...(medium.rootMode !== undefined ? { rootMode: medium.rootMode } : {}),
        },
        ctx,
      );
      return { path: out, size: r.size, ...(r.md5 ? { md5: r.md5 } : {}), ...(r.sha256 ? { sha256: r.sha256 } : {}) };
    }
    case 'cpio': {
      const [{ emitCpio }, { gzip }] = await Promise.all([import('./cpio.js'), import('./pipeline.js')]);
      return emitCpio(entries, out, medium.compression === 'gzip' ? [gzip(9)] : [], digests, ctx);
    }
    case 'fat':
      return (await import('./usb.js')).emitUsbImage(entries, out, { label: medium.label, digests }, ctx);
    case 'zip':
      return (await import('./zip.js')).emitZip(entries, out, digests, ctx, medium);
    case 'file': {
      const file = entries.find((e) => e.path === medium.path);
      if (file?.type !== 'file') throw new Error(`the plan's output ${medium.path} is not a file of its tree`);
      const [{ emitOutput }, { drain }] = await Promise.all([import('./output.js'), import('./pipeline.js')]);
      return emitOutput(out, { digests, total: file.content.size }, ctx, (sink) => drain(file.content.open(), sink));
    }
    case 'ar':
      return (await import('./ar.js')).emitAr(entries, medium.members, out, digests, ctx);
  }
}

export interface EmittedPlan extends Emitted {
  /** The medium's tree as written. */
  entries: ResolvedEntry[];
  /** The derived files asked for, made but not written. */
  derived: MadeDerived[];
}

/**
 * The one write sequence of a plan, for a target and a nested medium alike: resolve the tree,
 * make the derived files that need no digest, write the medium at `out` taking the digests the
 * others need, then make those. `name` is the medium's file name the derived files are named
 * after (a nested medium's name in the outer tree, not its scratch path); `digests`: more to take.
 */
export async function emitPlan(plan: Plan, derived: readonly Derived[], out: string, name: string, ctx: Context, scratch: Scratch, run: BuildRun, digests: readonly DigestName[] = []): Promise<EmittedPlan> {
  const entries = await resolveTree(plan.tree, scratch, run);
  const finish = await deriveFrom(derived, name, entries);
  await mkdir(dirname(out), { recursive: true });
  const emitted = await emitMedium(entries, plan.medium, out, [...new Set([...digestsFor(derived), ...digests])], ctx);
  return { ...emitted, entries, derived: await finish(emitted) };
}
