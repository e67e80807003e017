/**
 * ISO 9660 reader: volume descriptors, the Rock Ridge tree (else Joliet, else plain ECMA-119
 * names), multi-extent files, the El Torito catalog and the hybrid system area. Reads blocks
 * on demand with positional reads; file contents are returned as slice sources, never loaded.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError } from '../../errors.js';
import { sliceSource, type Source } from '../../tree/source.js';
import { BOOT_INFO_BYTES } from './eltorito.js';
import { decodeSystemArea, type MbrPartition } from './hybrid.js';
import { BLOCK, readAscii, readDescDate, readDirDate, readLe16, readLe32 } from './numbers.js';
import { decodeZf, type ZisofsInfo, zisofsSource } from './zisofs.js';

/** An ISO image by its first 64 KiB: the primary volume descriptor (`1`, `CD001`) at byte 32768. */
export function isIsoHead(head: Uint8Array): boolean {
  return head.length >= 32774 && head[32768] === 1 && Buffer.from(head.subarray(32769, 32774)).toString('latin1') === 'CD001';
}

export interface IsoExtent {
  readonly lba: number;
  readonly size: number;
}

export interface IsoEntry {
  /** Path below the root, `/`-separated, no leading slash. */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  /** Full st_mode from Rock Ridge `PX` (synthesised without Rock Ridge). */
  readonly mode: number;
  /** Bytes of the file as read: for a zisofs file its real (uncompressed) size. */
  readonly size: number;
  readonly extents: readonly IsoExtent[];
  /** Set for a file stored compressed (Rock Ridge `ZF`): what is stored, and how. */
  readonly zisofs?: ZisofsInfo & { readonly storedSize: number };
  readonly target?: string;
  /** Modification time (seconds): `TF` when present, else the record date. */
  readonly mtime: number;
}

export interface IsoBootEntry {
  readonly platform: 'bios' | 'uefi' | 'powerpc' | 'mac' | string;
  readonly bootable: boolean;
  readonly emulation: 'none' | '1.2M floppy' | '1.44M floppy' | '2.88M floppy' | 'hard disk';
  readonly loadSectors: number;
  readonly lba: number;
}


export interface IsoVolume {
  readonly volumeId: string;
  readonly systemId: string;
  readonly publisher: string;
  readonly preparer: string;
  readonly application: string;
  /** Volume space size in 2048-byte blocks. */
  readonly volumeBlocks: number;
  readonly rockRidge: boolean;
  readonly joliet: boolean;
  readonly jolietVolumeId?: string;
  /** Modification date of the volume as text (`YYYYMMDDhhmmsscc`). */
  readonly modified: string;
}

const PLATFORMS: Record<number, string> = { 0: 'bios', 1: 'powerpc', 2: 'mac', 0xef: 'uefi' };
const EMULATION = ['none', '1.2M floppy', '1.44M floppy', '2.88M floppy', 'hard disk'] as const;
/** Linux gives up after 32 continuation areas for one record (fs/isofs/rock.c RR_MAX_CE_ENTRIES). */
const MAX_CE_CHAIN = 32;
/** libarchive's limit; Linux has none, but real trees stay far below it. */
const MAX_DEPTH = 1000;
/** No real directory extent comes near this; a larger one is a damaged image. */
const MAX_DIRECTORY_BYTES = 64 << 20;

interface RawRecord {
  lba: number;
  size: number;
  flags: number;
  id: Uint8Array;
  date: number;
  su: Uint8Array;
}

interface RockRidgeInfo {
  name?: string;
  mode?: number;
  target?: string;
  mtime?: number;
  childLink?: number;
  zisofs?: ZisofsInfo;
  relocated: boolean;
  er: boolean;
  sp: boolean;
}

function parseRecords(extent: Uint8Array): RawRecord[] {
  const out: RawRecord[] = [];
  let pos = 0;
  while (pos < extent.length) {
    const len = extent[pos]!;
    if (len === 0) {
      pos = (Math.floor(pos / BLOCK) + 1) * BLOCK;
      continue;
    }
    if (len < 34 || pos + len > extent.length) throw new FormatError(`bad directory record length ${len} at offset ${pos}`);
    const lenFi = extent[pos + 32]!;
    if (33 + lenFi > len) throw new FormatError(`directory record identifier runs past the record at offset ${pos}`);
    const suStart = pos + 33 + lenFi + (lenFi % 2 === 0 ? 1 : 0);
    out.push({
      lba: readLe32(extent, pos + 2),
      size: readLe32(extent, pos + 10),
      date: readDirDate(extent, pos + 18),
      flags: extent[pos + 25]!,
      id: extent.subarray(pos + 33, pos + 33 + lenFi),
      su: extent.subarray(Math.min(suStart, pos + len), pos + len),
    });
    pos += len;
  }
  return out;
}

/**
 * A file of the image at `image` as a Source, usable after the reader is closed: one file range
 * when its extents are contiguous (as writers lay out multi-extent files), else the sections in
 * order; a zisofs file decompressed.
 */
export function isoEntrySource(image: string, e: IsoEntry): Source {
  const origin = `${image}:/${e.path}`;
  if (e.zisofs) return zisofsSource(storedSource(image, e, origin), e.zisofs, origin);
  return storedSource(image, e, origin);
}

/** The bytes of a file as stored in its extents. */
function storedSource(image: string, e: IsoEntry, origin: string): Source {
  const size = e.extents.reduce((n, x) => n + x.size, 0);
  const first = e.extents[0]?.lba ?? 0;
  let next = first;
  for (const x of e.extents) {
    if (x.lba !== next) {
      const parts = e.extents.map((y) => sliceSource(image, y.lba * BLOCK, y.size, origin));
      return {
        size,
        origin,
        async *open() {
          for (const p of parts) yield* p.open();
        },
      };
    }
    next = x.lba + x.size / BLOCK;
  }
  return sliceSource(image, first * BLOCK, size, origin);
}

/** Open an ISO image for reading; call `close()` when done. */
export class IsoReader {
  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    readonly volume: IsoVolume,
    private readonly root: IsoExtent,
    private readonly jolietRoot: IsoExtent | undefined,
    /** Block of the El Torito boot catalog (named by the boot record), when the image has one. */
    readonly catalogLba: number | undefined,
    private readonly suSkip: number,
  ) {}

  static async open(path: string): Promise<IsoReader> {
    const fh = await open(path, 'r');
    try {
      const read = async (lba: number, n = 1) => {
        const b = Buffer.alloc(n * BLOCK);
        const { bytesRead } = await fh.read(b, 0, b.length, lba * BLOCK);
        if (bytesRead < b.length) throw new FormatError(`image ends before block ${lba + n}`);
        return b;
      };
      let pvd: Buffer | undefined;
      let svd: Buffer | undefined;
      let catalogLba: number | undefined;
      for (let lba = 16; lba < 16 + 64; lba++) {
        const d = await read(lba);
        if (d.toString('latin1', 1, 6) !== 'CD001') throw new FormatError(`no ISO 9660 volume descriptor at block ${lba}`);
        if (d[0] === 255) break;
        if (d[0] === 1 && !pvd) pvd = d;
        if (d[0] === 2 && d[88] === 0x25 && d[89] === 0x2f && [0x40, 0x43, 0x45].includes(d[90]!)) svd = d;
        if (d[0] === 0 && d.toString('latin1', 7, 30) === 'EL TORITO SPECIFICATION') catalogLba = readLe32(d, 71);
      }
      if (!pvd) throw new FormatError('no primary volume descriptor');
      const rootOf = (d: Buffer) => ({ lba: readLe32(d, 156 + 2), size: readLe32(d, 156 + 10) });
      const root = rootOf(pvd);
      // Rock Ridge: SP in the root's "." record, ER there or in its continuation area
      const rootDot = parseRecords(await read(root.lba))[0];
      const probe = new IsoReader(path, fh, {} as IsoVolume, root, undefined, catalogLba, 0);
      const rr = rootDot ? await probe.rockRidge(rootDot.su) : undefined;
      const rockRidge = Boolean(rr?.sp && rr.er);
      const volume: IsoVolume = {
        volumeId: readAscii(pvd, 40, 32),
        systemId: readAscii(pvd, 8, 32),
        publisher: readAscii(pvd, 318, 128),
        preparer: readAscii(pvd, 446, 128),
        application: readAscii(pvd, 574, 128),
        volumeBlocks: readLe32(pvd, 80),
        rockRidge,
        joliet: Boolean(svd),
        ...(svd ? { jolietVolumeId: Buffer.from(svd.subarray(40, 72)).swap16().toString('utf16le').replace(/[ \0]+$/, '') } : {}),
        modified: pvd.toString('latin1', 830, 846),
      };
      return new IsoReader(path, fh, volume, root, svd ? rootOf(svd) : undefined, catalogLba, 0);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private async readBytes(offset: number, length: number): Promise<Buffer> {
    const b = Buffer.alloc(length);
    const { bytesRead } = await this.fh.read(b, 0, length, offset);
    if (bytesRead < length) throw new FormatError(`image ends before byte ${offset + length}`);
    return b;
  }

  /**
   * Parse the SUSP entries of one record, following `CE` continuation areas: one that leads back
   * to an area already read, or a chain longer than Linux follows, is refused (a listing would
   * otherwise hide what the kernel cannot read).
   */
  private async rockRidge(su: Uint8Array, where = '/'): Promise<RockRidgeInfo> {
    const info: RockRidgeInfo = { relocated: false, er: false, sp: false };
    let name = '';
    let hasName = false;
    const link: string[] = [];
    let linkPart = '';
    let area: Uint8Array | undefined = su.subarray(this.suSkip);
    const visited = new Set<string>();
    for (let hops = 0; area; hops++) {
      let next: { lba: number; off: number; len: number } | undefined;
      let p = 0;
      while (p + 4 <= area.length) {
        const sig = String.fromCharCode(area[p]!, area[p + 1]!);
        const len = area[p + 2]!;
        if (len < 4 || p + len > area.length) break;
        const e = area.subarray(p, p + len);
        switch (sig) {
          case 'SP':
            info.sp = e[4] === 0xbe && e[5] === 0xef;
            break;
          case 'ER':
            info.er = true;
            break;
          case 'CE':
            next = { lba: readLe32(e, 4), off: readLe32(e, 12), len: readLe32(e, 20) };
            break;
          case 'PX':
            info.mode = readLe32(e, 4);
            break;
          case 'NM':
            if ((e[4]! & 0x06) === 0) {
              name += Buffer.from(e.subarray(5)).toString('utf8');
              hasName = true;
            }
            break;
          case 'SL': {
            let q = 5;
            while (q + 2 <= e.length) {
              const flags = e[q]!;
              const clen = e[q + 1]!;
              const text = Buffer.from(e.subarray(q + 2, q + 2 + clen)).toString('utf8');
              if (flags & 0x08) link.push('');
              else if (flags & 0x02) linkPart += '.';
              else if (flags & 0x04) linkPart += '..';
              else linkPart += text;
              if (!(flags & 0x08) && !(flags & 0x01)) {
                link.push(linkPart);
                linkPart = '';
              }
              q += 2 + clen;
            }
            break;
          }
          case 'TF': {
            const flags = e[4]!;
            const long = (flags & 0x80) !== 0;
            let q = 5;
            for (let bit = 0; bit < 7; bit++) {
              if (!(flags & (1 << bit))) continue;
              if (bit === 1) info.mtime = long ? readDescDate(e, q) : readDirDate(e, q);
              q += long ? 17 : 7;
            }
            break;
          }
          case 'CL':
            info.childLink = readLe32(e, 4);
            break;
          case 'RE':
            info.relocated = true;
            break;
          case 'ZF':
            info.zisofs = decodeZf(e);
            break;
        }
        if (sig === 'ST') break;
        p += len;
      }
      if (next && next.off + next.len <= BLOCK) {
        const key = `${next.lba}:${next.off}`;
        if (visited.has(key)) throw new FormatError(`Rock Ridge continuation loop in the record of ${where}: CE points back to block ${next.lba} offset ${next.off}`);
        if (hops === MAX_CE_CHAIN) throw new FormatError(`Rock Ridge record of ${where} has more than ${MAX_CE_CHAIN} continuation areas (Linux reads no more)`);
        visited.add(key);
        area = await this.readBytes(next.lba * BLOCK + next.off, next.len);
      } else area = undefined;
    }
    if (hasName) info.name = name;
    if (link.length > 0 || linkPart) {
      if (linkPart) link.push(linkPart);
      info.target = link.length === 1 && link[0] === '' ? '/' : link.join('/');
    }
    return info;
  }

  /** Every entry of the tree, parents first: Rock Ridge names when present, else Joliet, else ECMA. */
  async entries(): Promise<IsoEntry[]> {
    const useJoliet = !this.volume.rockRidge && this.jolietRoot !== undefined;
    const out: IsoEntry[] = [];
    const seen = new Set<number>();
    const walk = async (dir: IsoExtent, prefix: string, depth: number): Promise<void> => {
      // relocated trees (CL/PL/RE) may be deeper than ECMA-119's 8 levels: only a loop or an absurd depth stops the walk
      if (seen.has(dir.lba)) throw new FormatError(`directory loop at block ${dir.lba} (/${prefix})`);
      if (depth > MAX_DEPTH) throw new FormatError(`directory tree deeper than ${MAX_DEPTH} levels at /${prefix.slice(0, 200)}…`);
      if (dir.size > MAX_DIRECTORY_BYTES) throw new FormatError(`directory /${prefix} claims ${dir.size} bytes`);
      seen.add(dir.lba);
      const records = parseRecords(await this.readBytes(dir.lba * BLOCK, Math.ceil(dir.size / BLOCK) * BLOCK)).slice(2);
      const subdirs: [IsoExtent, string][] = [];
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const extents: IsoExtent[] = [{ lba: r.lba, size: r.size }];
        // multi-extent: sections up to the one without the flag
        let last = r;
        while (last.flags & 0x80 && i + 1 < records.length) {
          last = records[++i]!;
          extents.push({ lba: last.lba, size: last.size });
        }
        // (its Rock Ridge name is in the entries being read: messages name the ECMA-119 one)
        const ecmaName = Buffer.from(r.id).toString('latin1').replace(/;1$/, '').replace(/\.$/, '');
        const rr = this.volume.rockRidge ? await this.rockRidge(r.su, `/${prefix ? `${prefix}/` : ''}${ecmaName}`) : undefined;
        if (rr?.relocated) continue;
        let name: string;
        if (rr?.name !== undefined) name = rr.name;
        else if (useJoliet) name = Buffer.from(r.id).swap16().toString('utf16le').replace(/;1$/, '');
        else name = Buffer.from(r.id).toString('latin1').replace(/;1$/, '').replace(/\.$/, '');
        if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new FormatError(`bad file name ${JSON.stringify(name)} in ${prefix || '/'}`);
        const path = prefix ? `${prefix}/${name}` : name;
        const isDir = (r.flags & 0x02) !== 0 || rr?.childLink !== undefined;
        const fallbackMode = isDir ? 0o40555 : 0o100444;
        const mode = rr?.mode ?? fallbackMode;
        const mtime = rr?.mtime ?? r.date;
        if (isDir) {
          const ext = rr?.childLink !== undefined ? { lba: rr.childLink, size: 0 } : { lba: r.lba, size: r.size };
          out.push({ path, type: 'dir', mode, size: 0, extents: [], mtime });
          subdirs.push([ext, path]);
        } else if ((mode & 0o170000) === 0o120000 || rr?.target !== undefined) {
          out.push({ path, type: 'symlink', mode, size: 0, extents: [], target: rr?.target ?? '', mtime });
        } else {
          const stored = extents.reduce((n, e) => n + e.size, 0);
          const zisofs = rr?.zisofs ? { ...rr.zisofs, storedSize: stored } : undefined;
          out.push({ path, type: 'file', mode, size: zisofs ? zisofs.realSize : stored, extents, ...(zisofs ? { zisofs } : {}), mtime });
        }
      }
      for (const [ext, path] of subdirs) {
        const real = ext.size > 0 ? ext : await this.dirExtent(ext.lba);
        await walk(real, path, depth + 1);
      }
    };
    await walk(useJoliet ? this.jolietRoot! : this.root, '', 0);
    return out;
  }

  /** A relocated directory's extent size from its own "." record. */
  private async dirExtent(lba: number): Promise<IsoExtent> {
    const dot = parseRecords(await this.readBytes(lba * BLOCK, BLOCK))[0];
    return { lba, size: dot?.size ?? BLOCK };
  }

  /** The file's bytes as a Source (its extents, in order). */
  source(e: IsoEntry): Source {
    if (e.type !== 'file') throw new FormatError(`${e.path} is not a file`);
    return isoEntrySource(this.path, e);
  }

  /** El Torito entries (empty when not bootable). */
  async bootEntries(): Promise<IsoBootEntry[]> {
    if (this.catalogLba === undefined) return [];
    const c = await this.readBytes(this.catalogLba * BLOCK, BLOCK);
    if (c[0] !== 1 || c[30] !== 0x55 || c[31] !== 0xaa) throw new FormatError('El Torito catalog without a valid validation entry');
    let sum = 0;
    for (let i = 0; i < 32; i += 2) sum += readLe16(c, i);
    if ((sum & 0xffff) !== 0) throw new FormatError('El Torito validation entry checksum is wrong');
    const entry = (off: number, platform: number): IsoBootEntry => ({
      platform: PLATFORMS[platform] ?? `0x${platform.toString(16)}`,
      bootable: c[off] === 0x88,
      emulation: EMULATION[c[off + 1]! & 0x0f] ?? 'none',
      loadSectors: readLe16(c, off + 6),
      lba: readLe32(c, off + 8),
    });
    const out = [entry(32, c[1]!)];
    let off = 64;
    while (off + 32 <= BLOCK && (c[off] === 0x90 || c[off] === 0x91)) {
      const last = c[off] === 0x91;
      const platform = c[off + 1]!;
      const n = readLe16(c, off + 2);
      off += 32;
      for (let i = 0; i < n && off + 32 <= BLOCK; i++, off += 32) {
        while (c[off] === 0x44 && off + 32 <= BLOCK) off += 32; // extension entries
        out.push(entry(off, platform));
      }
      if (last) break;
    }
    return out;
  }

  /** MBR partitions and whether a GPT header follows (hybrid images). */
  async systemArea(): Promise<{ mbr: MbrPartition[]; gpt: boolean; signature?: number }> {
    const area = decodeSystemArea(await this.readBytes(0, 1024));
    if (area.kind !== 'mbr') return { mbr: [], gpt: false };
    return { mbr: area.partitions, gpt: area.gpt !== undefined, signature: area.signature };
  }

  /** The whole 32 KiB system area, for `decodeSystemArea` (blank only when all of it is zero). */
  async systemAreaBytes(): Promise<Uint8Array> {
    return this.readBytes(0, 16 * BLOCK);
  }

  /** Whether block `lba` holds a primary volume descriptor (partition 1's own, at block 32, of a partition-offset image). */
  async primaryDescriptorAt(lba: number): Promise<boolean> {
    const b = await this.readBytes(lba * BLOCK, 8);
    return b.length === 8 && b[0] === 1 && b.toString('latin1', 1, 6) === 'CD001' && b[6] === 1;
  }

  /** The first bytes of a boot image at `lba` that `bootInfoOf` reads. */
  async bootImageHead(lba: number, size: number): Promise<Uint8Array> {
    return this.readBytes(lba * BLOCK, size >= BOOT_INFO_BYTES ? BOOT_INFO_BYTES : 64);
  }
}
