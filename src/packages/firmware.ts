/**
 * The firmware package recipe: a noarch RPM of `/lib/firmware/<dest>` files (`redhat-dud.md` rule
 * 8). The installer extracts it only when it matches `kernel-modules` too, so the layout passes
 * the entries that cover every installer kernel the disk serves; on the target it is installed
 * because the kmod package Requires it.
 */
import { UserError } from '../errors.js';
import type { Dependency, RpmFile, RpmPackage } from '../formats/rpm/write.js';
import type { Op } from '../formats/rpm/vercmp.js';
import type { DriverMeta, FirmwareFile } from '../model/driverset.js';
import { checkDescription, firmwarePackageName, KERNEL_GROUP, packageMeta } from './meta.js';

export interface FirmwareInput {
  meta: DriverMeta;
  files: FirmwareFile[];
  /** Default `<vendor>-<name>-firmware`. */
  name?: string;
  /** `kernel-modules` entries (ORed by the installer) so that it extracts the firmware. */
  kernelModules?: { op: Op; version: string }[];
  /** SOURCE_DATE_EPOCH */
  buildTime: number;
}

const FIRMWARE_ROOT = '/lib/firmware';

export function firmwarePackage(input: FirmwareInput): RpmPackage {
  const { meta } = input;
  const name = input.name ?? firmwarePackageName(meta);
  checkDescription(meta.description, name);
  if (input.files.length === 0) throw new UserError('no firmware files', name);
  const files: RpmFile[] = [];
  const dirs = new Set<string>();
  for (const f of input.files) {
    const parts = f.dest.split('/');
    if (f.dest.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) {
      throw new UserError(`firmware destination ${JSON.stringify(f.dest)} must be a relative path under lib/firmware/ without "." or ".." parts`, f.origin);
    }
    // Own the folders the package creates below /lib/firmware, not /lib/firmware itself.
    for (let i = 1; i < parts.length; i++) dirs.add(`${FIRMWARE_ROOT}/${parts.slice(0, i).join('/')}`);
    files.push({ type: 'file', path: `${FIRMWARE_ROOT}/${f.dest}`, content: f.source });
  }
  for (const d of dirs) files.push({ type: 'dir', path: d });
  return {
    name,
    version: meta.version,
    release: meta.release,
    arch: 'noarch',
    summary: `Firmware for ${meta.summary}`,
    group: KERNEL_GROUP,
    ...packageMeta(meta, input.buildTime),
    provides: (input.kernelModules ?? []).map((k): Dependency => ({ name: 'kernel-modules', op: k.op, version: k.version })),
    files,
  };
}
