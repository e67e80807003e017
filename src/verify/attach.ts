/**
 * `verify` for an installer ISO with a driver disk attached (`delivery.md` §6.2, §8 checks 10–15):
 * every kernel line of every boot configuration (and of the GRUB copy inside the UEFI boot image)
 * carries `inst.dd=hd:LABEL=<escaped volume id>`, no `inst.dd=` names a path on a device (never
 * found), a kickstart named by `inst.ks=hd:LABEL=…:/<name>` is there, the media-check MD5 passes,
 * and each top-level disk image is verified in turn (spooled out, then the medium dispatcher).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BOOT_CONFIGS, driverDiskArg, EFI_IMAGE_CONFIGS, kernelLines, words, type ConfigKind } from '../formats/bootcfg/kernel-args.js';
import { FatReader } from '../formats/fat/index.js';
import { IsoReader, type IsoBootEntry } from '../formats/iso9660/read.js';
import { checkMediaCheck } from '../formats/isomd5.js';
import type { OpenedMedium } from '../media/medium.js';
import { readSource } from '../tree/source.js';
import { Scratch } from '../tree/scratch.js';
import type { Verification, VerifyEnv } from '../readers/types.js';
import { Findings, indent } from '../findings.js';
import type { Progress } from '../progress.js';

export interface ConfigFacts {
  path: string;
  kernelLines: number;
  withArgument: number;
}

export interface AttachDetails {
  label: string;
  argument: string;
  boot: (IsoBootEntry & { path?: string })[];
  configs: ConfigFacts[];
  /** The GRUB configurations inside the UEFI boot image. */
  efiImage?: { path: string; configs: ConfigFacts[] };
  mediaCheck: 'pass' | 'fail' | 'absent';
  nested: { member: string; kind: string; ok: boolean; details: unknown; text: string }[];
}

/** Disk images the installer scans on a device named by `inst.dd=hd:LABEL=…`: at the top level. */
export const TOP_LEVEL_ISO = /^[^/]+\.iso$/i;

/** Check the kernel lines of one configuration text. */
function checkConfig(kind: ConfigKind, text: string, where: string, arg: string, medium: OpenedMedium, f: Findings): ConfigFacts {
  const lines = kernelLines(kind, text);
  let withArgument = 0;
  for (const line of lines) {
    const ws = words(line);
    const n = ws.filter((w) => w === arg).length;
    const shown = line.trim().length > 100 ? `${line.trim().slice(0, 97)}…` : line.trim();
    if (n === 0) f.error('ATTACH_NO_ARGUMENT', where, `kernel line without ${arg}: the installer does not look for the disk when booted this way: ${shown}`);
    else withArgument++;
    if (n > 1) f.warning('ATTACH_ARGUMENT_REPEATED', where, `${arg} given ${n} times on one line (the disk is loaded once per argument): ${shown}`);
    for (const w of ws) {
      const dd = /^(?:inst\.)?dd=(.*)$/.exec(w)?.[1];
      if (dd !== undefined && /^(hd|cdrom):.*:\//.test(dd) && !dd.endsWith('.rpm')) {
        f.error('ATTACH_DD_PATH', where, `${w} names a path on a device, which the installer never finds (it waits for a device called "${dd.replace(/^\w+:/, '')}"); name the device only`);
      }
      const ks = /^inst\.ks=hd:LABEL=([^:]*):\/(.+)$/.exec(w);
      if (ks && ks[1] === arg.slice('inst.dd=hd:LABEL='.length) && medium.get(ks[2]!)?.type !== 'file') f.error('ATTACH_KICKSTART_MISSING', where, `${w}: no /${ks[2]} on this medium`);
    }
  }
  return { path: where, kernelLines: lines.length, withArgument };
}

async function spool(medium: OpenedMedium, path: string, to: string): Promise<void> {
  const l = medium.locate(path);
  if (l.size === 0) throw new Error('empty file');
  await pipeline(createReadStream(l.file, { start: l.offset, end: l.offset + l.size - 1 }), createWriteStream(to));
}

/** Verify an attached installer ISO; `env.verifyNested` checks each top-level disk image. */
export async function verifyAttached(medium: OpenedMedium, env: Pick<VerifyEnv, 'verifyNested' | 'ctx'>): Promise<Verification<AttachDetails>> {
  const f = new Findings();
  const label = medium.label ?? '';
  const d: AttachDetails = { label, argument: driverDiskArg(label), boot: [], configs: [], mediaCheck: 'absent', nested: [] };
  await checkBootConfigs(medium, d, f);
  await checkBootEntries(medium, d, f);
  await Scratch.with(async (scratch) => {
    await checkEfiImage(medium, d, f, scratch);
    await checkDiskImages(medium, env, d, f, scratch);
  });
  await checkMediaMd5(medium, d, f, env.ctx.progress);
  return { medium: medium.path, kind: 'attach', ok: f.ok, findings: f.list, details: d };
}

/** The kernel lines of every boot configuration on the ISO. */
async function checkBootConfigs(medium: OpenedMedium, d: AttachDetails, f: Findings): Promise<void> {
  for (const c of BOOT_CONFIGS) {
    if (medium.get(c.path)?.type !== 'file') continue;
    const text = Buffer.from(await readSource(medium.source(c.path))).toString('latin1');
    d.configs.push(checkConfig(c.kind, text, c.path, d.argument, medium, f));
  }
}

/** The El Torito entries, each with the file it boots. */
async function checkBootEntries(medium: OpenedMedium, d: AttachDetails, f: Findings): Promise<void> {
  const iso = await IsoReader.open(medium.path);
  try {
    const entries = await iso.entries();
    const byLba = new Map(entries.filter((e) => e.type === 'file' && e.size > 0).map((e) => [e.extents[0]!.lba, e.path]));
    d.boot = (await iso.bootEntries()).map((b) => ({ ...b, ...(byLba.has(b.lba) ? { path: byLba.get(b.lba)! } : {}) }));
  } finally {
    await iso.close();
  }
  for (const b of d.boot) if (b.path === undefined) f.warning('ATTACH_BOOT_IMAGE_NOT_FILE', '', `El Torito ${b.platform} image at block ${b.lba} is not a file of the ISO; not checked`);
  if (d.boot.length === 0) f.warning('ATTACH_NO_BOOT', '', 'no El Torito boot entries: the ISO does not boot from optical media');
}

/** The GRUB configurations inside the UEFI boot image (a FAT image), which UEFI boots read. */
async function checkEfiImage(medium: OpenedMedium, d: AttachDetails, f: Findings, scratch: Scratch): Promise<void> {
  const efi = d.boot.find((b) => b.platform === 'uefi' && b.path !== undefined)?.path ?? (medium.get('images/efiboot.img')?.type === 'file' ? 'images/efiboot.img' : undefined);
  if (!efi) return;
  const copy = scratch.path(basename(efi));
  const image: NonNullable<AttachDetails['efiImage']> = { path: efi, configs: [] };
  d.efiImage = image;
  try {
    await spool(medium, efi, copy);
    const fat = await FatReader.open(copy);
    try {
      for (const name of EFI_IMAGE_CONFIGS) {
        const file = await fat.find(name);
        if (!file || file.isDir) continue;
        const parts: Uint8Array[] = [];
        for await (const c of fat.read(file)) parts.push(c);
        image.configs.push(checkConfig('grub', Buffer.concat(parts).toString('latin1'), `${efi}:${name}`, d.argument, medium, f));
      }
    } finally {
      await fat.close();
    }
    if (image.configs.length === 0) f.error('ATTACH_NO_EFI_GRUB', efi, 'no EFI/BOOT/grub.cfg inside the UEFI boot image: UEFI boots do not get the argument');
  } catch (err) {
    f.error('ATTACH_EFI_UNREADABLE', efi, `UEFI boot image not readable as FAT: ${(err as Error).message}`);
  }
}

/** Each disk image at the top level, spooled out and verified in turn. */
async function checkDiskImages(medium: OpenedMedium, env: Pick<VerifyEnv, 'verifyNested'>, d: AttachDetails, f: Findings, scratch: Scratch): Promise<void> {
  for (const file of medium.files.filter((x) => x.type === 'file' && TOP_LEVEL_ISO.test(x.path))) {
    const copy = scratch.path(file.path);
    try {
      await spool(medium, file.path, copy);
      const r = await env.verifyNested(copy, file.path, `${d.argument} on the installer ISO's kernel lines (its volume id ${d.label})`);
      d.nested.push({ member: file.path, kind: r.kind, ok: r.ok, details: r.details, text: indent(r.account) });
      f.nested(file.path, r.findings);
    } catch (err) {
      f.error('NESTED_UNREADABLE', file.path, `not a driver disk: ${(err as Error).message.replace(`${copy}: `, '')}`);
    }
  }
}

/** The implanted media-check MD5 ("Test this media", checkisomd5). */
async function checkMediaMd5(medium: OpenedMedium, d: AttachDetails, f: Findings, progress: Progress): Promise<void> {
  const md5 = await checkMediaCheck(medium.path, progress);
  d.mediaCheck = md5.state;
  if (md5.state === 'absent') f.error('MEDIA_CHECK_ABSENT', '', 'no media-check MD5: "Test this media" (rd.live.check) fails; implant one (implantisomd5)');
  else if (md5.state === 'fail') f.error('MEDIA_CHECK_FAIL', '', `media-check MD5 does not match${md5.failedFragment ? ` (fragment ${md5.failedFragment})` : ''}: checkisomd5 and rd.live.check fail`);
}

export function attachText(path: string, d: AttachDetails): string {
  const lines = [`${path}: installer ISO "${d.label}" with driver disks attached; argument ${d.argument}`];
  for (const b of d.boot) lines.push(`  El Torito ${b.platform}: ${b.path ?? `block ${b.lba}`}, ${b.loadSectors} sectors`);
  const cfg = (c: ConfigFacts) => `  ${c.path}: ${c.withArgument}/${c.kernelLines} kernel lines with the argument`;
  lines.push(...d.configs.map(cfg), ...(d.efiImage?.configs.map(cfg) ?? []));
  lines.push(`  media-check MD5: ${d.mediaCheck}`);
  for (const n of d.nested) lines.push(`${n.member}: ${n.kind} disk, ${n.ok ? 'OK' : 'FAILED'}`, n.text);
  return lines.join('\n');
}
