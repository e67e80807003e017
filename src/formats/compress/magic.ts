/** The compressions dudkit reads, recognised by their magic bytes (never by file name); no Node types, so the library's public types stay free of them. */
export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

const MAGICS: [Compression, number[]][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gzip', [0x1f, 0x8b]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** The compression of a stream from its first bytes (6 are enough); 'none' if no magic matches. */
export function detectCompression(head: Uint8Array): Compression {
  for (const [kind, magic] of MAGICS) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return kind;
  }
  return 'none';
}
