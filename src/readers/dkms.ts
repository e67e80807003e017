/** dkms build trees (`/var/lib/dkms/<module>[/<version>]`) and `dkms mktarball` archives. */
import { detectCompression } from '../formats/compress/magic.js';
import { dkmsLevel, readDkms, type DkmsTree } from '../inputs/dkms.js';
import type { Reader } from './types.js';

function isTarHeader(head: Uint8Array): boolean {
  return head.length >= 263 && new TextDecoder('latin1').decode(head.subarray(257, 262)) === 'ustar';
}

export type DkmsFacts = ReturnType<typeof dkmsFacts>;

/** The builds like `dkms status` lists them, with their modules. */
function dkmsFacts(tree: DkmsTree, archive: boolean) {
  return {
    path: tree.path,
    archive,
    builds: tree.builds.map((b) => ({
      module: b.module,
      version: b.version,
      kernelRelease: b.kernelRelease,
      arch: b.arch,
      state: b.installed ? 'installed' : 'built',
      packageName: b.conf.packageName,
      packageVersion: b.conf.packageVersion,
      missing: b.missing,
      modules: b.modules.map((m) => ({
        name: m.name,
        path: m.path,
        compression: m.compression,
        destLocation: m.destLocation,
        vermagic: m.vermagic,
        version: m.version,
        license: m.license,
        aliases: m.aliases,
        depends: m.depends,
        firmware: m.firmware,
        signed: m.signed,
      })),
    })),
    notBuilt: tree.notBuilt.map(({ path: _p, ...n }) => n),
  };
}

function dkmsText(f: DkmsFacts): string {
  const lines = [`${f.archive ? 'dkms mktarball archive' : 'dkms tree'} ${f.path}`];
  for (const b of f.builds) {
    lines.push(`  ${b.module}/${b.version}, ${b.kernelRelease}, ${b.arch}: ${b.state}`);
    for (const m of b.modules) {
      const facts = [m.compression === 'none' ? 'plain .ko' : m.compression, m.version && `version ${m.version}`, m.destLocation && `to ${m.destLocation}`, m.depends.length ? `depends ${m.depends.join(',')}` : '', `${m.aliases.length} aliases`, m.signed ? 'signed' : ''];
      lines.push(`    ${m.name}: ${facts.filter(Boolean).join(', ')}`);
    }
    if (b.missing.length) lines.push(`    missing: ${b.missing.join(', ')}`);
  }
  for (const n of f.notBuilt) lines.push(`  ${n.module}/${n.version}, ${n.kernelRelease}, ${n.arch}: not built`);
  return lines.join('\n');
}

export const dkmsReader: Reader<DkmsFacts> = {
  kind: 'dkms-tree',
  async bid({ path, bytes, isDirectory }) {
    if (!isDirectory) return /\.dkms\.tar(\.gz)?$/.test(path) && (detectCompression(bytes) === 'gzip' || isTarHeader(bytes)) ? 100 : 0;
    return (await dkmsLevel(path)) !== undefined ? 100 : 0;
  },
  async inspect(path, opened, { ctx }) {
    const tree = await readDkms(path, { warn: (w) => ctx.warn(w) });
    return { kind: 'dkms-tree', path, facts: dkmsFacts(tree, opened?.kind !== 'directory'), findings: [] };
  },
  render: { inspect: (r) => dkmsText(r.facts) },
};
