/**
 * Listing a VIB payload from its uncompressed bytes, fed chunk by chunk (nothing but one header
 * block is kept): `tgz` payloads are tar archives (ustar, GNU `ustar  ` with `././@LongLink`
 * names, pax `path=` records); `vgz` payloads are VMware's vmtar (`esxi.md` §4.4), whose
 * headers all come first, magic `visor  `, file data located by the little-endian offset at
 * 0x1F0, the checksum summed over signed bytes.
 */
import { FormatError } from '../../errors.js';

export interface PayloadEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  mtime: number;
  /** vmtar: where the data lies in the uncompressed stream. */
  offset?: number;
  target?: string;
}

const BLOCK = 512;
const latin1 = (b: Uint8Array, at: number, len: number) => {
  const s = Buffer.from(b.buffer, b.byteOffset + at, len).toString('latin1');
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
};
const octal = (b: Uint8Array, at: number, len: number) => {
  const t = latin1(b, at, len).trim();
  return t === '' ? 0 : parseInt(t, 8);
};

/** The header's checksum field matches the unsigned or (vmtar) the signed sum of its bytes. */
function checksumOk(h: Uint8Array): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = octal(h, 148, 8);
  return stored === unsigned || stored === signed;
}

function entryOf(h: Uint8Array, vmtar: boolean): PayloadEntry {
  const typeflag = String.fromCharCode(h[156] || 0x30);
  const prefix = vmtar ? '' : latin1(h, 345, 155);
  const base = latin1(h, 0, 100);
  const name = prefix ? `${prefix}/${base}` : base;
  const type = typeflag === '5' || (typeflag === '0' && name.endsWith('/')) ? 'dir' : typeflag === '0' || typeflag === '7' ? 'file' : typeflag === '2' ? 'symlink' : 'other';
  const e: PayloadEntry = { name, type, typeflag, mode: octal(h, 100, 8), uid: octal(h, 108, 8), gid: octal(h, 116, 8), uname: latin1(h, 265, 32), gname: latin1(h, 297, 32), size: octal(h, 124, 12), mtime: octal(h, 136, 12) };
  if (type === 'symlink') e.target = latin1(h, 157, 100);
  if (vmtar) e.offset = new DataView(h.buffer, h.byteOffset, BLOCK).getUint32(0x1f0, true);
  return e;
}

const isZero = (h: Uint8Array) => h.every((b) => b === 0);

/** Collects entries as the uncompressed payload is pushed through it. */
export class PayloadLister {
  readonly entries: PayloadEntry[] = [];
  format: 'tar' | 'vmtar' | undefined;
  private block = new Uint8Array(BLOCK);
  private filled = 0;
  /** Bytes of member data still to skip (tar), or the stream position (vmtar). */
  private skip = 0;
  private position = 0;
  /** vmtar: headers end where the first data begins. */
  private headersEnd = Infinity;
  private done = false;
  /** Pending long name (GNU `L`) or pax path for the next header. */
  private longName: { kind: 'L' | 'x'; size: number; bytes: Uint8Array[]; have: number } | undefined;
  private nextName: string | undefined;

  constructor(private readonly maxEntries = 100_000) {}

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && !this.done) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, chunk.length - at);
        if (this.longName) {
          this.longName.bytes.push(chunk.slice(at, at + Math.min(k, Math.max(0, this.longName.size - this.longName.have))));
          this.longName.have += k;
        }
        this.skip -= k;
        at += k;
        this.position += k;
        if (this.skip === 0 && this.longName) this.finishLongName();
        continue;
      }
      const k = Math.min(BLOCK - this.filled, chunk.length - at);
      this.block.set(chunk.subarray(at, at + k), this.filled);
      this.filled += k;
      at += k;
      this.position += k;
      if (this.filled === BLOCK) {
        this.filled = 0;
        this.header(this.block);
      }
    }
  }

  private finishLongName(): void {
    const text = Buffer.concat(this.longName!.bytes).toString('utf8');
    if (this.longName!.kind === 'L') this.nextName = text.replace(/\0.*$/s, '');
    else {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
      if (m) this.nextName = m[1];
    }
    this.longName = undefined;
  }

  private header(h: Uint8Array): void {
    if (this.format === 'vmtar' && this.position - BLOCK >= this.headersEnd) {
      this.done = true;
      return;
    }
    if (isZero(h)) {
      // tar ends with zero blocks; vmtar headers end at the first data
      this.done = true;
      return;
    }
    const magic = latin1(h, 257, 6);
    if (this.format === undefined) this.format = magic.startsWith('visor') ? 'vmtar' : 'tar';
    if (!checksumOk(h)) {
      if (this.format === 'vmtar' || this.entries.length > 0) {
        this.done = true;
        return;
      }
      throw new FormatError('payload: the first tar header has a wrong checksum (not a tar archive)');
    }
    if (this.entries.length >= this.maxEntries) throw new FormatError(`payload: more than ${this.maxEntries} entries`);
    const e = entryOf(h, this.format === 'vmtar');
    if (this.format === 'tar' && (e.typeflag === 'L' || e.typeflag === 'x')) {
      this.longName = { kind: e.typeflag, size: e.size, bytes: [], have: 0 };
      this.skip = Math.ceil(e.size / BLOCK) * BLOCK;
      if (this.skip === 0) this.finishLongName();
      return;
    }
    if (e.typeflag === 'g') {
      this.skip = Math.ceil(e.size / BLOCK) * BLOCK;
      return;
    }
    if (this.nextName !== undefined) {
      e.name = this.nextName;
      this.nextName = undefined;
    }
    this.entries.push(e);
    if (this.format === 'vmtar') {
      if (e.type === 'file' && e.offset && e.size > 0) this.headersEnd = Math.min(this.headersEnd, e.offset);
    } else if (e.type === 'file') this.skip = Math.ceil(e.size / BLOCK) * BLOCK;
  }
}
