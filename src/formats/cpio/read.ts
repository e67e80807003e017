import { FormatError } from '../../errors.js';
import { ByteReader } from '../bytes.js';
import {
  BIN_HEADER_SIZE, decodeBinHeader, decodeNewcHeader, decodeOdcHeader, detectMagic, MAX_NAME_SIZE, NEWC_HEADER_SIZE, ODC_HEADER_SIZE, pad4,
  S_IFLNK, S_IFMT, S_IFREG, TRAILER_NAME, type CpioFields, type CpioFormat,
} from './header.js';
import { nameText } from './names.js';
import { byteSum } from './write.js';

export interface CpioEntry extends CpioFields {
  format: CpioFormat;
  /** The name as text; one that is not UTF-8 is given in its escaped display form (`nameBytes` has it). */
  name: string;
  /** The name's bytes as stored (without the NUL). */
  nameBytes: Uint8Array;
  /** A symlink's target, as text like `name` (`linkTargetBytes` as stored). */
  linkTarget?: string;
  linkTargetBytes?: Uint8Array;
  /** Offset of the header in the input. */
  offset: number;
}

export interface CpioMemberRead {
  entry: CpioEntry;
  /** The member's data; whatever the consumer leaves unread is skipped when the loop moves on. */
  data: AsyncIterable<Uint8Array>;
}

/** What follows an archive: `end` is the offset just past the trailer and its 4-byte padding. */
export interface CpioEnd {
  end: number;
}

/** File types a cpio member may have (socket, symlink, file, block, dir, char, fifo). */
const KNOWN_TYPES = new Set([0o140000, 0o120000, 0o100000, 0o060000, 0o040000, 0o020000, 0o010000]);
const TRAILER_BYTES = new TextEncoder().encode(TRAILER_NAME);

/**
 * Read one archive member by member up to TRAILER!!! (newc, crc with its sum verified, odc).
 * The generator's return value gives the end offset; bytes after it (GNU cpio's 512-byte padding,
 * further archives) are not read. Use `readInitrd` for concatenations.
 */
export async function* readCpio(input: AsyncIterable<Uint8Array>, opts: { startOffset?: number; binary?: boolean } = {}): AsyncGenerator<CpioMemberRead, CpioEnd> {
  const reader = new ByteReader(input, opts.startOffset ?? 0);
  yield* readArchive(reader, opts.binary);
  return { end: reader.offset };
}

/**
 * The archive state machine on a shared reader, so that concatenations can continue after it.
 * `binary`: also the old binary format (linuxrc reads it; the kernel does not).
 */
export async function* readArchive(reader: ByteReader, binary = false): AsyncGenerator<CpioMemberRead, void> {
  const base = reader.offset;
  for (;;) {
    const offset = reader.offset;
    const magic = await reader.peekBytes(6);
    if (magic.length < 6) throw new FormatError(`truncated cpio archive: input ends at offset ${offset + magic.length}, before ${TRAILER_NAME}`);
    const format = detectMagic(magic, offset, binary);
    const header = await reader.read(format === 'odc' ? ODC_HEADER_SIZE : format === 'bin' ? BIN_HEADER_SIZE : NEWC_HEADER_SIZE, 'cpio header');
    const { fields, namesize } = format === 'odc' ? decodeOdcHeader(header, offset) : format === 'bin' ? decodeBinHeader(header) : decodeNewcHeader(header, offset);
    // alignment counts from the archive's first header: newc 4 bytes, binary 2, odc none
    const aligned = (n: number) => (format === 'odc' ? 0 : format === 'bin' ? (reader.offset - base + n) % 2 : pad4(reader.offset - base + n));

    if (namesize < 1 || namesize > MAX_NAME_SIZE) throw new FormatError(`bad cpio header at offset ${offset}: name size ${namesize} outside 1..${MAX_NAME_SIZE}`);
    const nameBytes = await reader.read(namesize + aligned(namesize), 'cpio member name');
    if (nameBytes[namesize - 1] !== 0) throw new FormatError(`bad cpio header at offset ${offset}: name is not NUL-terminated`);
    const raw = nameBytes.subarray(0, namesize - 1);
    if (raw.includes(0)) throw new FormatError(`bad cpio header at offset ${offset}: name contains NUL`);
    // The name alone ends the archive, whatever the member's type (GNU cpio, libarchive; the
    // kernel skips its data first, as done here, before looking for the next archive).
    if (raw.length === TRAILER_BYTES.length && raw.every((b, i) => b === TRAILER_BYTES[i])) {
      for (let left = fields.size; left > 0; ) left -= (await reader.readSome(left, `data of ${TRAILER_NAME} (header at offset ${offset})`)).length;
      await reader.read(aligned(0), 'cpio data padding');
      return;
    }
    const name = nameText(raw);
    const type = fields.mode & S_IFMT;
    if (!KNOWN_TYPES.has(type)) throw new FormatError(`bad cpio header at offset ${offset}: ${name} has unknown file type in mode ${fields.mode.toString(8)}`);
    const entry: CpioEntry = { format, name, nameBytes: raw.slice(), ...fields, offset };
    const what = `data of ${name} (header at offset ${offset})`;
    let data: AsyncIterable<Uint8Array>;
    let drain: () => Promise<void>;

    if (type === S_IFLNK) {
      if (fields.size < 1 || fields.size >= MAX_NAME_SIZE) throw new FormatError(`bad cpio header at offset ${offset}: symlink ${name} has target size ${fields.size}`);
      const target = (await reader.read(fields.size, what)).slice();
      entry.linkTarget = nameText(target);
      entry.linkTargetBytes = target;
      data = (async function* () {
        yield target;
      })();
      drain = async () => undefined;
    } else {
      let left = fields.size;
      let sum = 0;
      if (left === 0) checkSum(format, entry, 0);
      const pull = async (): Promise<Uint8Array | undefined> => {
        if (left === 0) return undefined;
        const chunk = await reader.readSome(left, what);
        left -= chunk.length;
        if (format === 'crc') sum = byteSum(chunk, sum);
        if (left === 0 && type === S_IFREG) checkSum(format, entry, sum);
        return chunk;
      };
      data = {
        async *[Symbol.asyncIterator]() {
          for (let c = await pull(); c !== undefined; c = await pull()) yield c;
        },
      };
      drain = async () => {
        while ((await pull()) !== undefined);
      };
    }
    yield { entry, data };
    await drain();
    await reader.read(aligned(0), 'cpio data padding');
  }
}

function checkSum(format: CpioFormat, entry: CpioEntry, sum: number): void {
  if (format === 'crc' && (entry.mode & S_IFMT) === S_IFREG && sum !== entry.check) {
    throw new FormatError(`bad data checksum for ${entry.name} (header at offset ${entry.offset}): header says ${entry.check.toString(16)}, data sums to ${sum.toString(16)}`);
  }
}
