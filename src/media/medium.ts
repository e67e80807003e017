/**
 * A medium opened for reading, whatever it is stored as (a folder, an ISO image, or a FAT image,
 * bare or in an MBR partition): its file list and each file's bytes, as the installers see them.
 * A cpio archive (an initrd or overlay, compressed or not) opens as a stream to read front to
 * back, the way the kernel unpacks it. `inspect` and `verify` work on these.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, readingFile, UserError, userErrorFor } from '../errors.js';
import { decompress } from '../formats/compress/index.js';
import { detectCompression, type Compression } from '../formats/compress/magic.js';
import { FatReader, type FatFileRead } from '../formats/fat/index.js';
import { isoEntrySource, IsoReader } from '../formats/iso9660/read.js';
import { walkFolder } from '../tree/folder.js';
import { sliceSource, type Source } from '../tree/source.js';

export interface MediumFile {
  /** `/`-separated, relative to the medium's root. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  mode: number;
  target?: string;
}

/** Where a file's bytes lie, contiguous, in a file on disk (readers that seek use this). */
export interface Location {
  file: string;
  offset: number;
  size: number;
}

export interface OpenedMedium {
  kind: 'directory' | 'iso' | 'fat';
  path: string;
  /** Volume label (ISO volume id, FAT root-directory label), when the medium has one. */
  label?: string;
  files: MediumFile[];
  get(path: string): MediumFile | undefined;
  locate(path: string): Location;
  source(path: string): Source;
  close(): Promise<void>;
}

async function walkDirectory(root: string): Promise<MediumFile[]> {
  const out: MediumFile[] = [];
  for (const e of await walkFolder(root)) {
    if (e.type === 'symlink') out.push({ path: e.rel, type: 'symlink', size: 0, mode: e.mode, target: e.target });
    else if (e.type !== 'other') out.push({ path: e.rel, type: e.type, size: e.size, mode: e.mode });
  }
  return out;
}

function indexed(files: MediumFile[]): (path: string) => MediumFile | undefined {
  const map = new Map(files.map((f) => [f.path, f]));
  return (p) => map.get(p);
}

/**
 * A member's bytes on the image, refused when they lie past its end (a short image) rather than
 * found missing half-way through a read.
 */
function within(imageSize: number, member: string, l: Location): Location {
  if (l.offset + l.size > imageSize) throw new FormatError(`${member}: its data ends at byte ${l.offset + l.size}, past the end of the image (${imageSize} bytes): the image is cut short`);
  return l;
}

/** A FAT volume: long names as the installer's vfat driver shows them; files located by cluster run. */
async function openFat(path: string, imageSize: number): Promise<OpenedMedium> {
  const fat = await FatReader.open(path).catch((err: unknown) => {
    throw err instanceof FormatError ? new FormatError(`not an ISO 9660 or FAT image: ${err.message}`) : err;
  });
  const byPath = new Map<string, FatFileRead>();
  const files: MediumFile[] = [];
  try {
    for await (const e of fat.walk()) {
      byPath.set(e.path, e);
      files.push({ path: e.path, type: e.isDir ? 'dir' : 'file', size: e.isDir ? 0 : e.size, mode: e.isDir ? 0o040755 : 0o100644 });
    }
  } catch (err) {
    await fat.close();
    throw err;
  }
  const locate = (p: string): Location => {
    const e = byPath.get(p);
    if (!e || e.isDir) throw new UserError(`no file ${p} on the medium`, path);
    const runs = [...fat.chain(e.firstCluster, p)];
    if (runs.length > 1) throw new UserError(`${p} is fragmented on the FAT volume; not supported`, path);
    const g = fat.geometry;
    return within(imageSize, p, { file: path, offset: runs[0] ? g.firstDataByte + (runs[0].first - 2) * g.clusterBytes : 0, size: e.size });
  };
  return {
    kind: 'fat',
    path,
    ...(fat.info.label !== undefined ? { label: fat.info.label } : {}),
    files,
    get: indexed(files),
    locate,
    source: (p) => {
      const e = byPath.get(p);
      if (!e || e.isDir) throw new UserError(`no file ${p} on the medium`, path);
      return { size: e.size, origin: p, open: () => fat.read(e) };
    },
    close: () => fat.close(),
  };
}

async function isIso(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(6);
    await fh.read(b, 0, 6, 32768);
    return b[0] === 1 && b.toString('latin1', 1) === 'CD001';
  } finally {
    await fh.close();
  }
}

function openFolder(path: string, files: MediumFile[]): OpenedMedium {
  const get = indexed(files);
  const locate = (p: string): Location => {
    const f = get(p);
    if (!f || f.type !== 'file') throw new UserError(`no file ${p} on the medium`, path);
    return { file: join(path, p), offset: 0, size: f.size };
  };
  return { kind: 'directory', path, files, get, locate, source: (p) => sliceSource(join(path, p), 0, locate(p).size, p), close: async () => {} };
}

async function openIso(path: string, imageSize: number): Promise<OpenedMedium> {
  const iso = await IsoReader.open(path);
  let entries;
  try {
    entries = await iso.entries();
  } catch (err) {
    await iso.close();
    throw err;
  }
  const files: MediumFile[] = entries.map((e) => ({ path: e.path, type: e.type, size: e.size, mode: e.mode, ...(e.target !== undefined ? { target: e.target } : {}) }));
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const locate = (p: string): Location => {
    const e = byPath.get(p);
    if (!e || e.type !== 'file') throw new UserError(`no file ${p} on the medium`, path);
    if (e.extents.length > 1) throw new UserError(`${p} is stored in several extents; not supported`, path);
    // a byte range of the image is what callers copy or hand on: a compressed file has none
    if (e.zisofs) throw new UserError(`${p} is stored zisofs-compressed (Rock Ridge ZF): not usable as a byte range of the image`, path);
    return within(imageSize, p, { file: path, offset: (e.extents[0]?.lba ?? 0) * 2048, size: e.size });
  };
  return {
    kind: 'iso',
    path,
    label: iso.volume.volumeId,
    files,
    get: indexed(files),
    locate,
    source: (p) => {
      const e = byPath.get(p);
      if (e?.zisofs) return { ...isoEntrySource(path, e), origin: p };
      const l = locate(p);
      return sliceSource(l.file, l.offset, l.size, p);
    },
    close: () => iso.close(),
  };
}

/** A cpio archive or initrd: read as a stream (its members are walked by the reader that wins). */
export interface CpioMedium {
  kind: 'cpio';
  path: string;
  /** How the file is compressed as a whole ('none': the archive starts at byte 0). */
  compression: Compression;
  /** The archive's first six bytes: 070701 newc, 070702 crc, 070707 odc. */
  magic: string;
}

export type Opened = OpenedMedium | CpioMedium;

/** The first bytes of the file's data, through its compressor when it has one (the rest is not read). */
async function dataHead(path: string, compression: Compression, n: number): Promise<string> {
  const parts: Uint8Array[] = [];
  let got = 0;
  try {
    for await (const c of decompress(createReadStream(path), compression)) {
      parts.push(c);
      got += c.length;
      if (got >= n) break;
    }
  } catch {
    // corrupt data: what came out before is enough, the full read reports the rest
  }
  return Buffer.concat(parts).subarray(0, n).toString('latin1');
}

/**
 * The one initrd sniffer: a cpio magic at the start of the file, or a compressed stream whose
 * data starts with one (the kernel's initramfs unpacker takes both).
 */
export async function sniffCpio(path: string, head: Uint8Array): Promise<CpioMedium | undefined> {
  const compression = detectCompression(head);
  const magic = compression === 'none' ? Buffer.from(head.subarray(0, 6)).toString('latin1') : await dataHead(path, compression, 6);
  return magic.startsWith('0707') ? { kind: 'cpio', path, compression, magic } : undefined;
}

/** Open whatever a path holds as a medium: a folder, a cpio archive (by content), an ISO or FAT image. */
export async function openAny(path: string, head: Uint8Array, isDirectory: boolean): Promise<Opened> {
  if (!isDirectory) {
    const cpio = await sniffCpio(path, head);
    if (cpio) return cpio;
  }
  return openMedium(path);
}

/**
 * Open a folder, an ISO image (`CD001` at byte 32769) or a FAT image (decided by content). A
 * damaged medium (bad directory records, loops, cut short…) is a UserError naming it.
 */
export async function openMedium(path: string): Promise<OpenedMedium> {
  const medium = await readingFile(path, async () => {
    const st = await stat(path);
    if (st.isDirectory()) return openFolder(path, await walkDirectory(path));
    return (await isIso(path)) ? await openIso(path, st.size) : await openFat(path, st.size);
  });
  return { ...medium, source: (p) => naming(path, medium.source(p)) };
}

/** A member's bytes whose read errors name the medium too: `dd.iso: update.xml: …`. */
function naming(medium: string, s: Source): Source {
  return {
    ...s,
    async *open() {
      try {
        yield* s.open();
      } catch (err) {
        throw err instanceof UserError ? new UserError(err.message, medium) : (userErrorFor(err, medium) ?? err);
      }
    },
  };
}
