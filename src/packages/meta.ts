/** Package-level rules shared by the driver and firmware package recipes. */
import { UserError } from '../errors.js';
import type { RpmPackage as RpmSpec } from '../formats/rpm/write.js';
import type { DriverMeta } from '../model/driverset.js';

export const KERNEL_GROUP = 'System Environment/Kernel';

/** The RPM names dudkit gives its packages: unique, vendor-qualified (`redhat-dud.md` §3.5). */
export function kmodPackageName(meta: Pick<DriverMeta, 'vendor' | 'name'>): string {
  return `kmod-${meta.vendor}-${meta.name}`;
}

export function firmwarePackageName(meta: Pick<DriverMeta, 'vendor' | 'name'>): string {
  return `${meta.vendor}-${meta.name}-firmware`;
}

/**
 * anaconda's `dd_list` separates packages in its output with a `---` line, so a description line
 * `---` corrupts the list and the disk is misread (`redhat-dud.md` rule 9).
 */
export function checkDescription(description: string, packageName: string): void {
  const line = description.split('\n').findIndex((l) => l.replace(/\r$/, '') === '---');
  if (line >= 0) throw new UserError(`description line ${line + 1} is "---", which breaks the installer's driver disk parser (anaconda dd_list); change that line`, packageName);
}

/** The header fields every package dudkit writes takes from the driver's metadata. */
export function packageMeta(meta: DriverMeta, buildTime: number): Pick<RpmSpec, 'description' | 'license' | 'url' | 'vendor' | 'buildTime'> {
  return { description: meta.description, license: meta.license, ...(meta.url ? { url: meta.url } : {}), vendor: meta.vendorName ?? meta.vendor, buildTime };
}
