/**
 * rpm's "stripped" cpio (rpm.md "Payload"), written by rpmbuild when a package has files of
 * 4 GiB or more (LONGFILESIZES, `rpmlib(LargeFiles)`): each member header is only `07070X` and
 * 8 hex digits giving the file's index in the header, padded to 4 bytes; size, mode and name come
 * from the header. The archive still ends with an ordinary newc `TRAILER!!!` entry.
 */
import { FormatError } from '../../errors.js';
import { ByteReader } from '../bytes.js';
import type { RpmFile } from './read-meta.js';

export const STRIPPED_MAGIC = '07070X';
const STRIPPED_HEADER = 14;
const NEWC_HEADER = 110;
const TRAILER = 'TRAILER!!!';

export interface StrippedMember {
  index: number;
  file: RpmFile;
  /** Data bytes that follow: the file size, 0 for directories and for hard links but the last. */
  size: number;
  offset: number;
  data: AsyncIterable<Uint8Array>;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;
const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** Index of the file that carries the data of each hard-link set (the last one, as rpm writes). */
function dataCarriers(files: readonly RpmFile[]): Set<number> {
  const last = new Map<string, number>();
  files.forEach((f, i) => {
    if (f.type === 'file' && !f.ghost) last.set(`${f.device}:${f.inode}`, i);
  });
  return new Set(last.values());
}

export async function* readStrippedCpio(input: AsyncIterable<Uint8Array>, files: readonly RpmFile[]): AsyncGenerator<StrippedMember> {
  const reader = new ByteReader(input, 0);
  const carriers = dataCarriers(files);
  const seen = new Set<number>();
  for (;;) {
    const offset = reader.offset;
    const magic = ascii(await reader.peekBytes(6));
    if (magic === '070701' || magic === '070702') {
      const header = await reader.read(NEWC_HEADER, 'cpio trailer header');
      const namesize = parseInt(ascii(header.subarray(94, 102)), 16);
      if (namesize !== TRAILER.length + 1) throw new FormatError(`newc member at offset ${offset} inside a stripped payload (only ${TRAILER} may be one)`);
      const name = await reader.read(namesize + pad4(NEWC_HEADER + namesize), 'cpio trailer name');
      if (ascii(name.subarray(0, TRAILER.length)) !== TRAILER) throw new FormatError(`newc member at offset ${offset} inside a stripped payload (only ${TRAILER} may be one)`);
      return;
    }
    if (magic !== STRIPPED_MAGIC) throw new FormatError(`no cpio magic at offset ${offset} of a stripped payload (found ${JSON.stringify(magic)})`);
    const header = await reader.read(STRIPPED_HEADER + pad4(STRIPPED_HEADER), 'stripped cpio header');
    const hex = ascii(header.subarray(6, STRIPPED_HEADER));
    if (!/^[0-9a-fA-F]{8}$/.test(hex)) throw new FormatError(`bad stripped cpio header at offset ${offset}: file index ${JSON.stringify(hex)}`);
    const index = parseInt(hex, 16);
    const file = files[index];
    if (!file || file.ghost) throw new FormatError(`stripped cpio header at offset ${offset} names file ${index}, which the header does not carry in its payload`);
    if (seen.has(index)) throw new FormatError(`stripped cpio header at offset ${offset} repeats file ${index}`);
    seen.add(index);
    const size = file.type === 'dir' || (file.type === 'file' && !carriers.has(index)) ? 0 : file.size;
    let left = size;
    const pull = async (): Promise<Uint8Array | undefined> => {
      if (left === 0) return undefined;
      const chunk = await reader.readSome(left, `data of ${file.path}`);
      left -= chunk.length;
      return chunk;
    };
    const data: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        for (let c = await pull(); c !== undefined; c = await pull()) yield c;
      },
    };
    yield { index, file, size, offset, data };
    while ((await pull()) !== undefined);
    await reader.read(pad4(size), 'stripped cpio data padding');
  }
}
