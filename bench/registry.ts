/**
 * The benchmark framework: a case produces rows (one per tool run), each with wall time and peak
 * RSS measured from outside the process (`/usr/bin/time -f '%e %M'`), so every tool pays its own
 * start-up and every process its own memory. `run.ts` lists the cases and prints the table.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchRow {
  /** What was built ("ISO, 1 GiB: 4 large + 6500 small files"). */
  readonly case: string;
  /** Who built it ("dudkit iso", "xorriso -as mkisofs -R -J", "cat (floor)"). */
  readonly tool: string;
  readonly seconds: number;
  readonly maxRssKiB: number | null;
  /** Tools this row is compared with, by their `tool` names (ratios printed as columns). */
  readonly compareWith?: readonly string[];
  /** Issue 18's goals: the highest ratio allowed against some of `compareWith`, printed beside it. */
  readonly goals?: Readonly<Record<string, number>>;
  /** Issue 18's goal for this row's peak RSS (MiB). */
  readonly rssGoalMiB?: number;
}

export interface BenchCase {
  readonly name: string;
  run(): Promise<BenchRow[]>;
}

export interface Measured {
  seconds: number;
  maxRssKiB: number;
}

/** Run a shell command under GNU time; the best (lowest time) of `repeat` runs. */
export function measure(command: string, opts: { repeat?: number; before?: () => void; env?: NodeJS.ProcessEnv } = {}): Measured {
  const dir = mkdtempSync(join(tmpdir(), 'dudkit-bench-time-'));
  try {
    let best: Measured | undefined;
    for (let i = 0; i < (opts.repeat ?? repeats()); i++) {
      opts.before?.();
      // flush earlier runs' dirty pages so they do not slow this one down
      spawnSync('sync');
      const out = join(dir, 'time');
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, 'sh', '-c', command], { encoding: 'utf8', env: opts.env ?? process.env });
      if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${command}\n${r.stderr}`);
      const [seconds, rss] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      const m = { seconds: seconds!, maxRssKiB: rss! };
      if (!best || m.seconds < best.seconds) best = m;
    }
    return best!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** "100M" or "1G" in bytes (the size knobs of the cases). */
export function parseSize(s: string): number {
  const m = /^(\d+)([MG])$/.exec(s.trim());
  if (!m) throw new Error(`bad size ${s} (use e.g. 100M or 1G)`);
  return Number(m[1]) * (m[2] === 'G' ? 1 << 30 : 1 << 20);
}

export function repeats(): number {
  return Number(process.env.DUDKIT_BENCH_REPEAT ?? '3');
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Quote a path for `sh -c`. */
export function sh(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** " (goal ≤ 1.1×: met)" or " (goal ≤ 1.1×: MISSED)". */
function goalText(value: number, goal: number | undefined, unit: string): string {
  return goal === undefined ? '' : ` (goal ≤ ${goal}${unit}: ${value <= goal ? 'met' : 'MISSED'})`;
}

/** Print rows as a table with the requested ratio columns, each goal beside its ratio. */
export function printTable(rows: readonly BenchRow[]): void {
  const byKey = new Map(rows.map((r) => [`${r.case}\0${r.tool}`, r]));
  const lines: string[][] = [['case', 'tool', 'seconds', 'peak RSS MiB', 'ratios']];
  for (const r of rows) {
    const ratios = (r.compareWith ?? [])
      .map((other) => {
        const o = byKey.get(`${r.case}\0${other}`);
        if (!o) return undefined;
        const ratio = r.seconds / o.seconds;
        return `${ratio.toFixed(2)}× ${other}${goalText(Number(ratio.toFixed(2)), r.goals?.[other], '×')}`;
      })
      .filter(Boolean)
      .join(', ');
    const rss = r.maxRssKiB === null ? '-' : (r.maxRssKiB / 1024).toFixed(1);
    lines.push([r.case, r.tool, r.seconds.toFixed(2), rss, ratios + (r.maxRssKiB === null ? '' : goalText(Number(rss), r.rssGoalMiB, ' MiB RSS'))]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) process.stdout.write(`${l.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
}
