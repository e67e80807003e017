/**
 * The benchmark framework: a case produces rows (one per tool run), each with wall time and peak
 * RSS measured from outside the process (`/usr/bin/time -f '%e %M'`), so every tool pays its own
 * start-up and every process its own memory; a case's commands take turns (`measureRows`), and a
 * ratio is the median of the rounds' ratios (`paired`). `run.ts` lists the cases and prints the table.
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
  /** The best round's time. */
  readonly seconds: number;
  /** Every round's time, in order: ratios pair the rounds (`paired`). */
  readonly rounds: readonly number[];
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

interface Measured {
  seconds: number;
  maxRssKiB: number;
}

/** One tool's command in a case, with what runs untimed before each run of it. */
export interface Run {
  readonly tool: string;
  readonly command: string;
  readonly before?: () => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly compareWith?: readonly string[];
  readonly goals?: Readonly<Record<string, number>>;
  readonly rssGoalMiB?: number;
}

/**
 * The rows of one case: its commands run in DUDKIT_BENCH_REPEAT rounds, each round running every
 * command once in turn, so that a slow stretch of a shared disk falls on all the tools compared
 * rather than on all the runs of one of them; each row has its command's best round and every round.
 */
export function measureRows(label: string, runs: readonly Run[], repeat = repeats()): BenchRow[] {
  const dir = mkdtempSync(join(tmpdir(), 'dudkit-bench-time-'));
  try {
    const best: (Measured | undefined)[] = runs.map(() => undefined);
    const rounds: number[][] = runs.map(() => []);
    for (let round = 0; round < repeat; round++) {
      runs.forEach((r, i) => {
        const m = timeOnce(r.command, join(dir, 'time'), r.before, r.env);
        rounds[i]!.push(m.seconds);
        if (!best[i] || m.seconds < best[i].seconds) best[i] = m;
      });
    }
    return runs.map(({ tool, compareWith, goals, rssGoalMiB }, i) => ({
      case: label,
      tool,
      seconds: best[i]!.seconds,
      rounds: rounds[i]!,
      maxRssKiB: best[i]!.maxRssKiB,
      ...(compareWith ? { compareWith } : {}),
      ...(goals ? { goals } : {}),
      ...(rssGoalMiB !== undefined ? { rssGoalMiB } : {}),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `f` of the rows' times in each round, the median over the rounds: rows timed in the same round
 * met the same disk, so this pairs them (a best round of one tool and a best round of another may
 * have met different ones). The rows are one case's, from the same rounds.
 */
export function paired(rows: readonly BenchRow[], f: (times: number[]) => number): number {
  const n = rows[0]!.rounds.length;
  if (rows.some((r) => r.rounds.length !== n)) throw new Error(`bench: rows of different rounds paired (${rows.map((r) => r.tool).join(', ')})`);
  const values = Array.from({ length: n }, (_, i) => f(rows.map((r) => r.rounds[i]!))).sort((a, b) => a - b);
  return n % 2 === 1 ? values[(n - 1) / 2]! : (values[n / 2 - 1]! + values[n / 2]!) / 2;
}

/** How many times as long `a` took as `b`, round by round (`paired`). */
export const ratio = (a: BenchRow, b: BenchRow): number => paired([a, b], ([x, y]) => x! / y!);

/** Read every byte `command` prints into /dev/null once, untimed: the page cache warmed before a case. */
export function warm(command: string): void {
  const r = spawnSync('sh', ['-c', `${command} > /dev/null`], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`benchmark warm-up failed (${r.status}): ${command}`);
}

/** One run of a shell command under GNU time, its timing written to `out`. */
function timeOnce(command: string, out: string, before?: () => void, env?: NodeJS.ProcessEnv): Measured {
  before?.();
  // flush earlier runs' dirty pages so they do not slow this one down
  spawnSync('sync');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, 'sh', '-c', command], { encoding: 'utf8', env: env ?? process.env });
  if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${command}\n${r.stderr}`);
  const [seconds, rss] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: seconds!, maxRssKiB: rss! };
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
        const times = ratio(r, o);
        return `${times.toFixed(2)}× ${other}${goalText(Number(times.toFixed(2)), r.goals?.[other], '×')}`;
      })
      .filter(Boolean)
      .join(', ');
    const rss = r.maxRssKiB === null ? '-' : (r.maxRssKiB / 1024).toFixed(1);
    lines.push([r.case, r.tool, r.seconds.toFixed(2), rss, ratios + (r.maxRssKiB === null ? '' : goalText(Number(rss), r.rssGoalMiB, ' MiB RSS'))]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) process.stdout.write(`${l.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
}
