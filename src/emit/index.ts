import type { Medium } from './plan.js';
import type { Context } from '../context.js';
import type { ResolvedEntry } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import { emitCpio } from './cpio.js';
import { emitDirectory } from './directory.js';
import { emitIso } from './iso.js';
import { emitUsbImage } from './usb.js';
import { gzip } from './pipeline.js';
import { emitZip } from './zip.js';

export interface Emitted {
  path: string;
  size?: number;
  md5?: string;
  sha256?: string;
}

/** Write a resolved tree as the given medium at `out` (atomically), with sidecar checksums. */
export async function emitMedium(entries: ResolvedEntry[], medium: Medium, out: string, checksums: DigestName[], ctx: Context): Promise<Emitted> {
  switch (medium.kind) {
    case 'directory':
      await emitDirectory(entries, out, ctx);
      return { path: out };
    case 'iso': {
      const r = await emitIso(
        entries,
        out,
        {
          volumeId: medium.volumeId,
          joliet: medium.joliet === true ? {} : medium.joliet,
          implantMd5: medium.implantMd5,
          checksums,
          ...(medium.application ? { application: medium.application } : {}),
          ...(medium.publisher ? { publisher: medium.publisher } : {}),
          ...(medium.systemId ? { systemId: medium.systemId } : {}),
          ...(medium.preparer ? { preparer: medium.preparer } : {}),
          ...(medium.boot ? { boot: medium.boot } : {}),
          ...(medium.hybrid ? { hybrid: medium.hybrid } : {}),
          ...(medium.level3 ? { level3: true } : {}),
          ...(medium.rootMode !== undefined ? { rootMode: medium.rootMode } : {}),
        },
        ctx,
      );
      return { path: out, size: r.size, ...(r.md5 ? { md5: r.md5 } : {}), ...(r.sha256 ? { sha256: r.sha256 } : {}) };
    }
    case 'cpio':
      return emitCpio(entries, out, medium.compression === 'gzip' ? [gzip(9)] : [], checksums, ctx);
    case 'fat':
      return emitUsbImage(entries, out, { label: medium.label, checksums }, ctx);
    case 'zip':
      return emitZip(entries, out, checksums, ctx);
  }
}
