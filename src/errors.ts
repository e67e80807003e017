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

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'exists and is in the way (a file where a folder is needed, or the reverse)',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder, a file is needed',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system',
  EDQUOT: 'disk quota exceeded',
  EMFILE: 'too many open files',
};

/**
 * The user's mistake an error stands for, as the one line to show, or undefined for a bug: a
 * UserError as it is, a file-system refusal naming its own path (a key file, the output…), and
 * what a reader raised on malformed input, about `file` (the medium a command read).
 */
export function userErrorOf(err: unknown, file?: string): UserError | undefined {
  if (err instanceof UserError) return err;
  if (isFsError(err)) return new UserError(fsErrorText(err), err.path);
  return file !== undefined ? userErrorFor(err, file) : undefined;
}

/** What Node's file-system errors carry (declared here so the public types need no @types/node). */
export interface FsError extends Error {
  code?: string;
  syscall?: string;
  path?: string;
}

/** An error the file system raised (it carries the syscall), e.g. ENOENT from open(). */
export function isFsError(err: unknown): err is FsError {
  const e = err as FsError | undefined;
  return typeof e?.code === 'string' && typeof e.syscall === 'string';
}

/** The one-line text of a file-system refusal, without the path. */
export function fsErrorText(err: FsError): string {
  return FS_ERRORS[err.code!] ?? err.message;
}

/**
 * The message of an error that malformed input makes a reader raise, or undefined for anything
 * else (a bug). Besides FormatError: bounds checks of Buffer/DataView reads (RangeError), the
 * decoders of Node and its libraries (zlib's Z_* codes), and crypto refusing a digest that the
 * input names.
 */
function readerErrorText(err: unknown): string | undefined {
  if (err instanceof FormatError || err instanceof RangeError) return err.message;
  if (!(err instanceof Error)) return undefined;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return `corrupt compressed data: ${err.message}`;
  if (err.message === 'Digest method not supported') return 'names a digest this system does not support';
  return undefined;
}

/**
 * The UserError naming `file` for what a reader or the file system raised on it, or undefined
 * when `err` is neither (an internal error). A UserError names its file already and is kept.
 */
export function userErrorFor(err: unknown, file: string): UserError | undefined {
  if (err instanceof UserError) return err;
  const text = readerErrorText(err);
  if (text !== undefined) return new UserError(text, file, { cause: err });
  // the caller's name for the file, unless the refusal is about a path below it (a folder's member)
  if (isFsError(err)) return new UserError(fsErrorText(err), err.path?.startsWith(`${file}/`) ? err.path : file);
  return undefined;
}

/** Re-throw anything a format reader raised on user input as a UserError naming the file. */
export function asUserError(err: unknown, file: string): never {
  throw userErrorFor(err, file) ?? err;
}

/** Run a reader on `file`: what malformed input makes it raise becomes a UserError naming the file. */
export async function readingFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    asUserError(err, file);
  }
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
