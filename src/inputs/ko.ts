/**
 * A kernel module file as given: `.ko`, or whole-file compressed (xz, gzip, zstd; bzip2 read with
 * a warning since kmod cannot load it). The compression is decided by magic bytes, never by name.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { asUserError } from '../errors.js';
import { decompressBuffer, detectCompression, type Compression } from '../formats/compress/index.js';
import { parseModule, type ModuleInfo } from '../formats/elf/index.js';
import type { Inspector } from '../inspectors.js';

export interface ModuleFile extends ModuleInfo {
  path: string;
  /** Size of the file as given (compressed if it is). */
  size: number;
  compression: Compression;
}

/** The facts of a module file plus its uncompressed bytes (what a layout writes as plain `.ko`). */
export async function loadModuleFile(path: string, warn?: (message: string) => void): Promise<{ file: ModuleFile; plain: Uint8Array }> {
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (err) {
    asUserError(err, path);
  }
  return moduleFromBytes(raw, path, warn);
}

/** The same for a module already in memory (a member of an archive); `path` names it in messages. */
export async function moduleFromBytes(raw: Uint8Array, path: string, warn?: (message: string) => void): Promise<{ file: ModuleFile; plain: Uint8Array }> {
  try {
    if (detectCompression(raw) === 'bzip2') warn?.(`${path}: bzip2-compressed module; kmod cannot load .ko.bz2, decompress it for the medium`);
    const { data, compression } = await decompressBuffer(raw);
    const info = parseModule(data, basename(path));
    return { file: { ...info, path, size: raw.length, compression }, plain: data };
  } catch (err) {
    asUserError(err, path);
  }
}

export async function readModuleFile(path: string, warn?: (message: string) => void): Promise<ModuleFile> {
  return (await loadModuleFile(path, warn)).file;
}

/** `dudkit inspect X.ko[.xz|.gz|.zst]`: an ELF relocatable object, or a compressed file named `.ko.*`. */
export const moduleInspector: Inspector = {
  kind: 'kernel-module',
  detect(path, head, isDirectory) {
    if (isDirectory) return false;
    if (head.length >= 18 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46) {
      const type = head[5] === 2 ? head[16]! * 256 + head[17]! : head[16]! + head[17]! * 256;
      return type === 1;
    }
    return detectCompression(head) !== 'none' && /\.ko\.(xz|gz|zst|bz2)$/.test(path);
  },
  async inspect(path, ctx) {
    const m = await readModuleFile(path, (w) => ctx.warn(w));
    // symbol CRCs are many and rarely wanted; everything else is what modinfo shows
    const { versions, ...facts } = m;
    return { kind: 'kernel-module', json: facts, text: describeModule(m) };
  },
};

/** The facts a user needs about one module, as aligned text lines. */
export function describeModule(m: ModuleFile): string {
  const rows: [string, string[]][] = [
    ['kernel release', [m.kernelRelease]],
    ['arch', [m.arch]],
    ['version', m.version === undefined ? [] : [m.version]],
    ['license', m.license === undefined ? [] : [m.license]],
    ['description', m.description === undefined ? [] : m.description.split('\n')],
    ['compression', [m.compression]],
    ['signed', [m.signature ? `yes (${[m.signature.idType, m.signature.signer && `signer ${m.signature.signer}`, m.signature.hashAlgorithm].filter(Boolean).join(', ')})` : 'no']],
    ['depends', [m.depends.join(', ') || '(none)']],
    ['softdep', m.softdeps],
    ['firmware', m.firmware],
    ['aliases', m.aliases],
    ['parameters', m.parms.map((p) => `${p.name}${p.type ? ` (${p.type})` : ''}${p.description ? `: ${p.description}` : ''}`)],
  ];
  const lines = [`kernel module ${m.name}: ${m.path}`];
  for (const [label, values] of rows) {
    values.forEach((v, i) => lines.push(`  ${(i === 0 ? label : '').padEnd(15)} ${v}`));
  }
  return lines.join('\n');
}
