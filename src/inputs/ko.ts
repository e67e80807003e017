/**
 * A kernel module file as given: `.ko`, or whole-file compressed (xz, gzip, zstd; bzip2 read with
 * a warning since kmod cannot load it). The compression is decided by magic bytes, never by name.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { asUserError } from '../errors.js';
import { decompressWhole } from '../formats/compress/index.js';
import { detectCompression, type Compression } from '../formats/compress/magic.js';
import { parseModule, type ModuleInfo } from '../formats/elf/index.js';
import { readExactly, ReadBudget } from '../tree/bounded.js';

export interface ModuleFile extends ModuleInfo {
  path: string;
  /** Size of the file as given (compressed if it is). */
  size: number;
  compression: Compression;
}

/**
 * The facts of a module file plus its uncompressed bytes (what a layout writes as plain `.ko`),
 * read within the budget (one per file unless given): a module is parsed whole, so a file that
 * decompresses to more than the limit is refused with an error naming it.
 */
export async function loadModuleFile(path: string, warn?: (message: string) => void, budget = new ReadBudget()): Promise<{ file: ModuleFile; plain: Uint8Array }> {
  let size: number;
  const head = new Uint8Array(6);
  try {
    const fh = await open(path, 'r');
    try {
      size = (await fh.stat()).size;
      await fh.read(head, 0, head.length, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    asUserError(err, path);
  }
  return moduleFrom(() => createReadStream(path) as AsyncIterable<Uint8Array>, size, head, path, warn, budget);
}

/** The same for a module already in memory (a member of an archive); `path` names it in messages. */
export async function moduleFromBytes(raw: Uint8Array, path: string, warn?: (message: string) => void, budget = new ReadBudget()): Promise<{ file: ModuleFile; plain: Uint8Array }> {
  return moduleFrom(() => [raw], raw.length, raw.subarray(0, 6), path, warn, budget, raw);
}

/**
 * `open` gives the module's bytes as stored (`size` of them, starting with `head`), again on each
 * call; `held` is the same bytes when they are in memory already (and charged to the budget).
 */
async function moduleFrom(
  open: () => AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  size: number,
  head: Uint8Array,
  path: string,
  warn: ((message: string) => void) | undefined,
  budget: ReadBudget,
  held?: Uint8Array,
): Promise<{ file: ModuleFile; plain: Uint8Array }> {
  try {
    const compression = detectCompression(head);
    if (compression === 'bzip2') warn?.(`${path}: bzip2-compressed module; kmod cannot load .ko.bz2, decompress it for the medium`);
    const data = compression !== 'none' ? await decompressWhole(open, compression, budget) : (held ?? (await readExactly(open(), size, budget, 'the module')));
    const info = parseModule(data, basename(path));
    return { file: { ...info, path, size, compression }, plain: data };
  } catch (err) {
    asUserError(err, path);
  }
}

export async function readModuleFile(path: string, warn?: (message: string) => void): Promise<ModuleFile> {
  return (await loadModuleFile(path, warn)).file;
}
