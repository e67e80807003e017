import type { Context } from '../context.js';
import { asUserError } from '../errors.js';
import { planFat, writeFatImage, type FatPlan } from '../formats/fat/index.js';
import type { ResolvedEntry } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import type { Emitted } from './index.js';
import { emitOutput } from './output.js';
import { drain } from './pipeline.js';

export interface UsbImageOptions {
  /** FAT volume label; the installer looks for OEMDRV. */
  label?: string;
  /** Digests of the image, taken as the bytes pass. */
  digests?: readonly DigestName[];
}

/**
 * Write a resolved tree as a USB stick image: an MBR with one FAT32 partition at 1 MiB holding
 * the tree. Planned first, then streamed once into an atomic output file.
 */
export async function emitUsbImage(entries: ResolvedEntry[], out: string, opts: UsbImageOptions, ctx: Context): Promise<Emitted> {
  let plan: FatPlan;
  try {
    plan = planFat(entries, { label: opts.label ?? 'OEMDRV', epoch: ctx.epoch });
  } catch (err) {
    // what FAT cannot hold (a symlink, a name clash, a bad label) is the user's tree: name the medium
    asUserError(err, out);
  }
  return emitOutput(out, { digests: opts.digests ?? [], total: plan.imageSize }, ctx, (sink) => drain(writeFatImage(plan), sink));
}
