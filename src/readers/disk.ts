/**
 * Readers of what a folder, ISO or FAT image holds (a driver disk tree, a XenServer pack): one
 * shape for each, so a new kind of disk is its checks, its text and one bid.
 */
import type { Opened, OpenedMedium } from '../media/medium.js';
import type { Findings } from '../findings.js';
import { fatFacts, fatText, type FatFacts } from './fat.js';
import { isoFacts, isoText, type IsoFacts } from './iso9660.js';
import type { Inspection, Reader, VerifyEnv } from './types.js';

export type ImageFacts = IsoFacts | FatFacts;

export interface DiskKind<D> {
  kind: string;
  /** The bid when `holds` says the medium carries this kind of disk. */
  bid: number;
  holds(medium: OpenedMedium): boolean;
  check(medium: OpenedMedium, env: Pick<VerifyEnv, 'kernels' | 'key' | 'signatureCheck' | 'foundBy' | 'kabi' | 'ctx'>): Promise<{ findings: Findings; details: D }>;
  text(name: string, details: D): string;
  /**
   * What `inspect` shows of an ISO or FAT image holding the disk: its own account, or the image
   * (tree, boot entries, labels) as for any image, the disk account being what `verify` tells.
   */
  inspectImage: 'account' | 'image';
}

/** The medium a tree reader won on (its bid is 0 on anything else). */
export function treeOf(opened: Opened | undefined): OpenedMedium {
  if (!opened || opened.kind === 'cpio') throw new Error('a disk reader was given no folder, ISO or FAT medium');
  return opened;
}

const isTree = (opened: Opened | undefined): opened is OpenedMedium => opened !== undefined && opened.kind !== 'cpio';

export function diskReader<D>(k: DiskKind<D>): Reader<D | ImageFacts, D> {
  const isImageView = (r: Inspection<D | ImageFacts>): r is Inspection<ImageFacts> => r.kind !== k.kind;
  return {
    kind: k.kind,
    bid: (_head, opened) => (isTree(opened) && k.holds(opened) ? k.bid : 0),
    async inspect(path, opened, { ctx }) {
      const medium = treeOf(opened);
      if (k.inspectImage === 'image' && medium.kind === 'iso') return { kind: 'iso9660', path, facts: await isoFacts(path, ctx), findings: [] };
      if (k.inspectImage === 'image' && medium.kind === 'fat') return { kind: 'fat', path, facts: await fatFacts(path), findings: [] };
      // inspecting shows what is there: signatures it has no key for are reported, not failed
      const { findings, details } = await k.check(medium, { kernels: [], signatureCheck: false, ctx });
      return { kind: k.kind, path, facts: details, findings: findings.list };
    },
    async verify(path, opened, env) {
      const { findings, details } = await k.check(treeOf(opened), env);
      return { medium: path, kind: k.kind, ok: findings.ok, findings: findings.list, details };
    },
    render: {
      inspect(r, name) {
        if (!isImageView(r)) return k.text(name, r.facts as D);
        return r.kind === 'iso9660' ? isoText(r.facts as IsoFacts) : fatText(r.facts as FatFacts);
      },
      verify: (r, name) => k.text(name, r.details),
    },
  };
}
