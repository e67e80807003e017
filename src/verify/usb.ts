/**
 * `verify` for a USB stick image (`delivery.md` §5, §8): the FAT volume's labels and partition as
 * libblkid and the installer see them; the driver disk tree on it is verified like an ISO's.
 */
import { FatReader, PARTITION_START, type FatVolumeInfo } from '../formats/fat/index.js';
import type { Verification } from '../readers/types.js';
import { Findings } from '../findings.js';

/** FAT partition types for the OEMDRV partition (FAT32 LBA is what dudkit and mkfs users write). */
const GOOD_TYPES = new Set([0x0b, 0x0c, 0x0e, 0x06]);

export interface UsbDetails {
  volume: FatVolumeInfo;
  disk: { kind: string; details: unknown };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** The volume checks; `disk` is the verification of the tree on it (rhdd3, rhel5, …). */
export async function verifyUsb(path: string, disk: Verification): Promise<Verification<UsbDetails>> {
  const fat = await FatReader.open(path);
  const v = fat.info;
  await fat.close();
  const f = new Findings();
  if (v.partitionType === undefined) f.info('USB_SUPERFLOPPY', '', 'a bare FAT file system without partition table (superfloppy)');
  else {
    if (!GOOD_TYPES.has(v.partitionType)) f.warning('USB_PARTITION_TYPE', '', `partition type ${hex(v.partitionType)}: use 0x0c (FAT32 LBA)`);
    if (v.offset !== PARTITION_START * 512) f.info('USB_PARTITION_START', '', `partition starts at sector ${v.offset / 512}, not ${PARTITION_START}`);
  }
  if (v.label === undefined && v.bootLabel === undefined) f.error('USB_NO_LABEL', '', 'no volume label: the installer finds it neither as OEMDRV nor through inst.dd=hd:LABEL=…');
  else if (v.label === undefined) f.error('USB_NO_ROOT_LABEL', '', `no volume label entry in the root directory (only the boot sector says ${v.bootLabel}): libblkid reports no LABEL, so udev makes no disk/by-label link`);
  else {
    if (v.bootLabel !== undefined && v.bootLabel !== v.label) f.warning('USB_LABEL_MISMATCH', '', `boot sector label ${v.bootLabel} differs from the root directory label ${v.label}; libblkid's LABEL is ${v.label}`);
    if (v.label !== 'OEMDRV') f.error('USB_NOT_OEMDRV', '', `label ${v.label}, not OEMDRV: the installer does not find the stick by itself (boot with inst.dd=hd:LABEL=${v.label}, RHEL 5/6: dd)`);
  }
  const findings = [...f.list, ...disk.findings];
  return { medium: path, kind: 'usb', ok: !findings.some((x) => x.severity === 'error'), findings, details: { volume: v, disk: { kind: disk.kind, details: disk.details } } };
}

/** The volume's line; the account of the disk on it follows. */
export function usbText(name: string, { volume: v }: UsbDetails): string {
  return `${name}: USB image, FAT${v.fatType}${v.partitionType !== undefined ? ` in MBR partition type ${hex(v.partitionType)} at sector ${v.offset / 512}` : ' (no partition table)'}, label ${v.label ?? '(none)'}, boot sector label ${v.bootLabel ?? '(none)'}`;
}
