import type { z } from 'zod';
import type { JolietPolicy } from '../src/formats/iso9660/names.js';
import type { BootOptions, HybridOptions } from '../src/formats/iso9660/plan.js';
import type { DriverSet } from '../src/model/driverset.js';
import type { Generated, Tree } from '../src/tree/tree.js';

/** How a layout's tree becomes bytes on disk; the emitter is chosen from this. */
export type Medium =
  | { kind: 'directory' }
  | {
      kind: 'iso';
      volumeId: string;
      /** true: 64-character Joliet names, refusing longer ones. */
      joliet: boolean | JolietPolicy;
      implantMd5: boolean;
      application?: string;
      publisher?: string;
      systemId?: string;
      preparer?: string;
      /** El Torito entries and the isohybrid system area (bootable media: an attached installer ISO). */
      boot?: BootOptions;
      hybrid?: HybridOptions;
      /** ISO level 3: files of 4 GiB and more as multi-extent sections. */
      level3?: boolean;
      /** Permission bits of the root folder (default 0755; XenServer packs: 0555). */
      rootMode?: number;
    }
  | { kind: 'fat'; label: string }
  | { kind: 'cpio'; compression: 'none' | 'gzip' }
  /** Deflated entries at fixed times, in tree order (release archives). */
  | { kind: 'zip' };

/**
 * A small file written beside the output once the output is complete (XenServer's
 * `<name>.metadata.md5`): generated from entries of the tree (`deps` are tree paths).
 */
export interface Sidecar {
  /** File name in the output's folder (no `/`). */
  name: string;
  content: Generated;
}

export interface Plan {
  tree: Tree;
  medium: Medium;
  /** Sidecar checksum files to write beside the output. */
  checksums: ('md5' | 'sha256')[];
  /** Other files beside the output, written after it. */
  sidecars?: Sidecar[];
  /** What the user should know or do next (kernel arguments, bootloader lines). */
  notes: string[];
}

/** What a layout's `prepare` step gets: where relative option paths resolve, and the warning sink. */
export interface PrepareEnv {
  epoch: number;
  warn(message: string): void;
  /** The manifest's folder: relative paths in target options resolve against it. */
  baseDir: string;
}

export interface LayoutEnv extends PrepareEnv {
  /** The output path's file name, for layouts whose content names it. */
  outName: string;
  /**
   * The plan of another medium of the same driver set, the kind named by this layout's `of`
   * option (`of: rhdd3`), with the options of that target in the manifest when it has one, else
   * its defaults. Its `prepare` step has run already.
   */
  inner(kind: string): Plan;
}

/**
 * One target medium: a zod schema for its manifest options and a pure planning function
 * (no I/O, no byte formats inline: generated files are `Generated` tree entries).
 */
export interface Layout<S extends z.ZodType = z.ZodType, P = unknown> {
  readonly kind: string;
  readonly options: S;
  /** Output name when the manifest gives none. */
  defaultOut(set: DriverSet, options: z.output<S>): string;
  /**
   * The reading a plan needs beyond the driver set (the installer ISO an `attach` target extends,
   * a signing key): run before `plan`, which gets its result, so that `plan` and the generators
   * it makes read nothing the build did not name. Runs too when the medium is nested with `of:`.
   */
  prepare?(options: z.output<S>, env: PrepareEnv): Promise<P>;
  plan(set: DriverSet, options: z.output<S>, env: LayoutEnv, prepared: P): Plan;
}

/** Helper that keeps the option type tied to the schema. */
export function defineLayout<S extends z.ZodType, P = unknown>(layout: Layout<S, P>): Layout<S, P> {
  return layout;
}
