/**
 * `writeIso`: a folder written as an ISO 9660 image (Rock Ridge, Joliet, El Torito, isohybrid,
 * media-check MD5), what `dudkit iso` does. The checks here are on the caller's paths; the image's
 * own rules (volume id, names, boot images in the tree) are the planner's.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { createContext, type Context } from '../context.js';
import { asUserError, UserError } from '../errors.js';
import type { BootOptions } from '../formats/iso9660/boot-options.js';
import { treeFromDirectory } from '../tree/folder.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { checksumFiles, writeDerivedOf } from './derived.js';
import { emitIso, type EmitIsoOptions } from './iso.js';

export type { BootOptions };

export interface WriteIsoOptions {
  /** Volume id: printable ASCII, at most 32 characters (default `CDROM`). */
  volumeId?: string;
  systemId?: string;
  publisher?: string;
  preparer?: string;
  application?: string;
  /** Joliet tree: on by default with 64-character names (103 with `longNames`); longer ones are cut, with a warning, as xorriso cuts them. */
  joliet?: false | { longNames?: boolean };
  /** ISO 9660 level: 1 (8.3 names), or 3 to also allow files of 4 GiB and more (multi-extent). */
  level?: 1 | 3;
  /** Implant the media-check MD5 (what `implantisomd5` writes). */
  implantMd5?: boolean;
  /** Mark the media-check record `RHLISOSTATUS=1`. */
  supportedIso?: boolean;
  /** Checksum files to write beside the image (`<out>.md5`, `<out>.sha256`, coreutils format). */
  checksums?: readonly ('md5' | 'sha256')[];
  /** El Torito boot images, paths inside the folder (a leading `/` is allowed). */
  boot?: BootOptions;
  /** isohybrid system area; `mbrFile` is the 432-byte boot code (syslinux isohdpfx.bin). */
  hybrid?: { gpt?: boolean; mbrFile?: string };
  ctx?: Context;
}

export interface WriteIsoResult {
  /** The image written (absolute). */
  path: string;
  size: number;
  md5?: string;
  sha256?: string;
  /** The implanted media-check MD5 (not the MD5 of the file). */
  implantedMd5?: string;
  /** Checksum files written beside the image. */
  sidecars: string[];
}

const treePath = (p: string) => p.replace(/^\/+/, '');

/** Write the folder `dir` as an ISO image at `out` (atomically: whole or not at all). */
export async function writeIso(dir: string, out: string, opts: WriteIsoOptions = {}): Promise<WriteIsoResult> {
  const ctx = opts.ctx ?? createContext();
  const path = resolve(out);
  const rel = relative(resolve(dir), path);
  if (!isAbsolute(rel) && rel.split(sep)[0] !== '..') throw new UserError(`output lies inside the input folder ${dir}; write it elsewhere`, out);
  if (!(await stat(dirname(path)).catch(() => undefined))?.isDirectory()) throw new UserError('output folder does not exist', dirname(path));
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new UserError('is a folder; the output must be a file', out);
  const { bios, efi, catalogPath } = opts.boot ?? {};
  const options: EmitIsoOptions = {
    volumeId: opts.volumeId ?? 'CDROM',
    systemId: opts.systemId ?? '',
    publisher: opts.publisher ?? '',
    preparer: opts.preparer ?? '',
    application: opts.application ?? '',
    joliet: opts.joliet === false ? false : { limit: opts.joliet?.longNames ? 103 : 64, overflow: 'truncate' },
    level3: opts.level === 3,
    implantMd5: Boolean(opts.implantMd5),
    supportedIso: Boolean(opts.supportedIso),
    digests: opts.checksums ?? [],
    ...(opts.boot
      ? {
          boot: {
            ...(bios ? { bios: { ...bios, path: treePath(bios.path) } } : {}),
            ...(efi ? { efi: { path: treePath(efi.path) } } : {}),
            ...(catalogPath ? { catalogPath: treePath(catalogPath) } : {}),
          },
        }
      : {}),
    ...(opts.hybrid ? { hybrid: { gpt: Boolean(opts.hybrid.gpt), ...(opts.hybrid.mbrFile ? { bootCode: await mbrCode(opts.hybrid.mbrFile) } : {}) } } : {}),
  };
  const entries = (await treeFromDirectory(dir)).entries() as ResolvedEntry[];
  const written = await emitIso(entries, path, options, ctx);
  return { path, ...written, sidecars: await writeDerivedOf(path, checksumFiles(opts.checksums ?? []), written) };
}

async function mbrCode(file: string): Promise<Uint8Array> {
  const code = await readFile(file).catch((err: unknown) => asUserError(err, file));
  if (code.length !== 432) throw new UserError(`isohybrid MBR code must be exactly 432 bytes (syslinux isohdpfx.bin), got ${code.length}`, file);
  return code;
}
