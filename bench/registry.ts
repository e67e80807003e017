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

/** Print rows as a table with the requested ratio columns. */
export function printTable(rows: readonly BenchRow[]): void {
  const byKey = new Map(rows.map((r) => [`${r.case}\0${r.tool}`, r]));
  const lines: string[][] = [['case', 'tool', 'seconds', 'peak RSS MiB', 'ratios']];
  for (const r of rows) {
    const ratios = (r.compareWith ?? [])
      .map((other) => {
        const o = byKey.get(`${r.case}\0${other}`);
        return o ? `${(r.seconds / o.seconds).toFixed(2)}× ${other}` : undefined;
      })
      .filter(Boolean)
      .join(', ');
    lines.push([r.case, r.tool, r.seconds.toFixed(2), r.maxRssKiB === null ? '-' : (r.maxRssKiB / 1024).toFixed(1), ratios]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const l of lines) process.stdout.write(`${l.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()}\n`);
}
