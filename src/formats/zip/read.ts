/**
 * Reading zip archives (ESXi offline bundles and their metadata zips) through random access: the
 * end-of-central-directory record, the central directory, then each member's local header and
 * data on demand, stored or deflated, streamed (a member is never held whole). No zip64, no
 * encryption: refused as FormatErrors.
 */
import { createInflateRaw } from 'node:zlib';
import { FormatError } from '../../errors.js';

export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Made on Unix (3), MS-DOS (0), …; the Unix mode is in the high half of the external attributes. */
  madeBy: number;
  externalAttributes: number;
  /** Lengths of the extra fields (central directory), which ESXi bundles leave empty. */
  extraLength: number;
  /** MS-DOS date and time as stored. */
  dosTime: number;
  dosDate: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The members of a zip archive of `total` bytes, in central-directory order. */
export async function listZip(readAt: ReadAt, total: number, maxEntries = 100_000): Promise<ZipEntry[]> {
  const tailLength = Math.min(total, 22 + MAX_COMMENT);
  const tail = await readAt(total - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view(tail).getUint32(i, true) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new FormatError('not a zip archive (no end-of-central-directory record)');
  const e = view(tail.subarray(at));
  const count = e.getUint16(10, true);
  const cdSize = e.getUint32(12, true);
  const cdOffset = e.getUint32(16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new FormatError('a zip64 archive, which is not supported');
  if (count > maxEntries) throw new FormatError(`zip: ${count} members, more than ${maxEntries}`);
  if (cdOffset + cdSize > total) throw new FormatError('zip: the central directory lies past the end of the file');
  const cd = await readAt(cdOffset, cdSize);
  const d = view(cd);
  const out: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || d.getUint32(p, true) !== CENTRAL) throw new FormatError(`zip: central directory entry ${n} is damaged`);
    const nameLength = d.getUint16(p + 28, true);
    const extraLength = d.getUint16(p + 30, true);
    const commentLength = d.getUint16(p + 32, true);
    if (p + 46 + nameLength > cd.length) throw new FormatError(`zip: central directory entry ${n} is cut short`);
    const entry: ZipEntry = {
      name: Buffer.from(cd.subarray(p + 46, p + 46 + nameLength)).toString('utf8'),
      madeBy: d.getUint8(p + 5),
      flags: d.getUint16(p + 8, true),
      method: d.getUint16(p + 10, true),
      dosTime: d.getUint16(p + 12, true),
      dosDate: d.getUint16(p + 14, true),
      crc32: d.getUint32(p + 16, true),
      compressedSize: d.getUint32(p + 20, true),
      size: d.getUint32(p + 24, true),
      externalAttributes: d.getUint32(p + 38, true),
      localHeaderOffset: d.getUint32(p + 42, true),
      extraLength,
    };
    if (entry.localHeaderOffset + 30 + entry.compressedSize > total) throw new FormatError(`zip: ${entry.name} lies past the end of the file`);
    out.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

/** The member's bytes as stored (compressed), located through its local header. */
async function dataOffset(readAt: ReadAt, e: ZipEntry): Promise<number> {
  const h = await readAt(e.localHeaderOffset, 30);
  if (h.length < 30 || view(h).getUint32(0, true) !== LOCAL) throw new FormatError(`zip: the local header of ${e.name} is damaged`);
  return e.localHeaderOffset + 30 + view(h).getUint16(26, true) + view(h).getUint16(28, true);
}

const CHUNK = 1 << 16;

/** A member's uncompressed bytes, streamed; more than its recorded size is a FormatError (a bomb). */
export async function* readZipEntry(readAt: ReadAt, e: ZipEntry): AsyncGenerator<Uint8Array> {
  if (e.flags & 1) throw new FormatError(`zip: ${e.name} is encrypted`);
  if (e.method !== 0 && e.method !== 8) throw new FormatError(`zip: ${e.name} uses compression method ${e.method}, not stored or deflate`);
  const start = await dataOffset(readAt, e);
  async function* raw() {
    for (let at = 0; at < e.compressedSize; at += CHUNK) yield await readAt(start + at, Math.min(CHUNK, e.compressedSize - at));
  }
  let seen = 0;
  const chunks = e.method === 0 ? raw() : inflate(raw());
  for await (const c of chunks) {
    seen += c.length;
    if (seen > e.size) throw new FormatError(`zip: ${e.name} inflates to more than its recorded ${e.size} bytes`);
    yield c;
  }
  if (seen !== e.size) throw new FormatError(`zip: ${e.name} gives ${seen} bytes, its record says ${e.size}`);
}

async function* inflate(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const z = createInflateRaw();
  const feed = (async () => {
    try {
      for await (const c of input) if (!z.write(c)) await new Promise((r) => z.once('drain', r));
      z.end();
    } catch (err) {
      z.destroy(err as Error);
    }
  })();
  try {
    for await (const c of z) yield c as Uint8Array;
  } catch (err) {
    throw new FormatError(`zip: damaged deflate data (${(err as Error).message})`);
  }
  await feed;
}
