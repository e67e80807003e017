import { Command } from 'commander';
import { createRequire } from 'node:module';
import { register as registerBuild } from './commands/build.js';
import { register as registerInspect } from './commands/inspect.js';
import { register as registerVerify } from './commands/verify.js';
import { register as registerIso } from './commands/iso.js';
import { register as registerKeygen } from './commands/keygen.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The command line: parse `argv` and run the command it names. */
export async function runCli(argv: string[]): Promise<void> {
  const program = new Command()
    .name('dudkit')
    .description('Build installer-time driver media (driver update disks, SUSE DUDs, XenServer packs, ESXi VIBs) from one manifest.')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });
  program.exitOverride((err) => {
    // usage errors exit 2 (design.md); --help and --version exit 0
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  for (const register of [registerBuild, registerInspect, registerIso, registerVerify, registerKeygen]) register(program);
  await program.parseAsync(argv);
}
