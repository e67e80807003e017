/**
 * Errors a user can cause (bad input, bad usage) carry exit code 2 and a one-line message naming
 * the file and the problem; the CLI prints the message, never a stack trace.
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string, readonly file?: string, options?: ErrorOptions) {
    super(file ? `${file}: ${message}` : message, options);
    this.name = 'UserError';
  }
}

/** Thrown by a reader that finds a malformed input; the caller adds the file name. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/** Re-throw anything a format reader raised on user input as a UserError naming the file. */
export function asUserError(err: unknown, file: string): never {
  if (err instanceof UserError) throw err;
  if (err instanceof FormatError || err instanceof RangeError) throw new UserError(err.message, file, { cause: err });
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') throw new UserError('no such file or directory', file);
  if (code === 'EACCES') throw new UserError('permission denied', file);
  if (code === 'EISDIR') throw new UserError('is a directory, expected a file', file);
  if (code === 'ENOTDIR') throw new UserError('not a directory', file);
  throw err;
}

/**
 * A build that failed after some targets were written. Outputs already written stay, complete
 * (each appeared atomically); `written` lists them, and the CLI's one line says so.
 */
export class IncompleteBuild extends Error {
  constructor(
    override readonly cause: unknown,
    readonly written: string[],
  ) {
    super(`${cause instanceof Error ? cause.message : String(cause)}; already written and complete: ${written.join(', ')}`);
    this.name = 'IncompleteBuild';
  }
}

/**
 * Run one step the manifest key `key` asks for; a user error from it (or a reader's error about
 * `file`) is re-raised naming the manifest and the key first: `m.yaml: sources[2].ko: x.ko: …`.
 * Errors already about the manifest pass as they are.
 */
export async function atKey<T>(manifest: string, key: string, step: () => Promise<T> | T, file?: string): Promise<T> {
  try {
    return await step();
  } catch (err) {
    let e = err;
    if (file !== undefined) {
      try {
        asUserError(err, file);
      } catch (converted) {
        e = converted;
      }
    }
    if (!(e instanceof UserError) || e.file === manifest) throw e;
    throw new UserError(`${key}: ${e.file || file === undefined ? e.message : `${file}: ${e.message}`}`, manifest);
  }
}
