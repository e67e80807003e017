/**
 * `rom fix`: read a ROM, raw `objcopy` output or ELF file, fix it (formats/optionrom), and write
 * the result through the one atomic output, so a refused input leaves nothing at `out` and `out`
 * may be the input itself.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Context } from '../context.js';
import { readingFile, UserError } from '../errors.js';
import { checkRom, describeRom, fixRom, romBytesFromElf, type FixOptions, type RomReport } from '../formats/optionrom/index.js';
import { readRomInput } from '../inputs/option-rom.js';
import { emitOutput } from './output.js';

export interface RomFixResult {
  path: string;
  size: number;
  /** What the fix-up changed, one sentence each. */
  changes: string[];
  /** The `rom check` report of the written ROM, and its text. */
  report: RomReport;
  text: string;
}

export async function fixRomFile(input: string, out: string, opts: FixOptions, ctx: Context): Promise<RomFixResult> {
  const bytes = await readRomInput(input);
  const { rom, changes } = await readingFile(input, async () => fixRom(romBytesFromElf(bytes), opts));
  const report = checkRom(rom);
  // the temporary file goes beside `out`: say which folder is missing, not the temporary name
  if (!(await stat(dirname(out)).catch(() => undefined))?.isDirectory()) throw new UserError(`the folder ${dirname(out)} does not exist: create it first`, out);
  const written = await emitOutput(out, {}, ctx, async (sink) => {
    await sink.write(rom);
    await sink.end();
  });
  return { path: written.path, size: written.size ?? rom.length, changes, report, text: describeRom(report, out) };
}
