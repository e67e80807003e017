/**
 * Reading an RPM file (rpm.md "Read procedure"): the lead and both headers with bounded reads,
 * then the payload streamed from its offset through the decompressor and the cpio reader. Only
 * the headers are ever held in memory.
 */
import { peek } from '../../tree/peek.js';
import { type FileHandle, open } from 'node:fs/promises';
import { asUserError, FormatError } from '../../errors.js';
import { sliceSource } from '../../tree/source.js';
import { decompress } from '../compress/index.js';
import { type Compression, detectCompression } from '../compress/magic.js';
import { type CpioEntry, readCpio } from '../cpio/index.js';
import { decodeHeader, type Header, headerSize } from './header.js';
import {
  changelog, dependencies, type DependencyKind, fileDigestAlgo, files, type RpmChangelogEntry, type RpmDependency, type RpmFile, type RpmScript, scripts,
} from './read-meta.js';
import { readStrippedCpio, STRIPPED_MAGIC } from './read-stripped.js';
import { LEAD, TAG } from './tags.js';

export interface RpmLead {
  major: number;
  minor: number;
  type: 'binary' | 'source';
  archnum: number;
  /** Informational `N-V-R` (cut to 65 bytes by the writer). */
  name: string;
  osnum: number;
  signatureType: number;
}

/** Decode and check the 96-byte lead: magic, major 3 or 4, header-style signature (5). */
export function decodeLead(buf: Uint8Array): RpmLead {
  if (buf.length < LEAD.SIZE) throw new FormatError(`not an RPM: ${buf.length} bytes, shorter than the 96-byte lead`);
  if (!LEAD.MAGIC.every((b, i) => buf[i] === b)) throw new FormatError('not an RPM: bad lead magic (expected edabeedb)');
  const dv = new DataView(buf.buffer, buf.byteOffset, LEAD.SIZE);
  const major = buf[4]!;
  if (major !== 3 && major !== 4) throw new FormatError(`lead: unsupported RPM format version ${major} (expected 3 or 4)`);
  const signatureType = dv.getUint16(78);
  if (signatureType !== LEAD.SIGNATURE_TYPE) throw new FormatError(`lead: signature type ${signatureType} (only header-style signatures, type 5, exist since rpm 3)`);
  const nameBytes = buf.subarray(10, 10 + LEAD.NAME_SIZE);
  const nul = nameBytes.indexOf(0);
  return {
    major,
    minor: buf[5]!,
    type: dv.getUint16(6) === LEAD.TYPE_SOURCE ? 'source' : 'binary',
    archnum: dv.getUint16(8),
    name: new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? nameBytes.length : nul)),
    osnum: dv.getUint16(76),
    signatureType,
  };
}

/** Padding after the signature header: to a multiple of 8 bytes. */
export function signaturePadding(sigLength: number): number {
  return (8 - (sigLength % 8)) % 8;
}

export interface PayloadMember {
  /** Name as stored (`./lib/…`; bare names in source packages; `./` + path for stripped members). */
  name: string;
  /** The header's file this member carries. */
  file: RpmFile;
  /** Data bytes (0 for directories, and for every hard link of a set but the last). */
  size: number;
  /** The newc header as read; null for rpm's stripped large-file members, whose metadata is `file`. */
  cpio: CpioEntry | null;
  data: AsyncIterable<Uint8Array>;
}

const COMPRESSORS: Record<string, Compression> = { gzip: 'gzip', xz: 'xz', zstd: 'zstd', bzip2: 'bzip2' };

/** An opened package: lead, headers, offsets, the metadata derived from the main header. */
export class RpmPackage {
  readonly name: string;
  readonly epoch: number | undefined;
  readonly version: string;
  readonly release: string;
  readonly arch: string;
  /** rpm's headerIsSource: SOURCEPACKAGE set, or no SOURCERPM. */
  readonly isSource: boolean;
  readonly provides: RpmDependency[];
  readonly requires: RpmDependency[];
  readonly conflicts: RpmDependency[];
  readonly obsoletes: RpmDependency[];
  readonly recommends: RpmDependency[];
  readonly suggests: RpmDependency[];
  readonly supplements: RpmDependency[];
  readonly enhances: RpmDependency[];
  readonly scripts: RpmScript[];
  readonly files: RpmFile[];
  readonly fileDigestAlgo: { id: number; name: string };
  readonly changelog: RpmChangelogEntry[];

  constructor(
    readonly path: string,
    /** Offset just past the package in `path`: its size, unless it is stored inside another file. */
    readonly fileSize: number,
    readonly lead: RpmLead,
    readonly signature: Header,
    readonly header: Header,
  ) {
    const h = header;
    const required = (tag: number, what: string): string => {
      const v = h.string(tag);
      if (!v) throw new FormatError(`header has no ${what}`);
      return v;
    };
    this.name = required(TAG.NAME, 'NAME');
    this.version = required(TAG.VERSION, 'VERSION');
    this.release = required(TAG.RELEASE, 'RELEASE');
    this.epoch = h.number(TAG.EPOCH);
    this.arch = h.string(TAG.ARCH) ?? '';
    this.isSource = h.has(TAG.SOURCEPACKAGE) || !h.has(TAG.SOURCERPM);
    const deps = (k: DependencyKind) => dependencies(h, k);
    this.provides = deps('provides');
    this.requires = deps('requires');
    this.conflicts = deps('conflicts');
    this.obsoletes = deps('obsoletes');
    this.recommends = deps('recommends');
    this.suggests = deps('suggests');
    this.supplements = deps('supplements');
    this.enhances = deps('enhances');
    this.scripts = scripts(h);
    this.files = files(h);
    this.fileDigestAlgo = fileDigestAlgo(h);
    this.changelog = changelog(h);
  }

  get headerStart(): number {
    return this.header.range.start;
  }
  get headerEnd(): number {
    return this.header.range.end;
  }
  get payloadOffset(): number {
    return this.header.range.end;
  }
  get payloadSize(): number {
    return this.fileSize - this.payloadOffset;
  }

  /** `[E:]V-R` */
  get evr(): string {
    return `${this.epoch !== undefined ? `${this.epoch}:` : ''}${this.version}-${this.release}`;
  }
  /** `N-[E:]V-R.A`, with `src` as the arch of source packages. */
  get nevra(): string {
    return `${this.name}-${this.evr}.${this.isSource ? 'src' : this.arch}`;
  }

  get summary(): string {
    return this.header.string(TAG.SUMMARY) ?? '';
  }
  get description(): string {
    return this.header.string(TAG.DESCRIPTION) ?? '';
  }
  get license(): string {
    return this.header.string(TAG.LICENSE) ?? '';
  }
  get group(): string | undefined {
    return this.header.string(TAG.GROUP);
  }
  get url(): string | undefined {
    return this.header.string(TAG.URL);
  }
  get vendor(): string | undefined {
    return this.header.string(TAG.VENDOR);
  }
  get packager(): string | undefined {
    return this.header.string(TAG.PACKAGER);
  }
  get buildtime(): number | undefined {
    return this.header.number(TAG.BUILDTIME);
  }
  get buildhost(): string | undefined {
    return this.header.string(TAG.BUILDHOST);
  }
  get sourcerpm(): string | undefined {
    return this.header.string(TAG.SOURCERPM);
  }
  get payloadFormat(): string {
    return this.header.string(TAG.PAYLOADFORMAT) ?? 'cpio';
  }
  /** PAYLOADCOMPRESSOR as written (rpm -qp shows an absent one as `(none)`). */
  get payloadCompressorTag(): string | undefined {
    return this.header.string(TAG.PAYLOADCOMPRESSOR);
  }
  /** The compressor rpm opens the payload with: the tag, or gzip when it is absent. */
  get payloadCompressor(): string {
    return this.payloadCompressorTag ?? 'gzip';
  }
  get payloadFlags(): string | undefined {
    return this.header.string(TAG.PAYLOADFLAGS);
  }

  /** The compressed payload bytes as stored. */
  rawPayload(): AsyncIterable<Uint8Array> {
    return sliceSource(this.path, this.payloadOffset, this.payloadSize).open();
  }

  /** The uncompressed payload (the cpio stream), decompressor chosen by tag and checked by magic. */
  async *cpioStream(): AsyncGenerator<Uint8Array> {
    if (this.payloadFormat !== 'cpio') throw new FormatError(`payload format ${this.payloadFormat} is not supported (only cpio)`);
    const kind = await this.payloadCompression();
    yield* decompress(this.rawPayload(), kind);
  }

  /** Which decompressor the payload needs: PAYLOADCOMPRESSOR cross-checked with the magic bytes. */
  async payloadCompression(): Promise<Compression> {
    const fh = await open(this.path, 'r');
    const head = new Uint8Array(6);
    let got: number;
    try {
      ({ bytesRead: got } = await fh.read(head, 0, 6, this.payloadOffset));
    } finally {
      await fh.close();
    }
    if (got === 0) throw new FormatError('no payload after the header');
    const magic = detectCompression(head.subarray(0, got));
    const tag = this.payloadCompressor;
    // legacy lzma_alone payloads: the xz decoder (liblzma's auto decoder) reads them too
    if (tag === 'lzma' && head[0] === 0x5d && head[1] === 0 && head[2] === 0) return 'xz';
    const named = COMPRESSORS[tag];
    if (named === undefined) throw new FormatError(`payload compressor ${tag} is not supported (gzip, xz, zstd, bzip2, lzma)`);
    if (magic === named) return named;
    // an uncompressed payload, written without PAYLOADCOMPRESSOR
    if (magic === 'none' && !this.header.has(TAG.PAYLOADCOMPRESSOR) && new TextDecoder().decode(head.subarray(0, 5)) === '07070') return 'none';
    throw new FormatError(`payload compressor is ${tag} but the payload starts with ${magic === 'none' ? 'no known compression magic' : `${magic} magic`}`);
  }

  /**
   * The payload's cpio members in order, each matched to its header file (rpm refuses members the
   * header does not list). Data left unread is skipped.
   */
  async *payloadEntries(): AsyncGenerator<PayloadMember> {
    const stream = this.cpioStream();
    try {
      for await (const m of this.members(stream)) yield { ...m, data: namingErrors(m.data, this.path) };
    } catch (err) {
      asUserError(err, this.path);
    } finally {
      // the cpio readers stop at TRAILER!!!; close the decompressor and the file behind it
      await stream.return(undefined);
    }
  }

  /** Members of a cpio stream of this package: newc/crc, or rpm's stripped form (by magic). */
  async *members(cpio: AsyncIterable<Uint8Array>): AsyncGenerator<PayloadMember> {
    const { head, stream } = await peek(cpio, 6);
    if (new TextDecoder().decode(head) === STRIPPED_MAGIC) {
      for await (const m of readStrippedCpio(stream, this.files)) {
        yield { name: `./${memberKey(m.file.path)}`, file: m.file, size: m.size, cpio: null, data: m.data };
      }
      return;
    }
    const byPath = new Map(this.files.map((f) => [memberKey(f.path), f]));
    for await (const { entry, data } of readCpio(stream)) {
      const file = byPath.get(memberKey(entry.name));
      if (!file) throw new FormatError(`payload member ${entry.name} is not in the header's file list`);
      yield { name: entry.name, file, size: entry.size, cpio: entry, data };
    }
  }
}

/** Member data fails where the consumer reads it: name the file there too. */
async function* namingErrors(data: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<Uint8Array> {
  try {
    yield* data;
  } catch (err) {
    asUserError(err, path);
  }
}

/**
 * Payload names may be `./path`, `/path` or `path` (source packages list bare names in both
 * places): match without the prefix.
 */
export function memberKey(name: string): string {
  return name.replace(/^\.?\/+/, '');
}

async function readAt(fh: FileHandle, offset: number, length: number, fileSize: number, what: string): Promise<Uint8Array> {
  if (offset + length > fileSize) throw new FormatError(`truncated in the ${what}: needs ${offset + length} bytes, the file has ${fileSize}`);
  const buf = new Uint8Array(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  if (bytesRead !== length) throw new FormatError(`truncated in the ${what}: read ${bytesRead} of ${length} bytes at offset ${offset}`);
  return buf;
}

/**
 * Open an RPM: lead, signature header, main header; errors name the file. `at` opens a package
 * stored inside another file (an RPM on an ISO image): its byte offset and length there.
 */
export async function openRpm(path: string, at?: { offset: number; size: number }): Promise<RpmPackage> {
  try {
    const fh = await open(path, 'r');
    try {
      const base = at?.offset ?? 0;
      const size = at ? base + at.size : (await fh.stat()).size;
      if (size - base < LEAD.SIZE) throw new FormatError(`not an RPM: ${size - base} bytes, shorter than the 96-byte lead`);
      const lead = decodeLead(await readAt(fh, base, LEAD.SIZE, size, 'lead'));
      const sigStart = base + LEAD.SIZE;
      const sigLength = headerSize(await readAt(fh, sigStart, 16, size, 'signature header'), 'signature');
      const sigBytes = await readAt(fh, sigStart, sigLength, size, 'signature header');
      const signature = decodeHeader(sigBytes, 0, 62, sigStart).header;
      const mainStart = sigStart + sigLength + signaturePadding(sigLength);
      const mainLength = headerSize(await readAt(fh, mainStart, 16, size, 'header'), 'main');
      const mainBytes = await readAt(fh, mainStart, mainLength, size, 'header');
      const header = decodeHeader(mainBytes, 0, 63, mainStart).header;
      return new RpmPackage(path, size, lead, signature, header);
    } finally {
      await fh.close();
    }
  } catch (err) {
    asUserError(err, path);
  }
}
