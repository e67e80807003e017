import type { z } from 'zod';
import type { DriverSet } from '../src/model/driverset.js';
import type { Tree } from '../src/tree/tree.js';

/** How a layout's tree becomes bytes on disk; the emitter is chosen from this. */
export type Medium =
  | { kind: 'directory' }
  | { kind: 'iso'; volumeId: string; joliet: boolean; implantMd5: boolean; application?: string; publisher?: string }
  | { kind: 'fat'; label: string }
  | { kind: 'cpio'; compression: 'none' | 'gzip' };

export interface Plan {
  tree: Tree;
  medium: Medium;
  /** Sidecar checksum files to write beside the output. */
  checksums: ('md5' | 'sha256')[];
  /** What the user should know or do next (kernel arguments, bootloader lines). */
  notes: string[];
}

export interface LayoutEnv {
  epoch: number;
  warn(message: string): void;
  /** The output path's file name, for layouts whose content names it. */
  outName: string;
  /**
   * The plan of another medium of the same driver set (`of: rhdd3`), with the options of that
   * target in the manifest when it has one, else its defaults.
   */
  inner(kind: string): Plan;
}

/**
 * One target medium: a zod schema for its manifest options and a pure planning function
 * (no I/O, no byte formats inline: generated files are `Generated` tree entries).
 */
export interface Layout<S extends z.ZodType = z.ZodType> {
  readonly kind: string;
  readonly summary: string;
  readonly options: S;
  /** Output name when the manifest gives none. */
  defaultOut(set: DriverSet, options: z.output<S>): string;
  plan(set: DriverSet, options: z.output<S>, env: LayoutEnv): Plan;
}

/** Helper that keeps the option type tied to the schema. */
export function defineLayout<S extends z.ZodType>(layout: Layout<S>): Layout<S> {
  return layout;
}
