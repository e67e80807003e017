import { UserError } from '../errors.js';
import { openMedium, type OpenedMedium } from '../media/medium.js';
import { isAttachedInstaller, verifyAttached } from './attach.js';
import type { VerifyReport } from './report.js';
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

/** The driver disk tree on an opened medium (folder, ISO or FAT volume). */
async function verifyDisk(medium: OpenedMedium, path: string, opts: VerifyOptions): Promise<VerifyReport> {
  if (isUpdatePack(medium)) {
    const { findings, details } = await verifyXenserverUpdate(medium, opts.key);
    const text = [updatePackText(path, details), findings.text(), findings.summary()].filter(Boolean).join('\n');
    return { medium: path, kind: 'xenserver-update', ok: findings.ok, findings: findings.list, details, text };
  }
  if (isLegacyPack(medium)) {
    const { findings, details } = await verifyXenserverLegacy(medium);
    const text = [legacyPackText(path, details), findings.text(), findings.summary()].filter(Boolean).join('\n');
    return { medium: path, kind: 'xenserver-legacy', ok: findings.ok, findings: findings.list, details, text };
  }
  const disks = findDisks(medium);
  if (disks.length > 0) {
    const { findings, details } = await verifyRhdd3(medium, disks, opts.kernels ?? []);
    const text = [rhdd3Text(path, details), findings.text(), findings.summary()].filter(Boolean).join('\n');
    return { medium: path, kind: 'rhdd3', ok: findings.ok, findings: findings.list, details, text };
  }
  if (isRhel5Disk(medium)) {
    const { findings, details } = await verifyRhel5(medium, opts.kernels ?? []);
    const text = [rhel5Text(path, details), findings.text(), findings.summary()].filter(Boolean).join('\n');
    return { medium: path, kind: 'rhel5', ok: findings.ok, findings: findings.list, details, text };
  }
  throw new UserError('no driver disk found: no folder holds both an rhdd3 file and an rpms/ folder, and there is no rhdd at the root (the installer logs "No driver disks found")', path);
}
