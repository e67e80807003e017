import { rmSync } from 'node:fs';

/**
 * Temporary files and folders that exist only while work is under way (an output's hidden temp
 * file, a scratch folder). Normally each is removed or renamed by its owner; if the process is
 * interrupted (Ctrl-C, SIGTERM) the CLI removes whatever is still listed here before exiting.
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
