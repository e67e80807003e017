import { FormatError } from '../../errors.js';
import { ByteReader } from '../bytes.js';
import { readArchive, type CpioMemberRead } from './read.js';

/** Compressed segment kinds the kernel recognises by magic (init/initramfs.c, cpio.md). */
export type InitrdCompression = 'gzip' | 'bzip2' | 'lzma' | 'xz' | 'lzo' | 'lz4' | 'zstd';

const MAGICS: [InitrdCompression, number[]][] = [
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00, 0x00]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

export interface InitrdMemberRead extends CpioMemberRead {
  /** Offset of the first header of the archive this member belongs to. */
  archiveOffset: number;
}

/**
 * Where the uncompressed part of an initrd stops: at the end of input, or at a compressed segment.
 * The kernel decompresses exactly one stream there and continues after it; decompression is the
 * caller's (src/formats/compress), since only the decompressor knows where the stream ends.
 * Decompressing `rest` and passing the output to `readInitrd` again lists every archive of that
 * segment and of following segments with the same compression (concatenated gzip members, xz
 * streams); a change of compressor after the first compressed segment is not followed.
 */
export interface InitrdEnd {
  end: number;
  compressed?: { offset: number; compression: InitrdCompression; rest: AsyncIterable<Uint8Array> };
}

/**
 * The kernel's unpack loop over a byte stream: skip NULs; an uncompressed archive must start at
 * an offset ≡ 0 mod 4 (counted from `startOffset`, the position of this stream in the whole
 * initrd) and runs to its TRAILER!!!; a compressed segment ends the walk and is returned.
 */
export async function* readInitrd(input: AsyncIterable<Uint8Array>, opts: { startOffset?: number } = {}): AsyncGenerator<InitrdMemberRead, InitrdEnd> {
  const reader = new ByteReader(input, opts.startOffset ?? 0);
  for (;;) {
    await reader.skipNuls();
    const first = await reader.peek();
    if (first === undefined) return { end: reader.offset };
    const offset = reader.offset;
    if (first === 0x30) {
      if (offset % 4 !== 0) throw new FormatError(`broken padding: cpio archive at offset ${offset} does not start on a 4-byte boundary`);
      const magic = String.fromCharCode(...(await reader.peekBytes(6)));
      if (magic === '070707') throw new FormatError(`odc cpio archive at offset ${offset}: the kernel rejects it ("incorrect cpio method used: use -H newc option")`);
      for await (const m of readArchive(reader)) yield { ...m, archiveOffset: offset };
      continue;
    }
    const head = await reader.peekBytes(6);
    const hit = MAGICS.find(([, magic]) => head.length >= magic.length && magic.every((b, i) => head[i] === b));
    if (!hit) throw new FormatError(`junk in initrd at offset ${offset}: neither a cpio archive nor a known compressed stream`);
    return { end: offset, compressed: { offset, compression: hit[0], rest: reader.rest() } };
  }
}
