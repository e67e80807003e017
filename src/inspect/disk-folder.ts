/**
 * `dudkit inspect <folder>` for a Red Hat driver update disk written as a directory: the same
 * account `verify` gives (disks, packages, what each installer kernel loads), without the verdict.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inspector, Report } from '../inspectors.js';
import { openMedium } from '../media/medium.js';
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
  // the marker and rpms/ at the folder's root; deeper trees are found by `verify`
  detect: async (path, _head, isDirectory) => isDirectory && (await stat(join(path, 'rhdd3')).then((s) => s.isFile(), () => false)) && (await stat(join(path, 'rpms')).then((s) => s.isDirectory(), () => false)),
  inspect: (path) => inspectDiskFolder(path),
};
