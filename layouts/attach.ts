/**
 * A driver update disk attached to an existing RHEL 7–10 installer ISO (`delivery.md` §6.2), the
 * way lorax `mkksiso --add dd.iso --cmdline inst.dd=…` would: the disk image at the top level,
 * `inst.dd=hd:LABEL=<escaped volume id>` on every kernel line (isolinux, GRUB, the GRUB copy inside
 * the UEFI boot image, s390 `.prm`), an optional kickstart beside it, the volume id, El Torito
 * entries and the system area kept in the input's form (§6.3: RHEL 7/8 isohybrid --uefi, RHEL 9
 * xorriso isohybrid GPT, RHEL 10 GRUB2 MBR + partition offset 16 + appended ESP), and a fresh
 * media-check MD5 implanted last.
 *
 * The installer ISO is read in the `prepare` step (its tree, boot catalog, system area and the
 * small boot configurations); `plan` then only places sources: unchanged files are copied by
 * extent from the original image, edited configurations are bytes, the edited UEFI image is
 * generated (a copy with its grub.cfg rewritten in place) and the disk is a nested medium.
 */
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { MAX_LENGTH, tooLong } from '../src/manifest/limits.js';
import { asUserError, UserError } from '../src/errors.js';
import { nestedMedium } from '../src/emit/nested.js';
import { addKernelArgs, BOOT_CONFIGS, driverDiskArg, EFI_IMAGE_CONFIGS, includedConfigs, kickstartArg, resolveInclude, type ConfigKind } from '../src/formats/bootcfg/kernel-args.js';
import { FatReader, replaceFatFiles } from '../src/formats/fat/index.js';
import { bootInfoOf } from '../src/formats/iso9660/eltorito.js';
import { decodeSystemArea, PARTITION_OFFSET, type DecodedSystemArea, type GptPartition, type Grub2Ids, type KeptIds } from '../src/formats/iso9660/hybrid.js';
import { IsoReader, isoEntrySource, type IsoEntry, type IsoVolume } from '../src/formats/iso9660/read.js';
import type { HybridOptions } from '../src/formats/iso9660/boot-options.js';
import { isPrintableAscii } from '../src/formats/iso9660/numbers.js';
import { bytesSource, fileSource, readSource, sliceSource, type Source } from '../src/tree/source.js';
import { Tree, type Generated } from '../src/tree/tree.js';
import { defineLayout, type Plan, type PrepareEnv } from './types.js';

export const attachOptions = z.strictObject({
  /** The installer ISO to extend (relative to the manifest's folder). */
  installer: z.string().min(1),
  out: z.string().min(1).optional(),
  /** The medium to attach: a RHEL 6–10 disk (rhdd3). */
  of: z.enum(['rhdd3']).default('rhdd3'),
  /** The disk's name at the top level; the installer scans the top level for `*.iso`. */
  name: z.string().max(MAX_LENGTH.name, tooLong(MAX_LENGTH.name)).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.iso$/, 'must be a bare file name ending in .iso, e.g. dd.iso').default('dd.iso'),
  /** A kickstart file put at the root and named by `inst.ks=hd:LABEL=<volid>:/<name>` (as mkksiso --ks). */
  ks: z.string().min(1).optional(),
  checksums: z.array(z.enum(['md5', 'sha256'])).default(['sha256']),
});
type Options = z.output<typeof attachOptions>;

/** Boot configurations are small text files; anything larger is not one. */
const MAX_CONFIG = 1 << 20;

/** What `plan` needs to know of the installer ISO, read once by `prepare`. */
export interface InstallerIso {
  readonly path: string;
  readonly volume: IsoVolume;
  /** The tree, parents first (metadata only; contents stay in the image). */
  readonly entries: readonly IsoEntry[];
  readonly bios?: { path: string; loadSectors: number; bootInfoTable: boolean; grub2BootInfo: boolean };
  readonly efi?: { path: string; loadSectors: number };
  /** RHEL 10: the UEFI image is GPT partition 2 after the ISO data (bytes of the image), no file. */
  readonly appendedEfi?: { offset: number; size: number; loadSectors: number };
  /** The boot catalog's path when it is visible as a file (`isolinux/boot.cat`). */
  readonly catalogPath?: string;
  /** isohybrid system area: the original MBR boot code, whether a GPT follows, and in which form. */
  readonly hybrid?: { bootCode: Uint8Array; gpt: boolean; isohybridUefi?: KeptIds; keptIds?: KeptIds; grub2?: Grub2Ids };
  /** The boot configurations present, as text (latin1, so bytes round-trip exactly). */
  readonly configs: readonly { path: string; kind: ConfigKind; text: string }[];
  /** Includes that were not followed, each a line for the build output. */
  readonly unfollowed: readonly string[];
  /** Installer architecture (`.discinfo`, else the boot file names); undefined when unknown. */
  readonly arch?: string;
  readonly kickstart?: { name: string; source: Source };
}

/** What a system area holds, in the words of the refusal: MBR slots and the GPT's shape. */
function describeArea(decoded: Extract<DecodedSystemArea, { kind: 'mbr' }>): string {
  const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;
  const parts = decoded.partitions.map((p) => `${p.index}: ${p.active ? 'active ' : ''}type ${hex(p.type)} from sector ${p.start}`).join(', ');
  const gpt = decoded.gpt ? `, a GPT of ${decoded.gpt.entries} entries at sector ${decoded.gpt.entriesLba} (first usable ${decoded.gpt.firstUsable})` : ', no GPT';
  return `found MBR boot code pointing to sector ${decoded.bootImageSector}, partitions ${parts || 'none'}${gpt}`;
}

/**
 * Classify the system area as one of the forms the writer rebuilds (`delivery.md` §6.3): none,
 * MBR-only isohybrid (one active 0x17 partition), xorriso's `-isohybrid-gpt-basdat` (RHEL 9: 0x00 +
 * 0xEF on the EFI image, 248-entry GPT at LBA 2) or syslinux `isohybrid --uefi` (RHEL 7/8: the same
 * MBR, 128-entry GPT from sector 34, identifiers kept). Anything else is refused, not guessed.
 */
function classifySystemArea(
  decoded: DecodedSystemArea,
  boot: { biosLba: number | undefined; efiLba: number | undefined; appendedLba: number | undefined; partitionPvd: boolean },
  what: string,
): InstallerIso['hybrid'] {
  const { biosLba, efiLba } = boot;
  if (decoded.kind === 'blank') return undefined;
  if (decoded.kind === 'other') throw new UserError(`${what}: the system area holds data that is not an MBR; not a layout dudkit can rebuild`);
  const { partitions: parts, gpt } = decoded;
  const refuse = (why: string) =>
    new UserError(`${what}: ${why} (${describeArea(decoded)}); dudkit rebuilds the system areas of RHEL 7/8 (isohybrid --uefi), RHEL 9 (xorriso isohdpfx.bin MBR + GPT) and RHEL 10 (GRUB2 MBR, partition offset 16, appended ESP) only`);
  if (boot.appendedLba !== undefined) {
    const grub2 = grub2Ids(decoded, boot, refuse);
    return { bootCode: decoded.bootCode, gpt: true, grub2 };
  }
  if (decoded.bootImageSector !== (biosLba ?? 0) * 4) throw refuse('the MBR boot code does not point to the El Torito BIOS image the isohybrid way');
  const first = parts[0];
  if (!first || !first.active || first.start !== 0) throw refuse('the first MBR partition does not cover the image from sector 0');
  if (!gpt) {
    if (parts.length !== 1 || first.type !== 0x17) throw refuse('MBR partitions are not the single 0x17 isohybrid partition');
    return { bootCode: decoded.bootCode, gpt: false };
  }
  const efiPart = parts[1];
  if (first.type !== 0x00 || parts.length > 2 || gpt.entriesLba !== 2) throw refuse('the MBR/GPT are not an isohybrid layout');
  if (efiPart && (efiPart.type !== 0xef || efiLba === undefined || efiPart.start !== efiLba * 4)) throw refuse('the 0xEF MBR partition is not the El Torito UEFI image');
  const [g1, g2] = gpt.partitions;
  const none = new Uint8Array(16);
  if (gpt.entries === 248 && gpt.firstUsable === 64) {
    const keptIds: KeptIds = { signature: decoded.signatureBytes, diskGuid: gpt.diskGuid, partitionGuids: [g1?.guid ?? none, g2?.guid ?? none] };
    return { bootCode: decoded.bootCode, gpt: true, keptIds };
  }
  if (gpt.entries === 128 && gpt.firstUsable === 34 && g1?.index === 1 && g1.first === 0 && (!efiPart || (g2?.index === 2 && g2.first === efiPart.start))) {
    return {
      bootCode: decoded.bootCode,
      gpt: true,
      isohybridUefi: { signature: decoded.signatureBytes, diskGuid: gpt.diskGuid, partitionGuids: [g1.guid, g2?.guid ?? none] },
    };
  }
  throw refuse('the GPT is neither xorriso\'s -isohybrid-gpt-basdat (248 entries from sector 64) nor isohybrid --uefi\'s (128 entries from sector 34, entry 1 from sector 0, entry 2 at the UEFI image)');
}

const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const BASIC_DATA_TYPE = 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7';

/** A GPT type GUID as text (the first three fields are little-endian). */
export function gptType(p: GptPartition): string {
  const h = Buffer.from(p.type).toString('hex');
  const le = (s: string) => s.match(/../g)!.reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * RHEL 10's form (delivery.md §6.3 C): GRUB's hybrid MBR code continuing at `eltorito.img`'s sector
 * 4, one protective 0xEE entry, a 248-entry GPT with the ISO from the partition offset, the ESP
 * right after it at the El Torito UEFI image, optionally Gap1, and partition 1's own PVD at block 32.
 */
function grub2Ids(
  decoded: Extract<DecodedSystemArea, { kind: 'mbr' }>,
  boot: { biosLba: number | undefined; appendedLba: number | undefined; partitionPvd: boolean },
  refuse: (why: string) => UserError,
): Grub2Ids {
  const { partitions: parts, gpt } = decoded;
  if (boot.biosLba === undefined || decoded.bootImageSector !== boot.biosLba * 4 + 4) throw refuse('the MBR boot code does not point to sector 4 of the El Torito BIOS image (GRUB2 hybrid MBR)');
  if (parts.length !== 1 || parts[0]!.type !== 0xee || parts[0]!.start !== 1) throw refuse('the MBR is not one protective 0xEE partition from sector 1');
  if (!gpt || gpt.entries !== 248 || gpt.entriesLba !== 2 || gpt.firstUsable !== 64) throw refuse('the GPT is not xorriso\'s 248-entry one from sector 64');
  const [iso, esp, gap] = gpt.partitions;
  const appended = boot.appendedLba! * 4;
  if (!iso || iso.index !== 1 || iso.first !== PARTITION_OFFSET * 4 || gptType(iso) !== BASIC_DATA_TYPE) throw refuse(`GPT entry 1 is not the ISO 9660 partition from sector ${PARTITION_OFFSET * 4}`);
  if (!esp || esp.index !== 2 || esp.first !== appended || iso.last !== appended - 1 || gptType(esp) !== ESP_TYPE) throw refuse('GPT entry 2 is not the EFI system partition right after the ISO, where El Torito\'s UEFI entry points');
  if (gap && (gap.index !== 3 || gap.first !== esp.last + 1 || gpt.partitions.length > 3)) throw refuse('the GPT has entries after the ESP other than xorriso\'s Gap1');
  if (!boot.partitionPvd) throw refuse(`no ISO 9660 volume descriptor at block ${2 * PARTITION_OFFSET} (partition 1 of -partition_offset ${PARTITION_OFFSET})`);
  const none = new Uint8Array(16);
  return { signature: decoded.signatureBytes, diskGuid: gpt.diskGuid, partitionGuids: [iso.guid, esp.guid, gap?.guid ?? none] };
}

/**
 * Product and architecture: `.discinfo` lines 2 (`Red Hat Enterprise Linux 9.4`) and 3
 * (`x86_64`); without it, the architecture from the boot files lorax puts on each one.
 */
async function installerRelease(iso: IsoReader, byPath: Map<string, IsoEntry>): Promise<{ product?: string; arch?: string }> {
  const discinfo = byPath.get('.discinfo');
  if (discinfo?.type === 'file' && discinfo.size <= MAX_CONFIG) {
    const lines = Buffer.from(await readSource(iso.source(discinfo))).toString('latin1').split(/\r?\n/).map((l) => l.trim());
    if (lines[2]) return { ...(lines[1] ? { product: lines[1] } : {}), arch: lines[2] };
  }
  const hints: [string, string][] = [
    ['EFI/BOOT/BOOTX64.EFI', 'x86_64'],
    ['isolinux/isolinux.bin', 'x86_64'],
    ['EFI/BOOT/BOOTAA64.EFI', 'aarch64'],
    ['images/generic.prm', 's390x'],
    ['ppc/bootinfo.txt', 'ppc64le'],
  ];
  const arch = hints.find(([p]) => byPath.has(p))?.[1];
  return arch ? { arch } : {};
}

/** The El Torito BIOS entry as the writer must rebuild it: load size, boot-info tables found in the image. */
async function biosBoot(iso: IsoReader, file: IsoEntry, lba: number, loadSectors: number): Promise<NonNullable<InstallerIso['bios']>> {
  return { path: file.path, loadSectors, ...bootInfoOf(await iso.bootImageHead(lba, file.size), lba, file.size) };
}

async function kickstartFile(ks: string): Promise<InstallerIso['kickstart']> {
  const source = await fileSource(ks).catch((err: unknown) => asUserError(err, ks));
  const name = basename(ks);
  // the name goes into inst.ks=hd:LABEL=…:/<name> unescaped
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) throw new UserError('kickstart file name must be letters, digits and . _ + - (it is written into the kernel argument)', ks);
  return { name, source };
}

/** Read what attaching needs from the installer ISO (metadata, boot structures, configurations). */
export async function readInstaller(path: string, ks: string | undefined): Promise<InstallerIso> {
  const kickstart = ks === undefined ? undefined : await kickstartFile(ks);
  let iso: IsoReader;
  try {
    iso = await IsoReader.open(path);
  } catch (err) {
    asUserError(err, path);
  }
  try {
    const entries = await iso.entries();
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const byLba = new Map(entries.filter((e) => e.type === 'file' && e.size > 0).map((e) => [e.extents[0]!.lba, e]));
    for (const e of entries) {
      if (e.path === 'rhdd3' || e.path.endsWith('/rhdd3')) {
        const rpms = `${e.path.slice(0, -'rhdd3'.length)}rpms`;
        if (byPath.get(rpms)?.type === 'dir') throw new UserError(`${e.path} holds a driver disk tree already: the installer would then ignore top-level *.iso disks`, path);
      }
    }

    let bios: InstallerIso['bios'];
    let efi: InstallerIso['efi'];
    let appendedEfi: InstallerIso['appendedEfi'];
    const decoded = decodeSystemArea(await iso.systemAreaBytes());
    const boot = await iso.bootEntries();
    for (const [i, b] of boot.entries()) {
      const file = byLba.get(b.lba);
      const where = `El Torito entry ${i + 1} (${b.platform}, block ${b.lba})`;
      if (b.emulation !== 'none') throw new UserError(`${where} uses ${b.emulation} emulation; only no-emulation boot images are kept`, path);
      // RHEL 10: the UEFI image is the ESP appended as GPT partition 2, in no directory
      const esp = decoded.kind === 'mbr' ? decoded.gpt?.partitions.find((p) => p.index === 2 && p.first === b.lba * 4 && gptType(p) === ESP_TYPE) : undefined;
      if (!file && b.platform === 'uefi' && esp && !efi && !appendedEfi) {
        appendedEfi = { offset: b.lba * 2048, size: (esp.last - esp.first + 1) * 512, loadSectors: b.loadSectors };
        continue;
      }
      if (!file) throw new UserError(`${where} is not a file of the ISO nor the EFI system partition appended as GPT entry 2; not a layout dudkit can rebuild`, path);
      if (b.platform === 'bios' && !bios && i === 0) bios = await biosBoot(iso, file, b.lba, b.loadSectors);
      else if (b.platform === 'uefi' && !efi && !appendedEfi) efi = { path: file.path, loadSectors: b.loadSectors };
      else throw new UserError(`${where}: only one BIOS image (as the default entry) and one UEFI image are kept`, path);
    }
    const cat = boot.length > 0 ? iso.catalogLba : undefined;
    const catalogPath = cat === undefined ? undefined : byLba.get(cat)?.path;
    const lbaOf = (p: string | undefined) => (p === undefined ? undefined : byPath.get(p)!.extents[0]!.lba);
    const partitionPvd = appendedEfi !== undefined && (await iso.primaryDescriptorAt(2 * PARTITION_OFFSET));
    const hybrid = classifySystemArea(decoded, { biosLba: lbaOf(bios?.path), efiLba: lbaOf(efi?.path), appendedLba: appendedEfi && appendedEfi.offset / 2048, partitionPvd }, path);
    if (appendedEfi && !bios?.grub2BootInfo) throw new UserError(`${bios?.path ?? 'the BIOS boot image'} carries no GRUB2 boot info at byte 2548, as the GRUB2 hybrid MBR needs; not a layout dudkit can rebuild`, path);

    // the known configs, then every file they include (literal names, recursively, each once)
    const configs: { path: string; kind: ConfigKind; text: string }[] = [];
    const unfollowed: string[] = [];
    const queue: { path: string; kind: ConfigKind; folder: string }[] = BOOT_CONFIGS.filter((c) => byPath.get(c.path)?.type === 'file').map((c) => ({ ...c, folder: c.path.slice(0, c.path.lastIndexOf('/')) }));
    const seen = new Set(queue.map((c) => c.path));
    for (let c = queue.shift(); c; c = queue.shift()) {
      const e = byPath.get(c.path)!;
      if (e.size > MAX_CONFIG) throw new UserError(`${c.path} is larger than 1 MiB: not a boot configuration`, path);
      const text = Buffer.from(await readSource(iso.source(e))).toString('latin1');
      configs.push({ path: c.path, kind: c.kind, text });
      for (const ref of includedConfigs(c.kind, text)) {
        const target = resolveInclude(ref.name, c.folder);
        if (target === undefined || byPath.get(target)?.type !== 'file') {
          unfollowed.push(`${c.path}:${ref.line}: ${ref.keyword} ${ref.name} not followed (${target === undefined ? 'not a literal path on the medium' : 'no such file'}); kernel lines there do not get the argument`);
        } else if (!seen.has(target)) {
          seen.add(target);
          // syslinux resolves every relative name against the folder of the config it loaded first
          queue.push({ path: target, kind: c.kind, folder: c.folder });
        }
      }
    }
    const { product, arch } = await installerRelease(iso, byPath);
    // RHEL 5/6 read dd=, not inst.dd=, and reach no file on the boot medium (delivery.md §6.2)
    if (product && /^(Red Hat Enterprise Linux|CentOS|Scientific Linux|Oracle Linux Server)\b.*\s[56](\.\d+)*$/.test(product)) {
      throw new UserError(`${product}: RHEL 5/6 installers take no inst.dd= and reach no file on the boot medium; attach supports RHEL 7–10 (use a pxe or usb target instead)`, path);
    }
    return {
      path,
      volume: iso.volume,
      entries,
      ...(bios ? { bios } : {}),
      ...(efi ? { efi } : {}),
      ...(appendedEfi ? { appendedEfi } : {}),
      ...(catalogPath !== undefined ? { catalogPath } : {}),
      ...(hybrid ? { hybrid } : {}),
      configs,
      unfollowed,
      ...(arch ? { arch } : {}),
      ...(kickstart ? { kickstart } : {}),
    };
  } catch (err) {
    asUserError(err, path);
  } finally {
    await iso.close();
  }
}

/** The disk as an ISO image, whatever the inner target's own output format is. */
function asImage(inner: Plan): Plan {
  if (inner.medium.kind === 'iso') return inner;
  if (inner.medium.kind !== 'directory') throw new UserError(`of: the inner medium is a ${inner.medium.kind}, not a disk image`);
  return { ...inner, medium: { kind: 'iso', volumeId: 'OEMDRV', joliet: false, implantMd5: false } };
}

/**
 * The UEFI boot image with the same edit applied to its own GRUB configuration (what GRUB reads on
 * a UEFI boot): the original extent copied to the scratch folder, then rewritten in place.
 */
function editedEfiImage(origin: string, image: Source, name: string, args: readonly string[], warn: (m: string) => void): Generated {
  return {
    kind: 'generated',
    deps: [],
    async build(_deps, scratch) {
      const copy = await scratch.spool(image.open(), name);
      const replacements = new Map<string, Uint8Array>();
      try {
        const fat = await FatReader.open(copy);
        try {
          for (const name of EFI_IMAGE_CONFIGS) {
            const f = await fat.find(name);
            if (!f || f.isDir) continue;
            if (f.size > MAX_CONFIG) throw new UserError(`${name} inside it is larger than 1 MiB: not a boot configuration`, origin);
            const parts: Uint8Array[] = [];
            for await (const c of fat.read(f)) parts.push(c);
            const text = Buffer.concat(parts).toString('latin1');
            const edited = addKernelArgs('grub', text, args);
            if (edited !== text) replacements.set(name, Buffer.from(edited, 'latin1'));
          }
        } finally {
          await fat.close();
        }
        if (replacements.size === 0) warn(`${origin}: no GRUB kernel line inside the UEFI boot image was changed; UEFI boots may not load ${args.join(' ')}`);
        else await replaceFatFiles(copy, replacements);
      } catch (err) {
        asUserError(err, origin);
      }
      return sliceSource(copy, 0, image.size, origin);
    },
  };
}

/**
 * The tree name of the edited RHEL 10 UEFI image: the writer takes it out of the tree and appends it
 * as GPT partition 2 (the name appears in no directory).
 */
const APPENDED_EFI = 'EFI-partition-2.img';

function hybridOptions(h: NonNullable<InstallerIso['hybrid']>): HybridOptions {
  return {
    bootCode: h.bootCode,
    gpt: h.gpt,
    ...(h.isohybridUefi ? { isohybridUefi: h.isohybridUefi } : {}),
    ...(h.keptIds ? { keptIds: h.keptIds } : {}),
    ...(h.grub2 ? { grub2: { ids: h.grub2, appendedEfi: APPENDED_EFI } } : {}),
  };
}

/** An identifier kept from the original image when the writer can write it back unchanged. */
function keptId(text: string, max: number): string | undefined {
  return text !== '' && text.length <= max && isPrintableAscii(text) && !text.startsWith('_') ? text : undefined;
}

export const attach = defineLayout({
  kind: 'attach',
  options: attachOptions,
  defaultOut: (_set, o: Options) => `${basename(o.installer).replace(/\.iso$/i, '')}-dd.iso`,
  inputs: (o: Options) => ({ installer: o.installer, ks: o.ks }),
  prepare: (o: Options, env: PrepareEnv) => readInstaller(resolve(env.baseDir, o.installer), o.ks === undefined ? undefined : resolve(env.baseDir, o.ks)),
  plan(_set, o, env, installer: InstallerIso) {
    const inner = asImage(env.inner(o.of));
    const label = installer.volume.volumeId;
    const byPath = new Map(installer.entries.map((e) => [e.path, e]));
    if (installer.arch === undefined) env.warn(`${installer.path}: installer architecture unknown (no .discinfo, no known boot files); not checked against the disk`);
    else if (!inner.tree.entries().some((e) => e.path === `rpms/${installer.arch}`)) {
      throw new UserError(`the installer is ${installer.arch}, the driver disk has no rpms/${installer.arch}/ (the installer would find nothing)`, installer.path);
    }
    for (const name of [o.name, installer.kickstart?.name]) {
      if (name !== undefined && byPath.has(name)) throw new UserError(`/${name} exists already on the installer ISO`, installer.path);
    }
    if (o.name === installer.kickstart?.name) throw new UserError(`the kickstart and the driver disk are both named ${o.name}`);

    const args = [driverDiskArg(label), ...(installer.kickstart ? [kickstartArg(label, installer.kickstart.name)] : [])];
    const edited = new Map<string, string>();
    for (const c of installer.configs) {
      const text = addKernelArgs(c.kind, c.text, args);
      if (text !== c.text) edited.set(c.path, text);
    }
    const efiImages = new Set([installer.efi?.path, 'images/efiboot.img'].filter((p): p is string => p !== undefined && byPath.get(p)?.type === 'file'));
    // names that share an extent (hard links in the writer's input) share one source
    const byExtent = new Map<number, Source>();
    const shared = (e: IsoEntry): Source => {
      const lba = e.size > 0 ? e.extents[0]!.lba : -1;
      const hit = byExtent.get(lba);
      if (hit && hit.size === e.size) return hit;
      const made = isoEntrySource(installer.path, e);
      if (lba >= 0) byExtent.set(lba, made);
      return made;
    };
    const tree = new Tree();
    for (const e of installer.entries) {
      if (e.path === installer.catalogPath) continue;
      if (e.type === 'dir') tree.dir(e.path, e.mode & 0o7777);
      else if (e.type === 'symlink') tree.symlink(e.path, e.target ?? '');
      else if (efiImages.has(e.path)) tree.file(e.path, editedEfiImage(`${installer.path}:/${e.path}`, isoEntrySource(installer.path, e), basename(e.path), args, env.warn), e.mode & 0o7777);
      else {
        const text = edited.get(e.path);
        const content = text !== undefined ? bytesSource(Buffer.from(text, 'latin1'), `${e.path} (edited)`) : shared(e);
        tree.file(e.path, content, e.mode & 0o7777);
      }
    }
    const appended = installer.appendedEfi;
    if (appended) {
      if (byPath.has(APPENDED_EFI)) throw new UserError(`/${APPENDED_EFI} exists on the installer ISO; dudkit needs that name for the appended EFI partition`, installer.path);
      const image = sliceSource(installer.path, appended.offset, appended.size, `${installer.path}: GPT partition 2`);
      tree.file(APPENDED_EFI, editedEfiImage(image.origin, image, 'efi-partition-2.img', args, env.warn), 0o444);
    }
    tree.file(o.name, nestedMedium(inner, o.name, env), 0o444);
    if (installer.kickstart) tree.file(installer.kickstart.name, installer.kickstart.source, 0o444);

    // "every kernel line" only when every included config was read and edited
    const notes =
      installer.unfollowed.length === 0
        ? [`every kernel line now carries ${args.join(' ')}; the installer loads /${o.name} from this medium (label ${label})`]
        : [`the kernel lines of ${installer.configs.map((c) => c.path).join(', ')} now carry ${args.join(' ')}; the installer loads /${o.name} from this medium (label ${label})`, ...installer.unfollowed];
    if (byPath.has('images/cdboot.img') && installer.configs.some((c) => c.path === 'images/cdboot.prm')) {
      notes.push('images/cdboot.img embeds its own copy of cdboot.prm, which dudkit does not rebuild: boots from that image do not get inst.dd');
    }
    if (installer.configs.length === 0 && efiImages.size === 0 && !appended) env.warn(`${installer.path}: no boot configuration found; no kernel line carries ${args[0]}`);
    const v = installer.volume;
    const systemId = keptId(v.systemId, 32);
    const publisher = keptId(v.publisher, 128);
    const preparer = keptId(v.preparer, 128);
    const application = keptId(v.application, 128);
    return {
      tree,
      medium: {
        kind: 'iso',
        volumeId: label,
        // -joliet-long names, as installer DVDs carry them, cut rather than refused
        joliet: v.joliet ? { limit: 103, overflow: 'truncate' } : false,
        implantMd5: true,
        ...(installer.entries.some((e) => e.size > 0xffffffff) ? { level3: true } : {}),
        ...(systemId ? { systemId } : {}),
        ...(publisher ? { publisher } : {}),
        ...(preparer ? { preparer } : {}),
        ...(application ? { application } : {}),
        ...(installer.bios || installer.efi
          ? {
              boot: {
                ...(installer.bios ? { bios: installer.bios } : {}),
                // the edited image keeps its size, so the entry keeps the input's load size (delivery.md §6.3)
                ...(installer.efi ? { efi: { path: installer.efi.path, loadSectors: installer.efi.loadSectors } } : {}),
                ...(appended ? { efi: { path: APPENDED_EFI, loadSectors: appended.loadSectors } } : {}),
                ...(installer.catalogPath !== undefined ? { catalogPath: installer.catalogPath } : {}),
              },
            }
          : {}),
        ...(installer.hybrid ? { hybrid: hybridOptions(installer.hybrid) } : {}),
      },
      derived: checksumFiles(o.checksums),
      notes,
    };
  },
});
