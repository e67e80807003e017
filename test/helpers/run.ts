import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURES = resolve(ROOT, 'fixtures');

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run a real tool; never throws, so tests can assert on the exit code and output. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Ran {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, input: opts.input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The compiled CLI (the test script compiles before vitest runs). */
export function dudkit(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Ran {
  return run(process.execPath, [resolve(ROOT, 'dist/src/cli.js'), ...args], opts);
}

/** rpm's own rpmvercmp through its Lua interpreter: many pairs in one call. */
export function rpmVercmp(pairs: [string, string][]): number[] {
  // rpm's Lua print adds no separator of its own
  const lua = pairs.map(([a, b]) => `print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}) .. ",")`).join(' ');
  const r = run('rpm', ['--eval', `%{lua: ${lua}}`]);
  return r.stdout.trim().replace(/,$/, '').split(',').map(Number);
}
