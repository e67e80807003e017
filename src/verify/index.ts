import { UserError } from '../errors.js';
import { openMedium } from '../media/medium.js';
import type { VerifyReport } from './report.js';
import { findDisks, rhdd3Text, verifyRhdd3 } from './rhdd3.js';

export interface VerifyOptions {
  /** Installer kernels (`uname -r`) to check the disk against. */
  kernels?: string[];
}

/** Check a medium the way its consumer does; `ok` is false when the consumer would fail. */
export async function verifyMedium(path: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const medium = await openMedium(path);
  try {
    const disks = findDisks(medium);
    if (disks.length > 0) {
      const { findings, details } = await verifyRhdd3(medium, disks, opts.kernels ?? []);
      const text = [rhdd3Text(path, details), findings.text(), findings.summary()].filter(Boolean).join('\n');
      return { medium: path, kind: 'rhdd3', ok: findings.ok, findings: findings.list, details, text };
    }
    throw new UserError('no driver disk found: no folder holds both an rhdd3 file and an rpms/ folder (the installer logs "No driver disks found")', path);
  } finally {
    await medium.close();
  }
}
