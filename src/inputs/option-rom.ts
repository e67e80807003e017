/** The input of `rom fix` and `rom check`: a file read whole, refused when it is far larger than any ROM. */
import { readFile, stat } from 'node:fs/promises';
import { readingFile, UserError } from '../errors.js';

/** Far more than any ROM or ROM-building ELF object; a larger file is not read into memory. */
const MAX_INPUT = 64 << 20;

/** A ROM (or the ELF file a ROM is made from) read whole: ROMs are at most a few hundred KiB. */
export async function readRomInput(path: string): Promise<Uint8Array> {
  return readingFile(path, async () => {
    const st = await stat(path);
    if (st.isDirectory()) throw new UserError('is a folder, an option ROM file is needed', path);
    if (st.size > MAX_INPUT) throw new UserError(`${st.size} bytes: too large for an option ROM or the ELF file of one (at most ${MAX_INPUT} bytes are read)`, path);
    return new Uint8Array(await readFile(path));
  });
}
