/**
 * An .xz stream cut into the pieces a decoder is fed, each bounded by what it can decompress to.
 * liblzma (through lzma-native) turns each piece into all of its output at once, so a blind cut
 * needs tiny pieces (a few bytes of LZMA2 can be megabytes) and pays a thread-pool hop for every
 * 2 KiB. Here the container is followed instead: every LZMA2 chunk header states the chunk's
 * uncompressed size (at most 2 MiB, which liblzma holds it to), so a piece may be as large as
 * the input chunk it comes from while the chunks whose data it holds add up to at most `limit`
 * (or to one chunk, when that alone is larger). Filters before LZMA2 (delta, BCJ) keep sizes.
 * The index, footer and stream padding decompress to nothing, and concatenated streams are
 * walked the same way. Whatever the walk does not know — another magic (lzma_alone), an unknown
 * filter, a malformed header — is cut blindly into `blind`-byte pieces from there on, as before.
 */

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FILTER_LZMA2 = 0x21;
/** Delta (0x03) and the BCJ filters liblzma 5.2 decodes (x86 … SPARC): output as long as input. */
const SIZE_KEEPING = new Set([0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]);
/** Bytes of the integrity check by check ID (the xz format's table). */
const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

type State =
  /** collecting the 12-byte stream header, or a block header (its size from its first byte) */
  | { at: 'stream-header' | 'block-header' }
  /** collecting an LZMA2 chunk header: the control byte, then what it announces */
  | { at: 'chunk' }
  /** inside a chunk's data, `left` bytes to go; `size` is what the chunk decompresses to */
  | { at: 'data'; left: number; size: number }
  /** block padding and check, or index padding, CRC32 and stream footer: `left` bytes to go, then `next` */
  | { at: 'tail'; left: number; next: 'block-header' | 'stream-padding' }
  /** inside the index (after its indicator): `vlis` integers to go (-1: the record count first), `size` bytes so far */
  | { at: 'index'; vlis: number; size: number; value: number; width: number }
  /** zero bytes between concatenated streams */
  | { at: 'stream-padding' }
  /** past what the walk follows: blind pieces */
  | { at: 'blind' };

/** The filter chain of a block header is one the walk can bound: size-keeping filters, then LZMA2. */
function boundedFilters(header: Uint8Array): boolean {
  const flags = header[1]!;
  if (flags & 0x3c) return false;
  let at = 2;
  const vli = (): number => {
    let n = 0;
    for (let i = 0; i < 9 && at < header.length - 4; i++) {
      const b = header[at++]!;
      n += (b & 0x7f) * 2 ** (7 * i);
      if (!(b & 0x80)) return n;
    }
    return -1;
  };
  if (flags & 0x40 && vli() < 0) return false;
  if (flags & 0x80 && vli() < 0) return false;
  const filters = (flags & 0x03) + 1;
  for (let f = 0; f < filters; f++) {
    const id = vli();
    const props = vli();
    if (id < 0 || props < 0 || (f < filters - 1 ? !SIZE_KEEPING.has(id) : id !== FILTER_LZMA2)) return false;
    at += props;
  }
  return at <= header.length - 4;
}

/** How many header bytes an LZMA2 chunk with this control byte has (0: not a valid control byte). */
function chunkHeaderSize(control: number): number {
  if (control === 0x00) return 1;
  if (control === 0x01 || control === 0x02) return 3;
  if (control >= 0xc0) return 6;
  return control >= 0x80 ? 5 : 0;
}

/**
 * Cut `input` (an .xz stream) into pieces whose output is at most `limit` bytes each, or one
 * LZMA2 chunk's (≤ 2 MiB) when that is more; pieces never span two input chunks.
 */
export async function* xzSlices(input: AsyncIterable<Uint8Array>, limit: number, blind: number): AsyncGenerator<Uint8Array> {
  let state: State = { at: 'stream-header' };
  let check = 0;
  /** the bytes of the header being collected, and how many it has */
  let head = new Uint8Array(12);
  let have = 0;
  let need = 12;
  /** compressed bytes of the current block so far (for its padding) */
  let compressed = 0;
  const expect = (at: 'stream-header' | 'block-header', bytes: number): State => {
    head = new Uint8Array(bytes);
    have = 0;
    need = bytes;
    return { at };
  };
  for await (const chunk of input) {
    let at = 0;
    let from = 0;
    /** output of the chunks whose data lies in chunk[from, at) */
    let bound = state.at === 'data' ? state.size : 0;
    while (at < chunk.length && state.at !== 'blind') {
      if (state.at === 'data' || state.at === 'tail') {
        const n = Math.min(state.left, chunk.length - at);
        at += n;
        state.left -= n;
        if (state.at === 'data') compressed += n;
        if (state.left === 0) state = state.at === 'data' ? { at: 'chunk' } : state.next === 'block-header' ? expect('block-header', 1) : { at: 'stream-padding' };
        continue;
      }
      if (state.at === 'index') {
        const b = chunk[at++]!;
        state.size++;
        state.value += (b & 0x7f) * 2 ** (7 * state.width);
        if (b & 0x80) {
          // a multibyte integer is at most 9 bytes
          if (++state.width === 9) state = { at: 'blind' };
          continue;
        }
        // the record count (more records than a stream can have blocks: liblzma refuses it), then two integers a record
        state.vlis = state.vlis === -1 ? 2 * Math.min(state.value, 2 ** 32) : state.vlis - 1;
        state.value = 0;
        state.width = 0;
        if (state.vlis === 0) state = { at: 'tail', left: pad4(state.size) + 4 + 12, next: 'stream-padding' };
        continue;
      }
      if (state.at === 'stream-padding') {
        if (chunk[at] === 0x00) at++;
        else state = expect('stream-header', 12);
        continue;
      }
      if (state.at === 'chunk' && have === 0) {
        need = chunkHeaderSize(chunk[at]!);
        if (need === 0) {
          state = { at: 'blind' };
          break;
        }
        head = new Uint8Array(need);
      }
      const n = Math.min(need - have, chunk.length - at);
      head.set(chunk.subarray(at, at + n), have);
      have += n;
      at += n;
      if (have < need) continue;
      have = 0;
      if (state.at === 'stream-header') {
        if (!MAGIC.every((b, i) => head[i] === b) || head[6] !== 0 || head[7]! > 0x0f) state = { at: 'blind' };
        else {
          check = head[7]!;
          state = expect('block-header', 1);
        }
      } else if (state.at === 'block-header') {
        // the index indicator: the blocks are done
        if (head[0] === 0x00) state = { at: 'index', vlis: -1, size: 1, value: 0, width: 0 };
        else if (head.length === 1) {
          need = (head[0]! + 1) * 4;
          head = Uint8Array.of(head[0]!, ...new Uint8Array(need - 1));
          have = 1;
        } else if (!boundedFilters(head)) state = { at: 'blind' };
        else {
          state = { at: 'chunk' };
          compressed = 0;
        }
      } else {
        compressed += need;
        const control = head[0]!;
        if (control === 0x00) {
          state = { at: 'tail', left: pad4(compressed) + CHECK_SIZE[check]!, next: 'block-header' };
          continue;
        }
        const size = control < 0x80 ? ((head[1]! << 8) | head[2]!) + 1 : ((control & 0x1f) << 16) + ((head[1]! << 8) | head[2]!) + 1;
        const left = control < 0x80 ? size : ((head[3]! << 8) | head[4]!) + 1;
        // a new piece starts where this chunk's data does, when it would take the piece past the limit
        if (bound > 0 && bound + size > limit) {
          yield chunk.subarray(from, at);
          from = at;
          bound = 0;
        }
        bound += size;
        state = { at: 'data', left, size };
      }
    }
    if (state.at === 'blind') {
      if (at > from) yield chunk.subarray(from, at);
      for (; at < chunk.length; at += blind) yield chunk.subarray(at, at + blind);
    } else if (chunk.length > from) yield chunk.subarray(from);
  }
}
