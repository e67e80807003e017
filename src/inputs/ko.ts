/**
 * A kernel module file as given: `.ko`, or whole-file compressed (xz, gzip, zstd; bzip2 read with
 * a warning since kmod cannot load it). The compression is decided by magic bytes, never by name.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { asUserError } from '../errors.js';
import { decompressBuffer, detectCompression, type Compression } from '../formats/compress/index.js';
import { parseModule, type ModuleInfo } from '../formats/elf/index.js';

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
