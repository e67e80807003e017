import type { Command } from 'commander';
import { romCheck, romFix, UserError } from '../api.js';
import { action, commandContext, printJson, VerificationFailed, say } from './common.js';

interface FixOpts {
  output: string;
  vendor?: string;
  device?: string;
  class?: string;
  fill?: string;
  json?: boolean;
  verbose?: boolean;
}

/** A number given as `0x…` hexadecimal or decimal, within `0 … max`. */
function number(option: string, given: string | undefined, max: number): number | undefined {
  if (given === undefined) return undefined;
  const n = /^0x[0-9a-f]+$/i.test(given) ? parseInt(given.slice(2), 16) : /^[0-9]+$/.test(given) ? Number(given) : NaN;
  if (!(n >= 0 && n <= max)) throw new UserError(`${option} ${given}: give a number from 0 to 0x${max.toString(16)} (hexadecimal with 0x, or decimal)`);
  return n;
}

export function register(program: Command): void {
  const rom = program
    .command('rom')
    .description('PCI option ROM images: make a valid ROM from objcopy output or an ELF object (fix), check one (check)');
  rom
    .command('fix')
    .description('set sizes, IDs, last-image flags, sub-header and image checksums of every image of a ROM, in that order')
    .argument('<in>', 'a ROM, raw `objcopy -O binary` output, or a 32-bit x86 ELF object or executable')
    .requiredOption('-o, --output <file>', 'ROM to write (atomically; may be IN)')
    .option('--vendor <id>', 'PCI vendor ID written into every PCIR (0xVVVV)')
    .option('--device <id>', 'PCI device ID written into every PCIR (0xDDDD)')
    .option('--class <code>', 'class code as configuration space reads it, 0xBBSSPP (0x020000 = Ethernet)')
    .option('--fill <byte>', 'byte an image cut short is padded with (default 0x00; iPXE pads legacy images with 0xFF)')
    .option('--json', 'print the check report of the written ROM as one JSON document')
    .option('--verbose', 'say on stderr what was changed')
    .addHelpText('after', '\nExit status: 0 written, 2 bad input (nothing is written).\n')
    .action(
      action(async (input: string, opts: FixOpts) => {
        const vendor = number('--vendor', opts.vendor, 0xffff);
        const device = number('--device', opts.device, 0xffff);
        const classCode = number('--class', opts.class, 0xffffff);
        const fill = number('--fill', opts.fill, 0xff);
        const ctx = commandContext({});
        const r = await romFix(input, opts.output, {
          ...(vendor !== undefined ? { vendor } : {}),
          ...(device !== undefined ? { device } : {}),
          ...(classCode !== undefined ? { classCode } : {}),
          ...(fill !== undefined ? { fill } : {}),
          ctx,
        });
        if (opts.verbose) for (const c of r.changes.length ? r.changes : ['nothing to change']) process.stderr.write(`dudkit: ${input}: ${c}\n`);
        for (const p of r.report.problems) ctx.warn(`${r.path}: ${p}`);
        if (opts.json) printJson({ path: r.path, ...r.report });
        else say(`wrote ${r.path} (${r.size} bytes, ${r.report.images.length} image${r.report.images.length === 1 ? '' : 's'})\n`);
      }, (input) => input),
    );
  rom
    .command('check')
    .description('explain every field of every image as firmware walks them (exit 1 when firmware would refuse one)')
    .argument('<rom>', 'option ROM file')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExit status: 0 valid, 1 not valid, 2 unreadable or not an option ROM (no 55 AA).\n')
    .action(
      action(async (path: string, opts: { json?: boolean }) => {
        const { report, text } = await romCheck(path);
        if (opts.json) printJson({ path, ...report });
        else say(`${text}\n`);
        if (!report.valid) throw new VerificationFailed(`${path}: not a valid option ROM: ${report.problems[0]}`);
      }, (path) => path),
    );
}
