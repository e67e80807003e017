import { createContext, IncompleteBuild, progressReporter, userErrorOf, type Context, type Reporter } from '../api.js';

/** Raised by `verify` when the medium fails a consumer check: exit code 1. */
export class VerificationFailed extends Error {
  readonly exitCode = 1;
}

/** Options every command shares. */
export interface GlobalOpts {
  json?: boolean;
  progress?: boolean;
}

/** How much a command says: `-q` nothing on success, `-v` every phase and file as it happens. */
export type Verbosity = 'quiet' | 'normal' | 'verbose';
let verbosity: Verbosity = 'normal';

export function setVerbosity(v: Verbosity): void {
  verbosity = v;
}

/** The progress shown by the running command, ended before anything else is printed. */
let shown: Reporter | undefined;

/** Finish the progress line, so what is printed next starts on a line of its own. */
function endProgress(): void {
  shown?.end();
}

/** A command's normal output on stdout (its summary lines); nothing with `--quiet`. */
export function say(text: string): void {
  endProgress();
  if (verbosity !== 'quiet') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A line on stderr that must not tear the progress line (a warning, an error). */
function tell(line: string): void {
  if (shown) shown.print(line);
  else process.stderr.write(line);
}

/** A `--verbose` remark on stderr. */
export function detail(text: string): void {
  if (verbosity === 'verbose') tell(`dudkit: ${text}\n`);
}

/**
 * Progress on stderr, never mixed into --json stdout: a redrawn line on a terminal; plain lines
 * when `--progress` is asked for elsewhere (no carriage returns or escape codes in a log) and
 * with `--verbose`, which prints other lines between them; nothing with `--quiet`.
 */
export function stderrProgress(force: boolean): Reporter | undefined {
  if (verbosity === 'quiet') return undefined;
  const terminal = verbosity === 'normal' && Boolean(process.stderr.isTTY);
  if (!terminal && !force && verbosity !== 'verbose') return undefined;
  return progressReporter({ write: (t) => process.stderr.write(t), terminal, columns: process.stderr.columns });
}

/** The context a command runs with: its progress, and warnings on stderr unless `warnings: false` (verify reports its own). */
export function commandContext(opts: GlobalOpts, { warnings = true }: { warnings?: boolean } = {}): Context {
  shown = stderrProgress(Boolean(opts.progress));
  return createContext({
    ...(shown ? { progress: shown } : {}),
    // warnings are shown with --quiet too, as rpm --quiet shows them: they are not news of success
    ...(warnings ? { onWarn: (m: string) => tell(`dudkit: warning: ${m}\n`) } : {}),
  });
}

let debug = process.env.DUDKIT_DEBUG === '1';

/** `--debug`: an internal error also prints its stack. */
export function enableDebug(): void {
  debug = true;
}

/**
 * The one place an error that ended a command is told to the user; returns the exit code.
 * `file` is the command's input (the medium given to `verify`/`inspect`): what a reader raised
 * without naming a file is about it. Anything that is neither the user's input nor a refused
 * check is dudkit's own fault: one line, exit 70 (EX_SOFTWARE), never 1 ("verification failed").
 */
export function reportError(thrown: unknown, file?: string): number {
  endProgress();
  // a build that failed after writing some outputs says which on the same line
  const err = thrown instanceof IncompleteBuild ? thrown.cause : thrown;
  const written = thrown instanceof IncompleteBuild ? `; already written and complete: ${thrown.written.join(', ')}` : '';
  if (err instanceof VerificationFailed) {
    process.stderr.write(`dudkit: ${err.message}${written}\n`);
    return 1;
  }
  const user = userErrorOf(err, file);
  if (user) {
    process.stderr.write(`dudkit: ${oneLine(user.message)}${written}\n`);
    return 2;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`dudkit: internal error: ${oneLine(`${e.name}: ${e.message}`)} — please report it (run with --debug or DUDKIT_DEBUG=1 for the stack)\n`);
  if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
  return 70;
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ');

/**
 * Wrap a command action so every error ends in one line and its exit code (`reportError`);
 * `input` picks the argument reader errors are about, for commands that read one medium.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>, input?: (...args: A) => string): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.exitCode = reportError(err, input?.(...args));
    } finally {
      endProgress();
    }
  };
}

/**
 * One `--json` document on stdout, in the one vocabulary schema/dudkit-output.schema.json
 * describes: `schemaVersion` first, `path` the file the document is about, `kind` its medium or
 * format kind, checksums under `checksums`.
 */
export function printJson<T extends { path: string; kind: string }>(doc: T): void {
  endProgress();
  process.stdout.write(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...doc }, null, 2)}\n`);
}

/** Version of the --json vocabulary; raised only when a field changes meaning or goes away. */
const SCHEMA_VERSION = 1;

/** `{ md5, sha256 }` of whichever were computed. */
export function checksums(r: { md5?: string | undefined; sha256?: string | undefined }): { md5?: string; sha256?: string } {
  return { ...(r.md5 ? { md5: r.md5 } : {}), ...(r.sha256 ? { sha256: r.sha256 } : {}) };
}
