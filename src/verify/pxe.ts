/**
 * `verify` for a PXE initrd overlay (`delivery.md` §4, §8): a newc cpio, gzip-compressed or not,
 * holding `dd.iso` / `dd<N>.iso` / `dd.img` / `dd.rpm` at its root, checked the way the kernel's
 * initramfs unpacker reads it; the disk images inside are spooled out and verified in turn.
 */
import { createReadStream } from 'node:fs';
import { decompress } from '../formats/compress/index.js';
import { type Compression } from '../formats/compress/magic.js';
import { readInitrd, type CpioEntry } from '../formats/cpio/index.js';
import { openRpm } from '../formats/rpm/read.js';
import type { CpioMedium } from '../media/medium.js';
import type { Verification, VerifyEnv } from '../readers/types.js';
import { tooLarge } from '../tree/bounded.js';
import { Scratch } from '../tree/scratch.js';
import { Findings, indent } from '../findings.js';
import { modeString, S_IFDIR, S_IFMT, S_IFREG } from '../formats/mode.js';

/** What the installers pick up from the initrd root (RHEL 7–10: `inst.dd=/<name>`; RHEL 5/6: `dd.img`). */
const DUD_MEMBER = /^dd[^/]*\.(iso|img|rpm)$/;

export interface PxeMember {
  name: string;
  mode: string;
  size: number;
  uid: number;
  gid: number;
}

export interface PxeDetails {
  compression: Compression;
  format?: string;
  /** Bytes of the uncompressed archive. */
  archiveSize?: number;
  members: PxeMember[];
  kernelArguments: { release: string; arguments: string }[];
  nested: { member: string; kind: string; ok: boolean; details: unknown; text: string }[];
}

/** How the installer finds a disk image the overlay carries (delivery.md §4: the argument is what the pxe layout prints). */
export function pxeFoundBy(member: string): string {
  if (member === 'dd.img') return 'the initrd: RHEL 5/6 load /dd.img from it without an argument (RHEL 7–10 need inst.dd=/dd.img)';
  return `inst.dd=/${member} on the installer's kernel command line (RHEL 7–10), with the overlay as a second initrd`;
}

function kernelArguments(members: string[]): PxeDetails['kernelArguments'] {
  const out: PxeDetails['kernelArguments'] = [];
  if (members.length > 0) out.push({ release: 'RHEL 7–10', arguments: members.map((m) => `inst.dd=/${m}`).join(' ') });
  if (members.includes('dd.img')) out.push({ release: 'RHEL 5/6', arguments: '(none: the installer loads /dd.img by itself; do not add dd=path:/dd.img)' });
  return out;
}

/** Verify an overlay; `env.verifyNested` checks each disk image inside. */
export async function verifyPxe(medium: CpioMedium, env: Pick<VerifyEnv, 'verifyNested'>): Promise<Verification<PxeDetails>> {
  const f = new Findings();
  const d: PxeDetails = { compression: medium.compression, members: [], kernelArguments: [], nested: [] };
  const done = (): Verification<PxeDetails> => ({ medium: medium.path, kind: 'pxe', ok: f.ok, findings: f.list, details: d });
  checkFormat(medium, f);
  if (!f.ok) return done();
  d.format = 'newc';
  return Scratch.with(async (scratch) => {
    const spooled = await walkArchive(medium, d, f, scratch);
    if (!spooled) return done();
    checkArchiveEnd(d, f);
    d.kernelArguments = kernelArguments(checkDiskNames(d, f));
    for (const s of spooled) await checkSpooled(s, env, d, f);
    return done();
  });
}

/** Compressor and cpio format, as the installer kernels' initramfs unpacker takes them. */
function checkFormat({ compression, magic }: CpioMedium, f: Findings): void {
  if (compression !== 'none' && compression !== 'gzip') {
    f.warning('PXE_COMPRESSOR', '', `${compression}-compressed: every RHEL kernel unpacks gzip initramfs segments, ${compression} only with CONFIG_RD_${compression.toUpperCase()}=y in the installer kernel; use gzip`);
  }
  if (magic === '070707') f.error('CPIO_ODC', '', 'odc cpio archive (070707): the kernel rejects it ("incorrect cpio method used: use -H newc option"); write newc (cpio -H newc)');
  else if (magic === '070702') f.error('CPIO_CRC', '', 'crc cpio archive (070702): the installer kernels reject it ("no cpio magic"); write newc (cpio -H newc)');
  else if (magic !== '070701') f.error('CPIO_NOT_NEWC', '', `no newc cpio archive${compression !== 'none' ? ` inside the ${compression} stream` : ''}: the kernel stops with "no cpio magic"`);
}

/**
 * Every member as the kernel unpacks it, the driver disk candidates spooled to `scratch`;
 * undefined when the archive breaks off (the kernel stops unpacking there).
 */
async function walkArchive({ path, compression }: CpioMedium, d: PxeDetails, f: Findings, scratch: Scratch): Promise<{ member: string; path: string }[] | undefined> {
  const dirs = new Set<string>();
  const inodes = new Map<number, string>();
  const spooled: { member: string; path: string }[] = [];
  try {
    const walk = readInitrd(decompress(createReadStream(path), compression));
    for (let r = await walk.next(); ; r = await walk.next()) {
      if (r.done) {
        d.archiveSize = r.value.end;
        if (r.value.compressed) f.warning('PXE_SEGMENT_FOLLOWS', '', `a ${r.value.compressed.compression} segment follows the archive at offset ${r.value.compressed.offset}; not checked`);
        return spooled;
      }
      const { entry, data } = r.value;
      d.members.push({ name: entry.name, mode: modeString(entry.mode), size: entry.size, uid: entry.uid, gid: entry.gid });
      checkMember(entry, dirs, inodes, f);
      if ((entry.mode & S_IFMT) === S_IFREG && DUD_MEMBER.test(entry.name)) {
        const p = await scratch.spool(data, entry.name, entry.name);
        spooled.push({ member: entry.name, path: p });
      }
    }
  } catch (err) {
    // dudkit's own limit, not a defect the kernel would stop at
    if (tooLarge(err)) throw err;
    f.error('CPIO_UNREADABLE', '', `${(err as Error).message}: the kernel stops unpacking there`);
    return undefined;
  }
}

/** One member's name, parent folder, owner and hard links, given the members before it. */
function checkMember(entry: CpioEntry, dirs: Set<string>, inodes: Map<number, string>, f: Findings): void {
  const type = entry.mode & S_IFMT;
  if (/^\.?\//.test(entry.name)) f.error('CPIO_LEADING_SLASH', entry.name, 'has a leading "/" or "./": write bare names (dd.iso)');
  const parent = entry.name.includes('/') ? entry.name.slice(0, entry.name.lastIndexOf('/')) : '';
  if (parent && !dirs.has(parent)) f.error('CPIO_NO_PARENT', entry.name, `is in ${parent}/, which has no directory entry before it: the kernel's unpacker does not create missing parents, so it is not unpacked`);
  if (type === S_IFDIR) dirs.add(entry.name.replace(/\/$/, ''));
  if (entry.uid !== 0 || entry.gid !== 0) f.warning('CPIO_OWNER', entry.name, `owned by ${entry.uid}:${entry.gid}, not root`);
  if (entry.nlink >= 2 && type !== S_IFDIR) {
    const other = inodes.get(entry.ino);
    if (other) f.warning('CPIO_HARD_LINK', entry.name, `nlink ${entry.nlink} and ino ${entry.ino} like ${other}: the kernel makes it a hard link to ${other}`);
    inodes.set(entry.ino, entry.name);
  }
}

/** The archive's length: a segment appended to an uncompressed one must start 4-aligned. */
function checkArchiveEnd(d: PxeDetails, f: Findings): void {
  if (d.archiveSize === undefined || d.archiveSize % 4 === 0) return;
  const msg = `the archive is ${d.archiveSize} bytes, not a multiple of 4`;
  if (d.compression === 'none') f.error('CPIO_ALIGNMENT', '', `${msg}: a segment appended after it is not found`);
  else f.warning('CPIO_ALIGNMENT', '', msg);
}

/** The members the installers pick up by name (returned), and the others at the root. */
function checkDiskNames(d: PxeDetails, f: Findings): string[] {
  const duds = d.members.filter((m) => m.mode.startsWith('-') && DUD_MEMBER.test(m.name)).map((m) => m.name);
  for (const m of d.members) if (m.mode.startsWith('-') && !m.name.includes('/') && !DUD_MEMBER.test(m.name)) f.info('PXE_OTHER_MEMBER', m.name, 'not a driver disk name (dd*.iso, dd.img, dd.rpm); only used if inst.dd= names it');
  if (duds.length === 0) f.error('PXE_NO_DISK', '', 'no dd.iso, dd<N>.iso, dd.img or dd.rpm at the archive root: the installer finds no driver disk in it');
  return duds;
}

/** A spooled driver disk member: a dd.rpm is opened as an RPM, a disk image verified in turn. */
async function checkSpooled(s: { member: string; path: string }, env: Pick<VerifyEnv, 'verifyNested'>, d: PxeDetails, f: Findings): Promise<void> {
  if (s.member.endsWith('.rpm')) {
    try {
      const pkg = await openRpm(s.path);
      f.info('PXE_RPM', s.member, `${pkg.nevra}: RHEL 7–10 install it with inst.dd=/${s.member}; RHEL 5/6 take only disk images`);
    } catch (err) {
      f.error('PXE_RPM_UNREADABLE', s.member, `not an RPM the installer can read (${(err as Error).message.replace(`${s.path}: `, '')})`);
    }
    return;
  }
  try {
    const r = await env.verifyNested(s.path, s.member, pxeFoundBy(s.member));
    d.nested.push({ member: s.member, kind: r.kind, ok: r.ok, details: r.details, text: indent(r.account) });
    f.nested(s.member, r.findings);
  } catch (err) {
    f.error('NESTED_UNREADABLE', s.member, (err as Error).message.replace(`${s.path}: `, ''));
  }
}

export function pxeText(path: string, d: PxeDetails): string {
  const lines = [`${path}: PXE initrd overlay, ${d.compression === 'none' ? 'uncompressed' : d.compression}${d.format ? `, ${d.format} cpio` : ''}${d.archiveSize !== undefined ? ` of ${d.archiveSize} bytes` : ''}`];
  for (const m of d.members) lines.push(`  ${m.mode} ${String(m.size).padStart(12)} ${m.name}`);
  for (const k of d.kernelArguments) lines.push(`kernel arguments (${k.release}): ${k.arguments}`);
  for (const n of d.nested) lines.push(`${n.member}: ${n.kind} disk, ${n.ok ? 'OK' : 'FAILED'}`, n.text);
  return lines.join('\n');
}
