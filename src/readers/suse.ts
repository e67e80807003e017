/**
 * SUSE driver updates (`verify/suse.ts`) in every wrapping linuxrc, Agama or mkdud uses: a newc
 * cpio (plain, gzip, xz, zstd, bzip2), an ISO (also gzip'd or xz'd, mkdud's `iso.gz`), a folder,
 * an RPM, and mkdud's tar(.gz/.xz). Archives are unpacked into a scratch folder (names checked,
 * nothing written below a link) and read as a folder; the wrapping's own facts (member formats,
 * owners, compression, xz check, tar magic) go to the verifier, which applies the installers' rules.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, stat, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { FormatError } from '../errors.js';
import { decompress } from '../formats/compress/index.js';
import { detectCompression, type Compression } from '../formats/compress/magic.js';
import { readCpio, safeMemberPath } from '../formats/cpio/index.js';
import { readTar } from '../formats/tar/read.js';
import { IsoReader } from '../formats/iso9660/read.js';
import { openRpm } from '../formats/rpm/read.js';
import { LEAD } from '../formats/rpm/tags.js';
import { openAny, openMedium, type Opened, type OpenedMedium } from '../media/medium.js';
import { loadOpenpgp, PGP_CONFIG } from '../sign/key.js';
import { ReadBudget } from '../tree/bounded.js';
import { Scratch } from '../tree/scratch.js';
import { readHead } from './registry.js';
import { holdsSuseUpdate, suseText, verifySuse, type SuseDetails, type SuseWrapping } from '../verify/suse.js';
import type { Head, Reader } from './types.js';

const SUSE_PATH = /^(\.\/)?(\d+\/)?linux(\/suse(\/|$)|$)/;
const MAGIC: Record<string, string> = { newc: '070701', crc: '070702', odc: '070707', bin: 'c771' };
const XZ_CHECKS: Record<number, string> = { 0: 'none', 1: 'CRC32', 4: 'CRC64', 10: 'SHA-256' };

/**
 * Whether a cpio (through its compressor) holds a `linux/suse` tree: its first members are
 * folders up to it (`.`, `linux`, `01`, …). Stops at the first file with data, so a bid never
 * decompresses a whole archive.
 */
async function cpioHoldsUpdate(path: string, compression: Compression): Promise<boolean> {
  try {
    let seen = 0;
    for await (const { entry } of readCpio(decompress(createReadStream(path), compression))) {
      if (SUSE_PATH.test(entry.name) && entry.name !== 'linux' && entry.name !== './linux') return true;
      if (entry.size > 0 || ++seen > 8) return false;
    }
  } catch {
    // a damaged archive is the initrd reader's to report
  }
  return false;
}

/** The first bytes of the data, decompressed when the head is compressed. */
async function dataHead(path: string, head: Uint8Array, n: number): Promise<{ compression: Compression; bytes: Buffer }> {
  const compression = detectCompression(head);
  if (compression === 'none') return { compression, bytes: Buffer.from(head.subarray(0, n)) };
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const c of decompress(createReadStream(path), compression)) {
      parts.push(Buffer.from(c));
      got += c.length;
      if (got >= n) break;
    }
  } catch {
    // as above
  }
  return { compression, bytes: Buffer.concat(parts).subarray(0, n) };
}

type Form = 'cpio' | 'binary-cpio' | 'rpm' | 'tar' | 'image' | 'tree' | 'signed';

/** What the file is, when it is a SUSE update in a wrapping this reader unpacks. */
async function formOf(head: Head, opened: Opened | undefined): Promise<Form | undefined> {
  if (opened?.kind === 'cpio') return (await cpioHoldsUpdate(head.path, opened.compression)) ? 'cpio' : undefined;
  if (opened) return holdsSuseUpdate(opened) ? 'tree' : undefined;
  if (head.isDirectory) return undefined;
  // `gpg --sign` over the update: an OpenPGP compressed-data packet (linuxrc unwraps it with gpg)
  if (head.bytes[0] === 0xa3) return (await holdsSignedUpdate(head.path).catch(() => false)) ? 'signed' : undefined;
  if (head.bytes.length >= 4 && LEAD.MAGIC.every((b, i) => head.bytes[i] === b)) {
    const pkg = await openRpm(head.path).catch(() => undefined);
    return pkg?.files.some((f) => /^\/(\d+\/)?linux\/suse\//.test(f.path)) ? 'rpm' : undefined;
  }
  const { compression, bytes } = await dataHead(head.path, head.bytes, 32774);
  // the old binary cpio (linuxrc reads it): no initrd medium opens it
  if (((bytes[0] === 0xc7 && bytes[1] === 0x71) || (bytes[0] === 0x71 && bytes[1] === 0xc7)) && bytes.includes('linux/suse/')) return 'binary-cpio';
  // mkdud's tar starts with `./`: look for the tree's names in the first headers
  if (bytes.length >= 263 && bytes.toString('latin1', 257, 262) === 'ustar' && /(^|\0|\/)linux\/suse\//.test(bytes.toString('latin1', 0, Math.min(bytes.length, 16384)))) return 'tar';
  if (compression !== 'none' && bytes.length >= 32774 && bytes[32768] === 1 && bytes.toString('latin1', 32769, 32774) === 'CD001') return 'image';
  return undefined;
}

/**
 * The signed data of an inline-signed file, decompressed as it is read: the compressed-data
 * packet may hide a huge file in a small one, so it is never held whole.
 */
async function* signedData(path: string): AsyncGenerator<Uint8Array> {
  const openpgp = await loadOpenpgp();
  const file = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
  const message = await openpgp.readMessage({ binaryMessage: file, config: PGP_CONFIG });
  const { data } = await openpgp.verify({ message, verificationKeys: [], expectSigned: false, format: 'binary', config: PGP_CONFIG });
  yield* data as ReadableStream<Uint8Array>;
}

/** Whether an OpenPGP message holds a SUSE update: its first 64 KiB name the tree or are compressed. */
async function holdsSignedUpdate(path: string): Promise<boolean> {
  const parts: Uint8Array[] = [];
  let held = 0;
  for await (const chunk of signedData(path)) {
    parts.push(chunk);
    if ((held += chunk.length) >= 65536) break;
  }
  const start = Buffer.concat(parts);
  return start.includes('linux/suse') || detectCompression(start) !== 'none';
}

/** The xz stream's check, from its stream header (byte 7). */
async function xzCheck(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(8);
    await fh.read(b, 0, 8, 0);
    return XZ_CHECKS[b[7]! & 0x0f] ?? `check ${b[7]! & 0x0f}`;
  } finally {
    await fh.close();
  }
}

/** Write members into `root`: parents made, nothing below a link the archive made, every byte counted by the scratch's unpack limit. */
class Unpacker {
  private readonly links = new Set<string>();
  constructor(
    private readonly root: string,
    private readonly scratch: Scratch,
  ) {}

  private target(name: string): string | undefined {
    const p = safeMemberPath(name);
    if (p === '') return undefined;
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
      if (this.links.has(p.slice(0, i))) throw new FormatError(`member ${name} lies below the link ${p.slice(0, i)}: refused (extracting it would follow the link)`);
    }
    return p;
  }

  async dir(name: string): Promise<void> {
    const p = this.target(name);
    if (p !== undefined) await mkdir(join(this.root, p), { recursive: true });
  }

  async file(name: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<void> {
    const p = this.target(name);
    if (p === undefined) return;
    await mkdir(dirname(join(this.root, p)), { recursive: true });
    await this.scratch.unpackTo(join(this.root, p), data instanceof Uint8Array ? [data] : data, name);
  }

  /** `to` gets the bytes of the member `from`, written before. */
  async copy(from: string, to: string): Promise<void> {
    const a = this.target(from), b = this.target(to);
    if (a === undefined || b === undefined) return;
    // a hard-link set of many names costs its size once per name
    this.scratch.charge((await stat(join(this.root, a))).size, to);
    await mkdir(dirname(join(this.root, b)), { recursive: true });
    await copyFile(join(this.root, a), join(this.root, b));
  }

  async symlink(name: string, target: string): Promise<void> {
    const p = this.target(name);
    if (p === undefined) return;
    await mkdir(dirname(join(this.root, p)), { recursive: true });
    await symlink(target, join(this.root, p));
    this.links.add(p);
  }
}

const S_IFMT = 0o170000;

async function unpackCpio(path: string, compression: Compression, u: Unpacker, w: SuseWrapping): Promise<void> {
  const magic = new Set<string>();
  let first = true;
  // hard links (mkdud's `hardlink --content`): newc stores the data on the set's last member only
  const linked = new Map<string, string[]>();
  for await (const { entry, data } of readCpio(decompress(createReadStream(path), compression), { binary: true })) {
    magic.add(MAGIC[entry.format] ?? entry.format);
    if (first) w.dotFirst = entry.name === '.';
    first = false;
    if (entry.uid !== 0 || entry.gid !== 0) w.notRoot = (w.notRoot ?? 0) + 1;
    if (entry.name.startsWith('./') || entry.name.startsWith('/')) w.dotSlash = (w.dotSlash ?? 0) + 1;
    const type = entry.mode & S_IFMT;
    if (type === 0o040000) await u.dir(entry.name);
    else if (type === 0o120000) await u.symlink(entry.name, entry.linkTarget!);
    else if (type === 0o100000) {
      const set = `${entry.devMajor}:${entry.devMinor}:${entry.ino}`;
      if (entry.nlink > 1 && entry.size === 0) linked.set(set, [...(linked.get(set) ?? []), entry.name]);
      else {
        await u.file(entry.name, data);
        for (const other of linked.get(set) ?? []) await u.copy(entry.name, other);
        linked.delete(set);
      }
    }
  }
  // sets whose data never came are empty files, as cpio -i leaves them
  for (const names of linked.values()) for (const n of names) await u.file(n, new Uint8Array(0));
  w.magic = [...magic];
}

async function unpackRpm(path: string, u: Unpacker): Promise<void> {
  const pkg = await openRpm(path);
  for await (const m of pkg.payloadEntries()) {
    if (m.file.type === 'dir') await u.dir(m.name);
    else if (m.file.type === 'symlink') await u.symlink(m.name, m.file.linkTo);
    else if (m.file.type === 'file') await u.file(m.name, m.data);
  }
}

async function unpackTar(path: string, compression: Compression, u: Unpacker, w: SuseWrapping): Promise<void> {
  const listing = await readTar(decompress(createReadStream(path), compression), (name) => SUSE_PATH.test(name), new ReadBudget());
  w.magic = [...new Set(listing.members.map((m) => m.magic))];
  for (const m of listing.members) {
    if (m.uid !== 0 || m.gid !== 0) w.notRoot = (w.notRoot ?? 0) + 1;
    if (m.type === 'dir') await u.dir(m.name);
    else if (m.type === 'symlink') await u.symlink(m.name, m.linkTarget);
    else if (m.type === 'file') await u.file(m.name, listing.files.get(m.name) ?? new Uint8Array(0));
  }
}

/** The update as a folder or image and the facts of its wrapping, for `use`. */
async function withUpdate<T>(head: Head, opened: Opened | undefined, use: (medium: OpenedMedium, w: SuseWrapping) => Promise<T>): Promise<T> {
  const form = await formOf(head, opened);
  if (form === undefined) throw new Error('the SUSE reader was given no SUSE driver update');
  if (form === 'signed') {
    return Scratch.with(async (scratch) => {
      const inner = await scratch.spool(signedData(head.path), 'the signed data', 'update');
      const innerHead = await readHead(inner);
      const innerOpened = await openAny(inner, innerHead.bytes, false).catch(() => undefined);
      try {
        return await withUpdate(innerHead, innerOpened, (medium, w) => use(medium, { ...w, inlineSigned: true }));
      } finally {
        if (innerOpened && innerOpened.kind !== 'cpio') await innerOpened.close();
      }
    });
  }
  if (form === 'tree' && opened && opened.kind !== 'cpio') {
    const w: SuseWrapping = { form: opened.kind === 'iso' ? 'iso' : 'directory', compression: 'none' };
    if (opened.kind === 'iso') await isoIds(head.path, w);
    return use(opened, w);
  }
  return Scratch.with(async (scratch) => {
    const compression = opened?.kind === 'cpio' ? opened.compression : detectCompression(head.bytes);
    const w: SuseWrapping = { form: form === 'image' ? 'iso' : form === 'tree' ? 'directory' : form === 'binary-cpio' ? 'cpio' : form, compression };
    if (compression === 'xz') w.xzCheck = await xzCheck(head.path);
    if (form === 'image') {
      const image = await scratch.spool(decompress(createReadStream(head.path), compression), 'the image', 'update.iso');
      await isoIds(image, w);
      const medium = await openMedium(image);
      try {
        return await use(medium, w);
      } finally {
        await medium.close();
      }
    }
    const root = scratch.path('update');
    await mkdir(root);
    const u = new Unpacker(root, scratch);
    if (form === 'cpio' || form === 'binary-cpio') await unpackCpio(head.path, compression, u, w);
    else if (form === 'rpm') await unpackRpm(head.path, u);
    else await unpackTar(head.path, compression, u, w);
    return use(await openMedium(root), w);
  });
}

async function isoIds(path: string, w: SuseWrapping): Promise<void> {
  const iso = await IsoReader.open(path);
  try {
    w.volumeId = iso.volume.volumeId;
    if (iso.volume.application) w.application = iso.volume.application;
  } finally {
    await iso.close();
  }
}

export const suseReader: Reader<SuseDetails, SuseDetails> = {
  kind: 'suse',
  async bid(head, opened) {
    const form = await formOf(head, opened);
    // above the initrd and RPM readers (100) for archives, above rhdd3 (50) below XenServer packs for trees
    return form === undefined ? 0 : form === 'tree' ? 45 : 110;
  },
  async inspect(path, opened, { ctx }) {
    ctx.progress.phase(`reading ${path}`);
    const head = await readHead(path);
    return withUpdate(head, opened, async (medium, w) => {
      const { findings, details } = await verifySuse(medium, w, { kernels: [] });
      return { kind: 'suse', path, facts: details, findings: findings.list };
    });
  },
  async verify(path, opened, env) {
    const head = await readHead(path);
    return withUpdate(head, opened, async (medium, w) => {
      const { findings, details } = await verifySuse(medium, w, { kernels: env.kernels, dists: env.dists ?? [], ...(env.key ? { key: env.key, file: path } : {}) });
      return { medium: path, kind: 'suse', ok: findings.ok, findings: findings.list, details };
    });
  },
  render: {
    inspect: (r, name) => suseText(name, r.facts),
    verify: (r, name) => suseText(name, r.details),
  },
};
