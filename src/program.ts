import { Command } from 'commander';
import { createRequire } from 'node:module';
import { register as registerBuild } from './commands/build.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerIso } from './commands/iso.js';
import { register as registerKeygen } from './commands/keygen.js';
import { register as registerRom } from './commands/rom.js';
import { enableDebug, reportError } from './commands/common.js';
import { removeTemporaries } from './tree/leftovers.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The command line: parse `argv` and run the command it names. */
export async function runCli(argv: string[]): Promise<void> {
  // last resort: an error thrown from a stream callback or a promise nobody awaits ends the command
  // like any other (one line and its exit code), and leaves no temporary output behind
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (err: unknown) => {
      removeTemporaries();
      process.exit(reportError(err));
    });
  }
  const program = new Command()
    .name('dudkit')
    .description('Build installer-time driver media (driver update disks, SUSE DUDs, XenServer packs, ESXi VIBs) from one manifest.')
    .version(version)
    .option('--debug', 'print the stack of an internal error (also DUDKIT_DEBUG=1)')
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });
  program.exitOverride((err) => {
    // usage errors exit 2 (design.md); --help and --version exit 0
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  for (const register of [registerBuild, registerInspect, registerIso, registerVerify, registerKeygen, registerRom]) register(program);
  // `--debug` before or after the command's name
  const withSubcommands = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...withSubcommands(s)]);
  for (const command of withSubcommands(program)) command.option('--debug', 'print the stack of an internal error (also DUDKIT_DEBUG=1)');
  program.hook('preAction', (_program, command) => {
    if (program.opts().debug || command.opts().debug) enableDebug();
  });
  await program.parseAsync(argv);
}
