import { rmSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

/**
 * Temporary files and folders that exist only while work is under way (an output's hidden temp
 * file, a scratch folder). Normally each is removed or renamed by its owner; if the process is
 * interrupted (Ctrl-C, SIGTERM) the CLI removes whatever is still listed here before exiting.
 * A process killed outright (SIGKILL, power loss) cannot: its names carry its PID, and the next
 * run that writes to the same folder removes those of processes that no longer exist.
 */
const live = new Set<string>();

export function trackTemporary(path: string): void {
  live.add(path);
}

export function untrackTemporary(path: string): void {
  live.delete(path);
}

/** Remove every temporary path still present (synchronous: runs from a signal handler). */
export function removeTemporaries(): void {
  for (const path of live) rmSync(path, { recursive: true, force: true });
  live.clear();
}

let serial = 0;

/** `.NAME.dudkit-PID-TAG.tmp` beside `path`: hidden, unique, and recognisable as dudkit's. */
export function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.dudkit-${process.pid}-${Date.now().toString(36)}${(serial++).toString(36)}.tmp`);
}

/** The prefix of scratch folder names in $TMPDIR (`mkdtemp` adds six characters). */
export const scratchPrefix = (): string => join(tmpdir(), `dudkit-${process.pid}-`);

/** The names above, with the PID of the process that made them. */
const BESIDE_OUTPUT = /^\..+\.dudkit-(\d+)-[0-9a-z]+\.tmp$/s;
const SCRATCH = /^dudkit-(\d+)-[A-Za-z0-9]{6}$/;

/** Whether process `pid` is gone: only ESRCH says so (EPERM is another user's live process). */
function gone(pid: number): boolean {
  if (pid <= 1 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const swept = new Set<string>();

/** Remove, once per folder and run, the names of dudkit's `pattern` in `dir` whose PID no longer exists. */
async function sweep(dir: string, pattern: RegExp): Promise<void> {
  if (swept.has(dir)) return;
  swept.add(dir);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid !== undefined && gone(Number(pid))) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Temp files and folders a dead dudkit process left beside its outputs in `dir`. */
export const removeStaleTemporaries = (dir: string): Promise<void> => sweep(dir, BESIDE_OUTPUT);

/** Scratch folders of dead dudkit processes in $TMPDIR. */
export const removeStaleScratch = (): Promise<void> => sweep(tmpdir(), SCRATCH);
