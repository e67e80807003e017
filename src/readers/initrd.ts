/**
 * Initrds and initrd overlays (cpio, gzip/xz/zstd/bzip2 cpio, or a concatenation as the kernel
 * unpacks it). `inspect`: every segment and member; the driver disk images inside (`dd*.iso`,
 * `dd*.img`) are spooled out and inspected and verified in turn. `verify`: the PXE overlay checks
 * (`verify/pxe.ts`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { counted } from '../formats/bytes.js';
import { decompress } from '../formats/compress/index.js';
import { type Compression } from '../formats/compress/magic.js';
import { displayName, readCpio, readInitrd, type InitrdCompression } from '../formats/cpio/index.js';
import { indent } from '../findings.js';
import type { CpioMedium, Opened } from '../media/medium.js';
import { Scratch } from '../tree/scratch.js';
import { pxeFoundBy, pxeText, verifyPxe, type PxeDetails } from '../verify/pxe.js';
import type { Inspection, ReadEnv, Reader } from './types.js';
import { modeString, S_IFMT, S_IFREG } from '../formats/mode.js';

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

/**
 * An odc archive (`cpio -c` on Debian), which the kernel's walk refuses: listed with the plain
 * cpio reader as one segment, so the user sees what it holds and why it is not unpacked.
 */
async function odcSegment({ path, compression }: CpioMedium): Promise<Segment> {
  const segment: Segment = { offset: 0, compression, members: [], unread: 'odc cpio (070707): the kernel rejects it ("incorrect cpio method used: use -H newc option")' };
  for await (const { entry } of readCpio(decompress(createReadStream(path), compression))) {
    segment.members.push({ name: displayName(entry.nameBytes), mode: modeString(entry.mode), size: entry.size, uid: entry.uid, gid: entry.gid, archiveOffset: 0 });
  }
  return segment;
}

export interface InitrdFacts {
  segments: Segment[];
  nested: Nested[];
  /** Why the kernel unpacks none of it (an odc archive), if it does not. */
  refused?: string;
}

async function walkInitrd(path: string, env: ReadEnv): Promise<Inspection<InitrdFacts>> {
  return Scratch.with(async (scratch) => {
    const { progress } = env.ctx;
    progress.phase(`reading ${path}`, (await stat(path)).size);
    const segments: Segment[] = [];
    const spooled: { member: string; path: string }[] = [];
    let input: AsyncIterable<Uint8Array> = counted(createReadStream(path), (n) => progress.advance(n));
    let segment: Segment = { offset: 0, compression: 'none', members: [] };
    for (;;) {
      segments.push(segment);
      const walk = readInitrd(input);
      let r = await walk.next();
      for (; !r.done; r = await walk.next()) {
        const { entry, data, archiveOffset } = r.value;
        segment.members.push({ name: displayName(entry.nameBytes), mode: modeString(entry.mode), size: entry.size, uid: entry.uid, gid: entry.gid, archiveOffset });
        if ((entry.mode & S_IFMT) === S_IFREG && NESTED_DISK.test(entry.name)) {
          const p = await scratch.spool(data, entry.name, entry.name);
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
      const bare = (err: unknown) => (err as Error).message.replace(`${s.path}: `, '');
      const report = await env.inspectNested(s.path, s.member).catch((err: unknown) => ({ kind: 'unknown', facts: { error: bare(err) }, text: bare(err) }));
      const verify = await env.verifyNested(s.path, s.member, pxeFoundBy(s.member)).then(
        (v) => ({ kind: v.kind, ok: v.ok, errors: v.findings.filter((f) => f.severity === 'error').map((f) => `${f.subject ? `${f.subject}: ` : ''}${f.message}`) }),
        (err: unknown) => ({ error: bare(err) }),
      );
      nested.push({ member: s.member, inspect: { kind: report.kind, ...(report.facts as object) }, verify, text: report.text });
    }
    return { kind: 'initrd', path, facts: { segments, nested }, findings: [] };
  });
}

function initrdText({ segments, nested, refused }: InitrdFacts): string {
  if (refused !== undefined) {
    return [`cpio archive that the kernel does not unpack: ${refused}`, ...segments.flatMap((s) => s.members).map((m) => `  ${m.mode} ${m.uid}/${m.gid} ${String(m.size).padStart(12)} ${m.name}`)].join('\n');
  }
  const lines: string[] = [`initrd with ${segments.length} segment(s)`];
  for (const seg of segments) {
    lines.push(`segment at offset ${seg.offset}: ${seg.compression === 'none' ? 'uncompressed' : seg.compression}, ${seg.members.length} member(s)${seg.unread ? ` (${seg.unread})` : ''}`);
    for (const m of seg.members) lines.push(`  ${m.mode} ${m.uid}/${m.gid} ${String(m.size).padStart(12)} ${m.name}`);
  }
  for (const n of nested) {
    const v = 'error' in n.verify ? `not a driver disk (${n.verify.error})` : `${n.verify.kind} driver disk, verify ${n.verify.ok ? 'OK' : `FAILED: ${n.verify.errors.join('; ')}`}`;
    lines.push('', `${n.member}: ${v}`, indent(n.text));
  }
  return lines.join('\n');
}

const ODC = '070707';

function cpioOf(opened: Opened | undefined): CpioMedium {
  if (opened?.kind !== 'cpio') throw new Error('the initrd reader was given no cpio medium');
  return opened;
}

export const initrdReader: Reader<InitrdFacts, PxeDetails> = {
  kind: 'initrd',
  bid: (_head, opened) => (opened?.kind === 'cpio' ? 100 : 0),
  async inspect(path, opened, env) {
    const cpio = cpioOf(opened);
    if (cpio.magic !== ODC) return walkInitrd(path, env);
    // the kernel's walk refuses it; the plain cpio reader lists what it holds
    const segment = await odcSegment(cpio);
    return { kind: 'initrd', path, facts: { segments: [segment], nested: [], refused: segment.unread! }, findings: [] };
  },
  verify: (_path, opened, env) => verifyPxe(cpioOf(opened), env),
  render: {
    inspect: (r) => initrdText(r.facts),
    json: ({ facts }) => ({ ...facts, nested: facts.nested.map(({ text: _text, ...rest }) => rest) }),
    verify: (r, name) => pxeText(name, r.details),
  },
};
