/**
 * A file that is an archive of entries, written through filters: RHEL 5's `modules.cgz` (cpio,
 * gzip), a release's source `.tar.gz`. Layouts declare the members, the format and the filters;
 * this generated source writes them through the pipeline into the build's scratch folder.
 */
import { writeTar, type TarMember } from '../formats/tar/write.js';
import { identityOf } from '../tree/identity.js';
import { fileSource } from '../tree/source.js';
import type { Generated, ResolvedEntry } from '../tree/tree.js';
import { AtomicFile } from './atomic.js';
import { cpioArchive, type CpioStyle } from './cpio.js';
import { compose, drain, fileSink, filterStage, type Filter } from './pipeline.js';

export interface ArchiveSpec {
  /** File name hint in the scratch folder (`modules.cgz`). */
  name: string;
  format: 'cpio' | 'tar';
  /** The archive's members, in the order written (cpio: newc; parents are not implied). */
  members: readonly ResolvedEntry[];
  /** Applied in order to the archive's bytes (`['gzip']`: a .cgz, a .tar.gz). */
  filters: readonly Filter[];
  epoch: number;
  /** cpio only (default `initrd`). */
  cpioStyle?: CpioStyle;
}

function* tarMembers(members: readonly ResolvedEntry[], epoch: number): Generator<TarMember> {
  for (const e of members) {
    if (e.type === 'dir') yield { type: 'dir', name: e.path, mode: e.mode, mtime: epoch };
    else if (e.type === 'symlink') yield { type: 'symlink', name: e.path, mtime: epoch, target: e.target };
    // opened only when the writer reaches it
    else yield { type: 'file', name: e.path, mode: e.mode, mtime: epoch, size: e.content.size, data: e.content.open() };
  }
}

/** The archive as a generated file; its identity is the spec's (the members' sources by theirs). */
export function archiveOf(spec: ArchiveSpec): Generated {
  const key = identityOf(['archive', spec.format, spec.filters, spec.epoch, spec.cpioStyle ?? 'initrd', spec.members]);
  return {
    kind: 'generated',
    deps: [],
    ...(key !== undefined ? { key } : {}),
    async build(_deps, scratch) {
      const path = scratch.path(spec.name);
      const bytes = spec.format === 'cpio' ? cpioArchive(spec.members, spec.epoch, spec.cpioStyle) : writeTar(tarMembers(spec.members, spec.epoch));
      await AtomicFile.with(path, [], (file) => drain(bytes, compose(spec.filters.map(filterStage), (taps) => fileSink(file, taps))));
      return fileSource(path);
    },
  };
}
