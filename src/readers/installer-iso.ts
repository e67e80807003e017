/**
 * Installer ISOs (an ISO with isolinux/GRUB/.prm boot configurations). `inspect`: the ISO report,
 * plus every kernel line each configuration boots with, the driver disk argument the volume id
 * calls for (and whether each line has it) and the disk images at the top level. `verify`: the
 * checks of an installer with driver disks attached (`verify/attach.ts`).
 */
import { BOOT_CONFIGS, driverDiskArg, kernelLines, words } from '../formats/bootcfg/kernel-args.js';
import type { OpenedMedium } from '../media/medium.js';
import { readSource } from '../tree/source.js';
import { attachText, TOP_LEVEL_ISO, verifyAttached, type AttachDetails } from '../verify/attach.js';
import { treeOf } from './disk.js';
import { isoFacts, isoText, type IsoFacts } from './iso9660.js';
import type { Reader } from './types.js';

/** Boot configurations larger than this are not read (no real one comes near it). */
const MAX_CONFIG = 1 << 20;

export interface InstallerFacts extends IsoFacts {
  installer: {
    argument: string;
    disks: string[];
    configs: { path: string; kernelLines: { line: string; driverDisk: boolean }[] }[];
  };
}

async function installerFacts(medium: OpenedMedium): Promise<InstallerFacts['installer']> {
  const argument = driverDiskArg(medium.label ?? '');
  const configs: InstallerFacts['installer']['configs'] = [];
  for (const c of BOOT_CONFIGS) {
    const f = medium.get(c.path);
    if (f?.type !== 'file' || f.size > MAX_CONFIG) continue;
    const text = Buffer.from(await readSource(medium.source(c.path))).toString('latin1');
    configs.push({ path: c.path, kernelLines: kernelLines(c.kind, text).map((l) => ({ line: l.trim(), driverDisk: words(l).includes(argument) })) });
  }
  const disks = medium.files.filter((f) => f.type === 'file' && TOP_LEVEL_ISO.test(f.path)).map((f) => f.path);
  return { argument, disks, configs };
}

function installerText(f: InstallerFacts): string {
  const { argument, configs, disks } = f.installer;
  const section = [
    `installer boot configurations (driver disk argument for this label: ${argument}):`,
    ...configs.flatMap((c) => [`  ${c.path}:`, ...c.kernelLines.map((l) => `    ${l.driverDisk ? '+' : '-'} ${l.line}`)]),
    `driver disk images at the top level: ${disks.length > 0 ? disks.map((d) => `/${d}`).join(', ') : 'none'}`,
  ];
  // the section goes after the ISO report's volume lines, before its file list
  const [head, ...rest] = isoText(f).split('\n\n');
  return [head, section.join('\n'), ...rest].join('\n\n');
}

const isInstaller = (m: OpenedMedium) => m.kind === 'iso' && BOOT_CONFIGS.some((c) => m.get(c.path)?.type === 'file');

export const installerIsoReader: Reader<InstallerFacts, AttachDetails> = {
  kind: 'installer-iso',
  bid(_head, opened) {
    if (opened?.kind !== 'iso' || !isInstaller(opened)) return 0;
    // with a disk image at its top level it is an attached installer (above a driver disk that
    // boots); without, a bootable driver disk is a driver disk first
    return opened.files.some((f) => f.type === 'file' && TOP_LEVEL_ISO.test(f.path)) ? 60 : 30;
  },
  async inspect(path, opened, { ctx }) {
    return { kind: 'installer-iso', path, facts: { ...(await isoFacts(path, ctx)), installer: await installerFacts(treeOf(opened)) }, findings: [] };
  },
  verify: (_path, opened, env) => verifyAttached(treeOf(opened), env),
  render: {
    inspect: (r) => installerText(r.facts),
    verify: (r, name) => attachText(name, r.details),
  },
};
