/**
 * `dudkit inspect` for an initrd or an initrd overlay (cpio, gzip/xz/zstd/bzip2 cpio, or a
 * concatenation as the kernel unpacks it): every segment and member; the driver disk images inside
 * (`dd*.iso`, `dd*.img`) are spooled out and inspected and verified in turn.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Context } from '../context.js';
import { decompress, detectCompression, type Compression } from '../formats/compress/index.js';
import { readCpio, readInitrd, type InitrdCompression } from '../formats/cpio/index.js';
import { inspectPath, type Inspector, type Report } from '../inspectors.js';
import { Scratch } from '../tree/scratch.js';
import { verifyMedium } from '../verify/index.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const NESTED_DISK = /^dd[^/]*\.(iso|img)$/;
const READABLE: readonly InitrdCompression[] = ['gzip', 'xz', 'zstd', 'bzip2'];

interface Segment {
  /** Offset of the segment in the file. */
  offset: number;
  compression: InitrdCompression | 'none';
  members: { name: string; mode: string; size: number; uid: number; gid: number; archiveOffset: number }[];
  /** Why reading stopped early, if it did. */
  unread?: string;
}

interface Nested {
  member: string;
  inspect: { kind: string } & Record<string, unknown>;
  verify: { kind: string; ok: boolean; errors: string[] } | { error: string };
  text: string;
}

function modeString(mode: number): string {
  const type = { 0o040000: 'd', 0o120000: 'l', [S_IFREG]: '-' }[mode & S_IFMT] ?? '?';
  let s = type;
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? 'rwx'[i % 3] : '-';
  return s;
}

/** Whether the first bytes are a cpio, or a compressed stream whose content starts with one. */
async function startsWithCpio(head: Uint8Array): Promise<boolean> {
  const magic = (b: Uint8Array) => Buffer.from(b.subarray(0, 4)).toString('latin1') === '0707';
  if (magic(head)) return true;
  const kind: Compression = detectCompression(head);
  if (kind === 'none') return false;
  const parts: Uint8Array[] = [];
  try {
    for await (const c of decompress([head], kind)) {
      parts.push(c);
      if (Buffer.concat(parts).length >= 6) break;
    }
  } catch {
    // the 64 KiB head ends mid-stream; what came out before is enough
  }
  return magic(Buffer.concat(parts));
}

/**
 * An odc archive (`cpio -c` on Debian), which the kernel's walk refuses: listed with the plain
 * cpio reader as one segment, so the user sees what it holds and why it is not unpacked.
 */
async function odcSegment(path: string): Promise<Segment> {
  const compression = detectCompression(await readHead(path));
  const segment: Segment = { offset: 0, compression, members: [], unread: 'odc cpio (070707): the kernel rejects it ("incorrect cpio method used: use -H newc option")' };
  for await (const { entry } of readCpio(decompress(createReadStream(path), compression))) {
    segment.members.push({ name: entry.name, mode: modeString(entry.mode), size: entry.size, uid: entry.uid, gid: entry.gid, archiveOffset: 0 });
  }
  return segment;
}

async function readHead(path: string): Promise<Uint8Array> {
  for await (const c of createReadStream(path, { end: 5 })) return c as Uint8Array;
  return new Uint8Array(0);
}

export async function inspectInitrd(path: string, ctx: Context): Promise<Report> {
  try {
    return await walkInitrd(path, ctx);
  } catch (err) {
    if (!/^odc cpio archive at offset 0:/.test((err as Error).message)) throw err;
    const segment = await odcSegment(path);
    const text = [`cpio archive that the kernel does not unpack: ${segment.unread}`, ...segment.members.map((m) => `  ${m.mode} ${m.uid}/${m.gid} ${String(m.size).padStart(12)} ${m.name}`)];
    return { kind: 'initrd', json: { segments: [segment], nested: [] }, text: text.join('\n') };
  }
}

async function walkInitrd(path: string, ctx: Context): Promise<Report> {
  return Scratch.with(async (scratch) => {
    ctx.progress.phase(`reading ${path}`);
    const segments: Segment[] = [];
    const spooled: { member: string; path: string }[] = [];
    let input: AsyncIterable<Uint8Array> = createReadStream(path);
    let segment: Segment = { offset: 0, compression: 'none', members: [] };
    for (;;) {
      segments.push(segment);
      const walk = readInitrd(input);
      let r = await walk.next();
      for (; !r.done; r = await walk.next()) {
        const { entry, data, archiveOffset } = r.value;
        segment.members.push({ name: entry.name, mode: modeString(entry.mode), size: entry.size, uid: entry.uid, gid: entry.gid, archiveOffset });
        if ((entry.mode & S_IFMT) === S_IFREG && NESTED_DISK.test(entry.name)) {
          const p = scratch.path(entry.name);
          await pipeline(Readable.from(data), createWriteStream(p));
          spooled.push({ member: entry.name, path: p });
        }
      }
      const { compressed } = r.value;
      if (!compressed) break;
      if (segment.compression !== 'none') {
        // the decompressor consumed the rest of the file: what follows its stream is out of reach
        segment.unread = `a ${compressed.compression} stream inside the ${segment.compression} data is not followed`;
        break;
      }
      if (segment.members.length === 0) segments.pop(); // the file starts with the compressed stream
      const next: Segment = { offset: compressed.offset, compression: compressed.compression, members: [] };
      if (!READABLE.includes(compressed.compression)) {
        next.unread = `${compressed.compression} segments are not read`;
        segments.push(next);
        break;
      }
      input = decompress(compressed.rest, compressed.compression as Compression);
      segment = next;
    }

    const nested: Nested[] = [];
    for (const s of spooled) {
      const report = await inspectPath(s.path, ctx).catch((err: unknown) => ({ kind: 'unknown', json: { error: (err as Error).message.replace(`${s.path}: `, '') }, text: (err as Error).message.replace(`${s.path}: `, '') }));
      const verify = await verifyMedium(s.path).then(
        (v) => ({ kind: v.kind, ok: v.ok, errors: v.findings.filter((f) => f.severity === 'error').map((f) => `${f.subject ? `${f.subject}: ` : ''}${f.message}`) }),
        (err: unknown) => ({ error: (err as Error).message.replace(`${s.path}: `, '') }),
      );
      nested.push({ member: s.member, inspect: { kind: report.kind, ...(report.json as object) }, verify, text: report.text.replace(s.path, s.member) });
    }

    const lines: string[] = [`initrd with ${segments.length} segment(s)`];
    for (const seg of segments) {
      lines.push(`segment at offset ${seg.offset}: ${seg.compression === 'none' ? 'uncompressed' : seg.compression}, ${seg.members.length} member(s)${seg.unread ? ` (${seg.unread})` : ''}`);
      for (const m of seg.members) lines.push(`  ${m.mode} ${m.uid}/${m.gid} ${String(m.size).padStart(12)} ${m.name}`);
    }
    for (const n of nested) {
      const v = 'error' in n.verify ? `not a driver disk (${n.verify.error})` : `${n.verify.kind} driver disk, verify ${n.verify.ok ? 'OK' : `FAILED: ${n.verify.errors.join('; ')}`}`;
      lines.push('', `${n.member}: ${v}`, ...n.text.split('\n').map((l) => `  ${l}`));
    }
    return { kind: 'initrd', json: { segments, nested: nested.map(({ text: _text, ...rest }) => rest) }, text: lines.join('\n') };
  });
}

export const initrdInspector: Inspector = {
  kind: 'initrd',
  detect: (_path, head, isDirectory) => !isDirectory && startsWithCpio(head),
  inspect: inspectInitrd,
};
