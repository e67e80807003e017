/**
 * `dudkit inspect` for installer ISOs (an ISO with isolinux/GRUB/.prm boot configurations): the
 * ISO report, plus every kernel line each configuration boots with, the driver disk argument the
 * volume id calls for (and whether each line has it) and the disk images at the top level.
 */
import type { Context } from '../../context.js';
import type { Inspector, Report } from '../../inspectors.js';
import { readSource } from '../../tree/source.js';
import { inspectIso, isoInspector } from '../iso9660/inspect.js';
import { IsoReader } from '../iso9660/read.js';
import { BOOT_CONFIGS, driverDiskArg, kernelLines, words } from './kernel-args.js';

const TOP_LEVEL_ISO = /^[^/]+\.iso$/i;

async function readConfigs(path: string): Promise<{ label: string; configs: { path: string; kernelLines: string[] }[]; disks: string[] }> {
  const iso = await IsoReader.open(path);
  try {
    const entries = await iso.entries();
    const byPath = new Map(entries.map((e) => [e.path, e]));
    const configs: { path: string; kernelLines: string[] }[] = [];
    for (const c of BOOT_CONFIGS) {
      const e = byPath.get(c.path);
      if (e?.type !== 'file' || e.size > 1 << 20) continue;
      const text = Buffer.from(await readSource(iso.source(e))).toString('latin1');
      configs.push({ path: c.path, kernelLines: kernelLines(c.kind, text).map((l) => l.trim()) });
    }
    return { label: iso.volume.volumeId, configs, disks: entries.filter((e) => e.type === 'file' && TOP_LEVEL_ISO.test(e.path)).map((e) => e.path) };
  } finally {
    await iso.close();
  }
}

export async function inspectInstaller(path: string, ctx: Context): Promise<Report> {
  const base = await inspectIso(path, ctx);
  const { label, configs, disks } = await readConfigs(path);
  const argument = driverDiskArg(label);
  const withArg = (l: string) => words(l).includes(argument);
  const installer = {
    argument,
    disks,
    configs: configs.map((c) => ({ path: c.path, kernelLines: c.kernelLines.map((line) => ({ line, driverDisk: withArg(line) })) })),
  };
  const section = [
    `installer boot configurations (driver disk argument for this label: ${argument}):`,
    ...configs.flatMap((c) => [`  ${c.path}:`, ...c.kernelLines.map((l) => `    ${withArg(l) ? '+' : '-'} ${l}`)]),
    `driver disk images at the top level: ${disks.length > 0 ? disks.map((d) => `/${d}`).join(', ') : 'none'}`,
  ];
  const [head, ...rest] = base.text.split('\n\n');
  return { kind: 'installer-iso', json: { ...(base.json as object), installer }, text: [head, section.join('\n'), ...rest].join('\n\n') };
}

export const installerInspector: Inspector = {
  kind: 'installer-iso',
  async detect(path, head, isDirectory) {
    if (!(await isoInspector.detect(path, head, isDirectory))) return false;
    const iso = await IsoReader.open(path).catch(() => undefined);
    if (!iso) return false;
    try {
      const paths = new Set((await iso.entries()).map((e) => e.path));
      return BOOT_CONFIGS.some((c) => paths.has(c.path));
    } catch {
      return false; // the plain ISO inspector reports what is wrong
    } finally {
      await iso.close();
    }
  },
  inspect: inspectInstaller,
};
