/**
 * What a layout hands the emitters: a tree, the medium to write it as, and the files derived from
 * the written medium. Shared by layouts (which make plans) and emitters (which write them); it
 * lives here so the data path points one way, from layouts down to the emitters.
 */
import type { JolietPolicy } from '../formats/iso9660/names.js';
import type { BootOptions, HybridOptions } from '../formats/iso9660/plan.js';
import type { Source } from '../tree/source.js';
import type { Tree } from '../tree/tree.js';
import type { DigestName } from './atomic.js';

/** How a layout's tree becomes bytes on disk; the emitter is chosen from this. */
export type Medium =
  | { kind: 'directory' }
  | {
      kind: 'iso';
      volumeId: string;
      /** true: 64-character Joliet names, refusing longer ones. */
      joliet: boolean | JolietPolicy;
      implantMd5: boolean;
      application?: string;
      publisher?: string;
      systemId?: string;
      preparer?: string;
      /** El Torito entries and the isohybrid system area (bootable media: an attached installer ISO). */
      boot?: BootOptions;
      hybrid?: HybridOptions;
      /** ISO level 3: files of 4 GiB and more as multi-extent sections. */
      level3?: boolean;
      /** Permission bits of the root folder (default 0755; XenServer packs: 0555). */
      rootMode?: number;
    }
  | { kind: 'fat'; label: string }
  | { kind: 'cpio'; compression: 'none' | 'gzip' }
  /**
   * The output is one file of the tree, as built (an archive or image the layout makes as a
   * generated entry): its sidecars can then be made from the output's bytes (a detached signature).
   */
  | { kind: 'file'; path: string }
  /**
   * Deflated entries at fixed times, in tree order (release archives); `order`: these paths
   * first, in this order (ESXi bundles); `directories: false`: no folder entries.
   */
  | { kind: 'zip'; order?: readonly string[]; directories?: boolean }
  /** An ar archive of the tree's files, in the order given (ESXi VIBs). */
  | { kind: 'ar'; members: readonly string[] };

/** What a derived file is made from: the emitted medium's name, its digests and the tree files it names. */
export interface DerivedFrom {
  /** The medium's file name, without folder (`dd.iso`). */
  medium: string;
  /** Digests of the medium's bytes as written: at least those the derived file asks for. */
  digests: Partial<Record<DigestName, string>>;
  /** The resolved sources of `deps`, in that order. */
  deps: Source[];
}

/**
 * A file derived from an emitted medium, written beside it (`dd.iso.sha256`, XenServer's
 * `<name>.metadata.md5`, an update pack's public key) or, when the medium is nested in another,
 * put next to it in the outer tree. The one way to make such files (`emit/derived.ts` has the
 * checksum files): digests are taken as the medium's bytes pass, and a file that needs none is
 * made before the medium is written, so its failure leaves nothing behind.
 */
export interface Derived {
  /** Its file name, from the medium's (`dd.iso` → `dd.iso.sha256`); a plain name, no `/`. */
  name(medium: string): string;
  /** Digests of the medium's bytes it is made from. */
  readonly digests?: readonly DigestName[];
  /** Tree paths of the medium whose contents it is made from (`XS-REPOSITORY`). */
  readonly deps?: readonly string[];
  make(from: DerivedFrom): Source | Promise<Source>;
}

export interface Plan {
  tree: Tree;
  medium: Medium;
  /** Files made from the written medium, written beside it. */
  derived?: Derived[];
  /** What the user should know or do next (kernel arguments, bootloader lines). */
  notes: string[];
  /** The rule that decided each package: which kernels it serves and why (`build --verbose` shows them). */
  decisions?: string[];
}
