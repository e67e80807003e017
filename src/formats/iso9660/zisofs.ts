/**
 * zisofs: files stored compressed on an ISO (Rock Ridge `ZF` entry, made by mkzftree or xorriso
 * `-zisofs`), which Linux, bsdtar and xorriso show at their real size and decompress on reading.
 * The stored file: a 16-byte header (magic, real size, header size / 4, log2 block size), a table
 * of block offsets, then each block deflated with zlib (a block of zero length is all zeros).
 */
import { inflateSync } from 'node:zlib';
import { FormatError } from '../../errors.js';
import type { Source } from '../../tree/source.js';
import { readLe32 } from './numbers.js';

/** What a `ZF` entry says. */
export interface ZisofsInfo {
  /** `pz` (zlib, zisofs 1); xorriso's zisofs2 uses other algorithm names. */
  readonly algorithm: string;
  readonly realSize: number;
  readonly blockSize: number;
}

const MAGIC = [0x37, 0xe4, 0x53, 0x96, 0xc9, 0xdb, 0xd6, 0x07];

/** Decode a `ZF` entry (16 bytes: signature, length, version, algorithm, header size, log2 block size, size). */
export function decodeZf(e: Uint8Array): ZisofsInfo {
  if (e.length < 16) throw new FormatError(`Rock Ridge ZF entry of ${e.length} bytes (16 expected)`);
  return { algorithm: String.fromCharCode(e[4]!, e[5]!), blockSize: 2 ** e[7]!, realSize: readLe32(e, 8) };
}

/** Pull exactly `n` bytes from a chunk iterator, keeping what is left over. */
class Pull {
  private buf = Buffer.alloc(0);
  constructor(private readonly it: AsyncIterator<Uint8Array>, private readonly what: string) {}
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      const r = await this.it.next();
      if (r.done) throw new FormatError(`${this.what}: zisofs data ends early`);
      this.buf = Buffer.concat([this.buf, r.value]);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

/** The real bytes of a zisofs file whose stored bytes `stored` gives, block by block. */
export function zisofsSource(stored: Source, info: ZisofsInfo, origin: string): Source {
  const bad = (why: string): never => {
    throw new FormatError(`${origin}: ${why}`);
  };
  return {
    size: info.realSize,
    origin,
    async *open() {
      if (info.algorithm !== 'pz') bad(`compressed with zisofs algorithm "${info.algorithm}", which dudkit does not decode (only pz, zisofs 1)`);
      const it = stored.open()[Symbol.asyncIterator]();
      try {
        const pull = new Pull(it, origin);
        const head = await pull.take(16);
        if (!MAGIC.every((b, i) => head[i] === b)) bad('zisofs file without its magic number');
        const log2 = head[13]!;
        if (log2 < 15 || log2 > 17) bad(`zisofs block size 2^${log2} (15 to 17 allowed)`);
        const blockSize = 2 ** log2;
        if (readLe32(head, 8) !== info.realSize) bad(`zisofs header says ${readLe32(head, 8)} bytes, the ZF entry ${info.realSize}`);
        const blocks = Math.ceil(info.realSize / blockSize);
        const headerSize = head[12]! * 4;
        if (headerSize < 16) bad(`zisofs header size ${headerSize}`);
        await pull.take(headerSize - 16);
        const table = await pull.take((blocks + 1) * 4);
        let at = headerSize + table.length;
        for (let i = 0; i < blocks; i++) {
          const [from, to] = [readLe32(table, i * 4), readLe32(table, i * 4 + 4)];
          const want = Math.min(blockSize, info.realSize - i * blockSize);
          if (from !== at || to < from || to - from > blockSize + 1024) bad(`zisofs block ${i} at ${from}..${to} does not follow the block table`);
          at = to;
          if (to === from) {
            yield new Uint8Array(want);
            continue;
          }
          let out: Buffer;
          try {
            out = inflateSync(await pull.take(to - from), { maxOutputLength: blockSize });
          } catch (err) {
            if (err instanceof FormatError) throw err;
            return bad(`zisofs block ${i} does not inflate (${(err as Error).message})`);
          }
          if (out.length !== want) bad(`zisofs block ${i} inflates to ${out.length} bytes, not ${want}`);
          yield out;
        }
      } finally {
        await it.return?.();
      }
    },
  };
}
