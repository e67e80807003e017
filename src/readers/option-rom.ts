/**
 * PCI option ROM images (option-rom.md §9.2): a file that starts with `55 AA`, walked as firmware
 * walks it. `inspect` reports every image, valid or not; `rom check` (the API's `romCheck`) is the
 * same report with an exit status.
 */
import { readFile, stat } from 'node:fs/promises';
import { readingFile, UserError } from '../errors.js';
import { checkRom, describeRom, isRomSignature, type RomReport } from '../formats/optionrom/index.js';
import type { Reader } from './types.js';

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

/** Check the ROM at `path`: the report (`valid` says whether firmware would run every image) and its text. */
export async function checkRomFile(path: string, name = path): Promise<{ report: RomReport; text: string }> {
  const bytes = await readRomInput(path);
  const report = await readingFile(path, async () => checkRom(bytes));
  return { report, text: describeRom(report, name) };
}

export const optionRomReader: Reader<RomReport> = {
  kind: 'option-rom',
  bid: ({ bytes, isDirectory }) => (!isDirectory && isRomSignature(bytes, 0) ? 100 : 0),
  async inspect(path) {
    const { report } = await checkRomFile(path);
    return { kind: 'option-rom', path, facts: report, findings: [] };
  },
  render: { inspect: (r, name) => describeRom(r.facts, name) },
};
