import type { Command } from 'commander';
import { createContext, type Context } from '../context.js';
import { IncompleteBuild, UserError } from '../errors.js';
import type { Progress } from '../progress.js';

/** Raised by `verify` when the medium fails a consumer check: exit code 1. */
export class VerificationFailed extends Error {
  readonly exitCode = 1;
}

/** Options every command shares. */
export interface GlobalOpts {
  json?: boolean;
  progress?: boolean;
}

/** Progress on stderr: only on a TTY or when asked, never mixed into --json stdout. */
export function stderrProgress(force: boolean): Progress | undefined {
  if (!force && !process.stderr.isTTY) return undefined;
  let label = '';
  let total = 0;
  let done = 0;
  let lastShown = 0;
  const show = (final = false) => {
    const now = Date.now();
    if (!final && now - lastShown < 200) return;
    lastShown = now;
    const pct = total > 0 ? ` ${Math.min(100, Math.floor((done * 100) / total))}%` : '';
    process.stderr.write(`\r${label}${pct}\x1b[K`);
  };
  return {
    phase(l, t) {
      if (label) process.stderr.write('\n');
      label = l;
      total = t ?? 0;
      done = 0;
      show(true);
    },
    advance(n) {
      done += n;
      show();
    },
    note(m) {
      process.stderr.write(`${label ? '\n' : ''}${m}\n`);
      label = '';
    },
  };
}

export function commandContext(opts: GlobalOpts): Context {
  const progress = stderrProgress(Boolean(opts.progress));
  return createContext({
    ...(progress ? { progress } : {}),
    onWarn: (m) => process.stderr.write(`dudkit: warning: ${m}\n`),
  });
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'exists and is in the way (a file where a folder is needed, or the reverse)',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder, a file is needed',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
};

function isFsError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | undefined;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

/**
 * Wrap a command action: user errors become one line and exit 2, failed checks exit 1. A build
 * that failed after writing some outputs says which on the same line.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (thrown) {
      const err = thrown instanceof IncompleteBuild ? thrown.cause : thrown;
      const written = thrown instanceof IncompleteBuild ? `; already written and complete: ${thrown.written.join(', ')}` : '';
      if (err instanceof UserError) {
        process.stderr.write(`dudkit: ${err.message}${written}\n`);
        process.exitCode = 2;
      } else if (isFsError(err)) {
        // the file system refused (no space, not a folder, permission…): the user's to fix, no trace
        process.stderr.write(`dudkit: ${err.path ? `${err.path}: ` : ''}${FS_ERRORS[err.code!] ?? err.message}${written}\n`);
        process.exitCode = 2;
      } else if (err instanceof VerificationFailed) {
        process.stderr.write(`dudkit: ${err.message}${written}\n`);
        process.exitCode = 1;
      } else {
        throw thrown;
      }
    }
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export type Register = (program: Command) => void;
