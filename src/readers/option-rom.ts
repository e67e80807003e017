/**
 * PCI option ROM images (option-rom.md §9.2): a file that starts with `55 AA`, walked as firmware
 * walks it. `inspect` reports every image, valid or not; `rom check` (the API's `romCheck`) is the
 * same report with an exit status.
 */
import { readingFile } from '../errors.js';
import { checkRom, describeRom, isRomSignature, type RomReport } from '../formats/optionrom/index.js';
import { readRomInput } from '../inputs/option-rom.js';
import type { Reader } from './types.js';

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
