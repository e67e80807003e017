/**
 * Reading a stream whole, within a memory budget. Some inputs must be parsed whole (a kernel
 * module's ELF sections, a dkms.conf), and a small file can decompress to gigabytes (a 158 KB
 * `.ko.xz` of a module plus 1 GiB of zeros): every reader that keeps bytes in memory charges them
 * to a `ReadBudget` first, so a bomb ends in a one-line error instead of an exhausted heap.
 * Buffers are allocated once at their exact size (no chunk list concatenated at the end, which
 * would double the peak).
 */
import { FormatError, UserError } from '../errors.js';

export const LIMIT_ENV = 'DUDKIT_MAX_MODULE_SIZE';
/** Above any real module (the largest, with debug info, are a few hundred MiB). */
const DEFAULT_LIMIT = 512 * 1024 * 1024;

/** What all an input may unpack into a scratch folder (files spooled or extracted to be read back). */
export const UNPACK_LIMIT_ENV = 'DUDKIT_MAX_UNPACK_SIZE';
/** Far above any driver medium (SUSE updates, ESXi bundles, initrd overlays: MiBs to hundreds of MiBs). */
export const DEFAULT_UNPACK_LIMIT = 4 * 1024 * 1024 * 1024;

/** A dudkit limit was reached: not a defect of the input, so verifiers never file it as a finding. */
export class TooLargeError extends FormatError {
  constructor(subject: string, limit: number, what = 'a kernel module or metadata file that large', env = LIMIT_ENV) {
    super(`${subject}; ${what} is not supported (limit ${mib(limit)}; ${env}=<bytes> raises it)`);
    this.name = 'TooLargeError';
  }
}

/** The TooLargeError behind `err`, also once a reader has re-thrown it as the UserError naming the file. */
export function tooLarge(err: unknown): TooLargeError | undefined {
  if (err instanceof TooLargeError) return err;
  return err instanceof Error && err.cause instanceof TooLargeError ? err.cause : undefined;
}

export function mib(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}

/** The limit from DUDKIT_MAX_MODULE_SIZE, or another variable `name` (bytes, or a number with K, M or G for KiB, MiB, GiB). */
export function limitFromEnv(env: Readonly<Record<string, string | undefined>> = process.env, name = LIMIT_ENV, fallback = DEFAULT_LIMIT): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const m = /^(\d+)\s*([KMG]?)(?:i?B)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase()) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new UserError(`${name}=${JSON.stringify(text)} is not a size: give bytes, or a number with K, M or G`);
  return n;
}

/** How many bytes one input (a module file, an archive, a package) may keep in memory. */
export class ReadBudget {
  private used = 0;
  constructor(readonly limit: number = limitFromEnv()) {}

  get left(): number {
    return this.limit - this.used;
  }

  /** Charge `n` bytes of `what` (e.g. "dkms.conf"); refused beyond the limit. */
  charge(n: number, what: string): void {
    if (n > this.left) throw new TooLargeError(n > this.limit ? `${what} is ${n} bytes` : `${what} (${n} bytes) and the rest read from this input are more than ${mib(this.limit)}`, this.limit);
    this.used += n;
  }
}

/** A stream of known length (a tar or cpio member), read into one buffer charged to the budget. */
export async function readExactly(stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number, budget: ReadBudget, what: string): Promise<Uint8Array> {
  budget.charge(size, what);
  // a Buffer, as the readers it replaces gave; every byte is written before it is returned
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for await (const chunk of stream) {
    if (at + chunk.length > size) throw new FormatError(`${what} is longer than its ${size} bytes`);
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== size) throw new FormatError(`${what} is cut short: ${at} of ${size} bytes`);
  return out;
}

/**
 * A stream of unknown length that can be opened again (a decompressed module; `what` says so,
 * e.g. "decompresses to" or "x.ko.xz decompresses to"): counted first
 * without keeping anything, stopping once it exceeds what the budget has left, then read into a
 * buffer of its exact size. Twice the decoding time, for memory bounded by the result.
 */
export async function readWhole(open: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>, budget: ReadBudget, what: string): Promise<Uint8Array> {
  let size = 0;
  const counting = (async function* () {
    yield* open();
  })();
  try {
    for (let r = await counting.next(); !r.done; r = await counting.next()) {
      size += r.value.length;
      if (size > budget.left) throw new TooLargeError(`${what} more than ${mib(budget.left)}`, budget.limit);
    }
  } finally {
    // stop the decoder (and close the file behind it) when the count ends early
    await counting.return(undefined);
  }
  return readExactly(open(), size, budget, what);
}
