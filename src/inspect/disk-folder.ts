/**
 * `dudkit inspect <folder>` for a Red Hat driver update disk written as a directory: the same
 * account `verify` gives (disks, packages, what each installer kernel loads), without the verdict.
 */
import type { Inspector, Report } from '../inspectors.js';
import { detectOnMedium, openMedium } from '../media/medium.js';
import { findDisks, rhdd3Text, verifyRhdd3 } from '../verify/rhdd3.js';

export async function inspectDiskFolder(path: string): Promise<Report> {
  const medium = await openMedium(path);
  try {
    const { details } = await verifyRhdd3(medium, findDisks(medium), []);
    return { kind: 'rhdd3', json: details, text: rhdd3Text(path, details) };
  } finally {
    await medium.close();
  }
}

export const diskFolderInspector: Inspector = {
  kind: 'rhdd3',
  // folders only: an ISO with a disk on it is listed by the ISO inspector
  detect: detectOnMedium((m) => m.kind === 'directory' && findDisks(m).length > 0),
  inspect: (path) => inspectDiskFolder(path),
};
