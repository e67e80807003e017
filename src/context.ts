import { silentProgress, type Progress } from './progress.js';
import { UserError } from './errors.js';

/** What every build step receives: the fixed clock, progress and warnings. */
export interface Context {
  /** Seconds since the epoch used for every timestamp (SOURCE_DATE_EPOCH, else now). */
  readonly epoch: number;
  readonly progress: Progress;
  /** Warnings are collected for the caller (the CLI prints them to stderr). */
  warn(message: string): void;
  readonly warnings: readonly string[];
}

export function sourceDateEpoch(env: { readonly [name: string]: string | undefined } = process.env): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(raw)) throw new UserError(`SOURCE_DATE_EPOCH must be a whole number of seconds, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function createContext(opts: { epoch?: number; progress?: Progress; onWarn?: (m: string) => void } = {}): Context {
  const warnings: string[] = [];
  return {
    epoch: opts.epoch ?? sourceDateEpoch(),
    progress: opts.progress ?? silentProgress,
    warnings,
    warn(message) {
      warnings.push(message);
      opts.onWarn?.(message);
    },
  };
}
