/**
 * What a layout hands the emitters: a tree, the medium to write it as, and the files derived from
 * the written medium. Shared by layouts (which make plans) and emitters (which write them); it
 * lives here so the data path points one way, from layouts down to the emitters.
 */
import type { JolietPolicy } from '../formats/iso9660/names.js';
import type { BootOptions, HybridOptions } from '../formats/iso9660/plan.js';
import type { Generated, Tree } from '../tree/tree.js';
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
  /** Deflated entries at fixed times, in tree order (release archives). */
  | { kind: 'zip' };

/**
 * A small file written beside the output once the output is complete (XenServer's
 * `<name>.metadata.md5`): generated from entries of the tree (`deps` are tree paths).
 */
export interface Sidecar {
  /** File name in the output's folder (no `/`). */
  name: string;
  content: Generated;
}

export interface Plan {
  tree: Tree;
  medium: Medium;
  /** Sidecar checksum files to write beside the output. */
  checksums: DigestName[];
  /** Other files beside the output, written after it. */
  sidecars?: Sidecar[];
  /** What the user should know or do next (kernel arguments, bootloader lines). */
  notes: string[];
}
