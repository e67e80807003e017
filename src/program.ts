import { Command } from 'commander';
import { createRequire } from 'node:module';
import { register as registerBuild } from './commands/build.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerIso } from './commands/iso.js';
import { register as registerKeygen } from './commands/keygen.js';
import { register as registerRom } from './commands/rom.js';
import { register as registerCompletion } from './commands/completion.js';
import { register as registerInit } from './commands/init.js';
import { enableDebug, reportError, setVerbosity } from './commands/common.js';
import { removeTemporaries } from './api.js';
import { EXIT_CODES } from './commands/conventions.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const EXIT_STATUS = `\nExit status:\n${EXIT_CODES.map(([c, m]) => `  ${c.padEnd(4)} ${m}`).join('\n')}\n`;

/** commander's "error: unknown option '--onyl'\n(Did you mean --only?)" as one line with the help hint. */
function usageLine(text: string, command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\s*\n\s*\(Did you mean (.*)\?\)$/s, ' (did you mean $1?)')
    .replace(/\s*\n\s*/g, ' ');
  return `dudkit: ${message}; see '${names.join(' ')} --help'\n`;
}

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
  await makeProgram().parseAsync(argv);
}

/** The whole command tree, options and help texts: what --help, the completion scripts and the man page show. */
export function makeProgram(): Command {
  const program = new Command()
    .name('dudkit')
    .description('Build installer-time driver media (driver update disks, SUSE DUDs, XenServer packs, ESXi VIBs) from one manifest.')
    .version(version)
    .addHelpText('after', EXIT_STATUS);
  // shared options, before or after the command's name
  const shared = (c: Command) => {
    const add = (flags: string, description: string) => {
      // `rom fix` has its own --verbose
      if (!c.options.some((o) => o.long === flags.replace(/^-., /, ''))) c.option(flags, description);
    };
    add('-q, --quiet', 'print nothing on success (warnings and the one error line still go to stderr)');
    add('-v, --verbose', 'say on stderr what happens: each phase, each file read and written, and (build) the rule that decided each package');
    add('--debug', 'print the stack of an internal error (also DUDKIT_DEBUG=1)');
  };
  shared(program);
  program.exitOverride((err) => {
    // usage errors exit 2 (design.md); --help and --version exit 0
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  for (const register of [registerInit, registerBuild, registerInspect, registerIso, registerVerify, registerKeygen, registerRom, registerCompletion]) register(program);
  const withSubcommands = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...withSubcommands(s)]);
  for (const command of [program, ...withSubcommands(program)]) {
    if (command !== program) shared(command);
    // a usage mistake is one line naming the closest valid spelling, as commander suggests it, and where help is
    command.configureOutput({ outputError: (text, write) => write(usageLine(text, command)) });
  }
  program.hook('preAction', (_program, command) => {
    const opts = { ...program.opts(), ...command.opts() } as { debug?: boolean; quiet?: boolean; verbose?: boolean };
    if (opts.debug) enableDebug();
    setVerbosity(opts.quiet ? 'quiet' : opts.verbose ? 'verbose' : 'normal');
  });
  return program;
}
