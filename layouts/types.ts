import type { z } from 'zod';
import type { DriverSet } from '../src/model/driverset.js';
import type { Plan } from '../src/emit/plan.js';

export type { Derived, DerivedFrom, Medium, Plan } from '../src/emit/plan.js';

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
  /** The file name (no folder) that target writes its output under: its `out:`, else its default. */
  innerOutName(kind: string): string;
  /** The options of that same target (parsed, defaults filled in), for layouts that name what it holds. */
  innerOptions(kind: string): unknown;
}

/**
 * One target medium: a zod schema for its manifest options and a pure planning function
 * (no I/O, no byte formats inline: generated files are `Generated` tree entries).
 */
export interface Layout<S extends z.ZodType = z.ZodType, P = unknown> {
  readonly kind: string;
  readonly options: S;
  /**
   * The medium takes its files from its own options (ESXi VIBs carry vmkernel modules, not Linux
   * ones): a manifest whose targets all say so needs no `sources:`.
   */
  readonly withoutSources?: boolean;
  /** Output name when the manifest gives none; `innerOptions` as in `LayoutEnv`. */
  defaultOut(set: DriverSet, options: z.output<S>, innerOptions: (kind: string) => unknown): string;
  /**
   * The reading a plan needs beyond the driver set (the installer ISO an `attach` target extends,
   * a signing key, digests of the inputs the medium names itself by): run before `plan`, which
   * gets its result, so that `plan` and the generators it makes read nothing the build did not
   * name. Runs too when the medium is nested with `of:`.
   */
  prepare?(options: z.output<S>, env: PrepareEnv, set: DriverSet): Promise<P>;
  /**
   * Files the options name (option key → path as given, relative to the manifest's folder):
   * checked to exist before anything is built, so a typo is reported at its key.
   */
  inputs?(options: z.output<S>): Record<string, string | undefined>;
  plan(set: DriverSet, options: z.output<S>, env: LayoutEnv, prepared: P): Plan;
}

/** Helper that keeps the option type tied to the schema. */
export function defineLayout<S extends z.ZodType, P = unknown>(layout: Layout<S, P>): Layout<S, P> {
  return layout;
}
