import { UserError } from '../errors.js';
import { openMedium, type OpenedMedium } from '../media/medium.js';
import { isAttachedInstaller, verifyAttached } from './attach.js';
import type { Findings, VerifyReport } from './report.js';
import { isInitrdOverlay, verifyPxe } from './pxe.js';
import { findDisks, rhdd3Text, verifyRhdd3 } from './rhdd3.js';
import { isRhel5Disk, rhel5Text, verifyRhel5 } from './rhel5.js';
import { verifyUsb } from './usb.js';
import { isLegacyPack, legacyPackText, verifyXenserverLegacy } from './xenserver-legacy.js';
import { isUpdatePack, updatePackText, verifyXenserverUpdate } from './xenserver-update.js';

export interface VerifyOptions {
  /** Installer kernels (`uname -r`) to check the disk against. */
  kernels?: string[];
  /** Public key file signed media are checked against (XenServer update packs). */
  key?: string;
}

/** Check a medium the way its consumer does; `ok` is false when the consumer would fail. */
export async function verifyMedium(path: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  if (await isInitrdOverlay(path)) return verifyPxe(path, opts, verifyMedium);
  const medium = await openMedium(path);
  try {
    if (isAttachedInstaller(medium)) return await verifyAttached(medium, opts, verifyMedium);
    const report = await verifyDisk(medium, path, opts);
    return medium.kind === 'fat' ? await verifyUsb(path, report) : report;
  } finally {
    await medium.close();
  }
}

/** One report from a verifier's findings, its details and their text view. */
function report<D>(path: string, kind: string, r: { findings: Findings; details: D }, text: (path: string, details: D) => string): VerifyReport {
  const { findings, details } = r;
  return { medium: path, kind, ok: findings.ok, findings: findings.list, details, text: [text(path, details), findings.text(), findings.summary()].filter(Boolean).join('\n') };
}

/** The driver disk tree on an opened medium (folder, ISO or FAT volume). */
async function verifyDisk(medium: OpenedMedium, path: string, opts: VerifyOptions): Promise<VerifyReport> {
  if (isUpdatePack(medium)) return report(path, 'xenserver-update', await verifyXenserverUpdate(medium, opts.key), updatePackText);
  if (isLegacyPack(medium)) return report(path, 'xenserver-legacy', await verifyXenserverLegacy(medium), legacyPackText);
  const disks = findDisks(medium);
  if (disks.length > 0) return report(path, 'rhdd3', await verifyRhdd3(medium, disks, opts.kernels ?? []), rhdd3Text);
  if (isRhel5Disk(medium)) return report(path, 'rhel5', await verifyRhel5(medium, opts.kernels ?? []), rhel5Text);
  throw new UserError('no driver disk found: no folder holds both an rhdd3 file and an rpms/ folder, and there is no rhdd at the root (the installer logs "No driver disks found")', path);
}
