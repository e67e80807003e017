/**
 * The media-check MD5 of `implantisomd5` / `checkisomd5` (rhinstaller/isomd5sum): an MD5 of the
 * image up to 15 blocks before its end, with the PVD application-use field read as spaces, plus 20
 * fragment sums, stored as text in that field (delivery.md §7). The tap computes it while an image
 * is being written; `implantMediaCheck` and `checkMediaCheck` work on an image on disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { FormatError } from '../errors.js';

/** Absolute offset of the 512-byte field (PVD at 32768 + 883). */
export const FIELD_OFFSET = 33651;
export const FIELD_LENGTH = 512;
const SKIP_SECTORS = 15;
const FRAGMENT_COUNT = 20;
const FRAGMENT_CHARS = 60;
const CHUNK = 32768;
/** Below this many 2048-byte sectors checkisomd5 rejects even upstream's own sums. */
export const MIN_SECTORS = 336;

/** One character per digest byte: the high nibble, or the low one when the high is zero. */
function fragmentChars(d: Buffer): string {
  let s = '';
  for (let i = 0; i < 3; i++) {
    const b = d[i]!;
    s += (b >= 0x10 ? b >> 4 : b).toString(16);
  }
  return s;
}

/**
 * Hashes bytes as they pass (in any chunking) exactly like the 32 KiB loop of isomd5sum, which
 * takes a fragment sum after each 32 KiB chunk that starts in a new fragment. Only those chunks'
 * ends cut the bytes: a call per 32 KiB costs the worker ~4% of the hashing (1.75 against 1.68 s
 * per GiB, measured).
 */
export class MediaCheckTap {
  private readonly md5: Hash = createHash('md5');
  private readonly total: number;
  private readonly fragSize: number;
  private pos = 0;
  /** The fragment of the last chunk a sum was taken after (isomd5sum's `previous_fragment`). */
  private prev = 0;
  /** Where the next fragment sum is taken: the end of the next chunk starting in a later fragment (or `total`, none). */
  private stop = 0;
  private stopTakes = false;
  private frags = '';

  /** `volumeBytes` = the PVD volume space size × 2048. */
  constructor(volumeBytes: number) {
    this.total = volumeBytes - SKIP_SECTORS * 2048;
    this.fragSize = Math.floor(this.total / (FRAGMENT_COUNT + 1));
    if (this.total <= 0) throw new FormatError('image too small for a media-check MD5');
    this.nextStop();
  }

  private nextStop(): void {
    // the first chunk start at or after the next fragment's start (chunks start at multiples of CHUNK)
    const start = Math.ceil(((this.prev + 1) * this.fragSize) / CHUNK) * CHUNK;
    this.stopTakes = start < this.total;
    this.stop = this.stopTakes ? Math.min(start + CHUNK, this.total) : this.total;
    if (this.stopTakes) this.prev = Math.floor(start / this.fragSize);
  }

  update(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length && this.pos < this.total) {
      const n = Math.min(chunk.length - off, this.stop - this.pos);
      this.md5.update(chunk.subarray(off, off + n));
      this.pos += n;
      off += n;
      if (this.pos === this.stop && this.stopTakes) {
        if (this.frags.length < FRAGMENT_CHARS) this.frags += fragmentChars(this.md5.copy().digest());
        this.nextStop();
      }
    }
  }

  /** The 512-byte field to write at FIELD_OFFSET once every byte has passed. */
  field(supportedIso = false): Uint8Array {
    if (this.pos < this.total) throw new Error('media-check MD5 requested before the image was complete');
    return fieldText(this.md5.digest('hex'), this.frags, supportedIso);
  }
}

function fieldText(md5: string, frags: string, supported: boolean): Uint8Array {
  const text =
    `ISO MD5SUM = ${md5};SKIPSECTORS = ${SKIP_SECTORS};RHLISOSTATUS=${supported ? 1 : 0};` +
    `FRAGMENT SUMS = ${frags};FRAGMENT COUNT = ${FRAGMENT_COUNT};THIS IS NOT THE SAME AS RUNNING MD5SUM ON THIS ISO!!`;
  const out = new Uint8Array(FIELD_LENGTH).fill(0x20);
  out.set(Buffer.from(text, 'latin1'));
  return out;
}

export interface MediaCheckRecord {
  md5: string;
  skipSectors: number;
  supported: boolean;
  fragmentSums: string;
  fragmentCount: number;
}

/** Parse the field text; undefined when the field holds no media-check record. */
export function parseField(field: Uint8Array): MediaCheckRecord | undefined {
  const text = Buffer.from(field).toString('latin1');
  const md5 = /ISO MD5SUM = ([0-9a-fA-F]{32})/.exec(text)?.[1];
  if (!md5) return undefined;
  return {
    md5: md5.toLowerCase(),
    skipSectors: Number(/SKIPSECTORS = (\d+)/.exec(text)?.[1] ?? 0),
    supported: /RHLISOSTATUS=1/.test(text),
    fragmentSums: /FRAGMENT SUMS = ([0-9a-f]*)/.exec(text)?.[1] ?? '',
    fragmentCount: Number(/FRAGMENT COUNT = (\d+)/.exec(text)?.[1] ?? 0),
  };
}

export interface MediaCheckResult {
  state: 'absent' | 'pass' | 'fail';
  stored?: MediaCheckRecord;
  /** The recomputed sum (when a record is present). */
  computed?: string;
  /** First failing fragment (1-based), when a fragment sum mismatched. */
  failedFragment?: number;
}

async function readVolumeBytes(fh: import('node:fs/promises').FileHandle): Promise<{ volumeBytes: number; field: Uint8Array }> {
  const pvd = Buffer.alloc(2048);
  const { bytesRead } = await fh.read(pvd, 0, 2048, 32768);
  if (bytesRead < 2048 || pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') throw new FormatError('no ISO 9660 primary volume descriptor at sector 16');
  return { volumeBytes: pvd.readUInt32BE(84) * 2048, field: pvd.subarray(883, 883 + FIELD_LENGTH) };
}

/** Where reading a whole image is reported (the library's Progress; formats import nothing above them). */
export interface ReadProgress {
  phase(label: string, total?: number): void;
  advance(bytes: number): void;
}

/** Hash an image on disk the way isomd5sum does (field as spaces), reading it once. */
async function hashImage(path: string, skipSectors: number, progress?: ReadProgress): Promise<{ md5: string; frags: string; volumeBytes: number }> {
  const fh = await open(path, 'r');
  try {
    const { volumeBytes } = await readVolumeBytes(fh);
    progress?.phase(`checking the media-check MD5 of ${path}`, volumeBytes - skipSectors * 2048);
    const tap = new MediaCheckTap(volumeBytes - (skipSectors - SKIP_SECTORS) * 2048);
    const buf = Buffer.alloc(1 << 20);
    let pos = 0;
    const end = volumeBytes - skipSectors * 2048;
    while (pos < end) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new FormatError(`image shorter than its volume size (${volumeBytes} bytes)`);
      const part = buf.subarray(0, bytesRead);
      const lo = Math.max(FIELD_OFFSET - pos, 0);
      const hi = Math.min(FIELD_OFFSET + FIELD_LENGTH - pos, bytesRead);
      if (lo < hi) part.fill(0x20, lo, hi);
      tap.update(part);
      pos += bytesRead;
      progress?.advance(bytesRead);
    }
    const field = Buffer.from(tap.field());
    const text = field.toString('latin1');
    return { md5: /ISO MD5SUM = ([0-9a-f]{32})/.exec(text)![1]!, frags: /FRAGMENT SUMS = ([0-9a-f]*)/.exec(text)![1]!, volumeBytes };
  } finally {
    await fh.close();
  }
}

/** Check an image like `checkisomd5`: fragments first (first mismatch reported), then the sum. */
export async function checkMediaCheck(path: string, progress?: ReadProgress): Promise<MediaCheckResult> {
  const fh = await open(path, 'r');
  let stored: MediaCheckRecord | undefined;
  try {
    stored = parseField((await readVolumeBytes(fh)).field);
  } finally {
    await fh.close();
  }
  if (!stored) return { state: 'absent' };
  const got = await hashImage(path, stored.skipSectors, progress);
  for (let i = 0; i + 3 <= stored.fragmentSums.length; i += 3) {
    if (got.frags.slice(i, i + 3) !== stored.fragmentSums.slice(i, i + 3)) {
      return { state: 'fail', stored, computed: got.md5, failedFragment: i / 3 + 1 };
    }
  }
  return { state: got.md5 === stored.md5 ? 'pass' : 'fail', stored, computed: got.md5 };
}

/**
 * Implant (or replace) the media-check MD5 in an image on disk, like `implantisomd5 --force`.
 * Images under 336 sectors are refused: checkisomd5 would reject their sum (emitIso grows its own
 * images instead).
 */
export async function implantMediaCheck(path: string, supportedIso = false): Promise<string> {
  const probe = await open(path, 'r');
  try {
    const sectors = (await readVolumeBytes(probe)).volumeBytes / 2048;
    if (sectors < MIN_SECTORS) throw new FormatError(`image has ${sectors} sectors; checkisomd5 rejects media-check sums of images under ${MIN_SECTORS} sectors`);
  } finally {
    await probe.close();
  }
  const got = await hashImage(path, SKIP_SECTORS);
  const field = fieldText(got.md5, got.frags, supportedIso);
  const fh = await open(path, 'r+');
  try {
    await fh.write(field, 0, FIELD_LENGTH, FIELD_OFFSET);
  } finally {
    await fh.close();
  }
  return got.md5;
}
