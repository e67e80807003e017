import { FormatError, UserError } from '../errors.js';

/**
 * Pull-based reader over a chunked byte stream, tracking the absolute offset. It hands out
 * sub-arrays of the input chunks where it can and copies only when a small read spans chunks, so a
 * member's data streams through without being collected. The one chunked reader of the archive
 * formats (cpio, tar, an RPM's payload); `format` names the archive in truncation errors.
 */
export class ByteReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;
  /** Absolute offset of the next unread byte. */
  offset: number;

  constructor(
    input: AsyncIterable<Uint8Array>,
    startOffset = 0,
    private readonly format = 'cpio archive',
  ) {
    this.it = input[Symbol.asyncIterator]();
    this.offset = startOffset;
  }

  /** Whether the input is exhausted. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  /** Consume exactly `n` bytes without keeping them. */
  async skip(n: number, what: string): Promise<void> {
    for (let left = n; left > 0; ) left -= (await this.readSome(left, what)).length;
  }

  /** Make at least one unread byte available; false at the end of input. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) return false;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      this.chunk = r.value;
      this.pos = 0;
    }
    return true;
  }

  /** The next byte without consuming it, or undefined at the end. */
  async peek(): Promise<number | undefined> {
    return (await this.fill()) ? this.chunk[this.pos] : undefined;
  }

  /** Up to `n` bytes without consuming them (fewer only at the end of input). */
  async peekBytes(n: number): Promise<Uint8Array> {
    if (!(await this.fill())) return new Uint8Array(0);
    if (this.chunk.length - this.pos < n) {
      // merge the following chunks into the current one; n is small (a magic number)
      const parts = [this.chunk.subarray(this.pos)];
      let have = parts[0]!.length;
      while (have < n && !this.done) {
        const r = await this.it.next();
        if (r.done) this.done = true;
        else {
          parts.push(r.value);
          have += r.value.length;
        }
      }
      this.chunk = concat(parts, have);
      this.pos = 0;
    }
    return this.chunk.subarray(this.pos, this.pos + n);
  }

  /** Exactly `n` bytes (a header, a name); FormatError naming `what` if the input ends first. */
  async read(n: number, what: string): Promise<Uint8Array> {
    if (n === 0) return new Uint8Array(0);
    if (!(await this.fill())) throw truncated(this.format, what, this.offset, n, 0);
    if (this.chunk.length - this.pos >= n) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let have = 0;
    const start = this.offset;
    while (have < n) {
      if (!(await this.fill())) throw truncated(this.format, what, start, n, have);
      const take = Math.min(n - have, this.chunk.length - this.pos);
      out.set(this.chunk.subarray(this.pos, this.pos + take), have);
      this.pos += take;
      this.offset += take;
      have += take;
    }
    return out;
  }

  /** Between 1 and `max` bytes, a sub-array of the current input chunk (no copy). */
  async readSome(max: number, what: string): Promise<Uint8Array> {
    if (!(await this.fill())) throw new FormatError(`truncated ${this.format}: input ends at offset ${this.offset} inside ${what}`);
    const take = Math.min(max, this.chunk.length - this.pos);
    const out = this.chunk.subarray(this.pos, this.pos + take);
    this.pos += take;
    this.offset += take;
    return out;
  }

  /** Consume bytes while they are NUL; returns how many. */
  async skipNuls(): Promise<number> {
    let n = 0;
    while (await this.fill()) {
      const c = this.chunk;
      let p = this.pos;
      while (p < c.length && c[p] === 0) p++;
      n += p - this.pos;
      this.offset += p - this.pos;
      this.pos = p;
      if (p < c.length) break;
    }
    return n;
  }

  /** Everything not yet consumed, as a stream (ends this reader's use). */
  async *rest(): AsyncGenerator<Uint8Array> {
    while (await this.fill()) {
      const out = this.chunk.subarray(this.pos);
      this.offset += out.length;
      this.pos = this.chunk.length;
      yield out;
    }
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function truncated(format: string, what: string, offset: number, wanted: number, got: number): FormatError {
  return new FormatError(`truncated ${format}: ${what} at offset ${offset} needs ${wanted} bytes, input ends after ${got}`);
}

/** A member's data passed through, refused unless it is exactly the `size` its header promised. */
export async function* exactly(data: AsyncIterable<Uint8Array>, size: number, name: string): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of data) {
    seen += chunk.length;
    if (seen > size) throw new UserError(`longer than its planned ${size} bytes`, name);
    yield chunk;
  }
  if (seen !== size) throw new UserError(`shorter than its planned ${size} bytes`, name);
}

/** The same bytes, each chunk's length told to `count` as it passes (progress of a stream). */
export async function* counted(data: AsyncIterable<Uint8Array>, count: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of data) {
    count(chunk.length);
    yield chunk;
  }
}
