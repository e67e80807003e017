import type { Command } from 'commander';
import { inspect } from '../api.js';
import { action, commandContext, printJson, say } from './common.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show what is on a medium or in an input: kernel module, RPM, dkms tree, ISO, cpio, ESXi VIB or bundle')
    .argument('<path>', 'file or folder to inspect')
    .option('--ca <pem>', 'certificates to check X.509 signatures against (ESXi VIBs: the signer, or a CA it chains to)')
    .option('--json', 'print one JSON document on stdout')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .action(
      action(async (path: string, opts: { ca?: string; json?: boolean; progress?: boolean }) => {
        const report = await inspect(path, { ctx: commandContext(opts), ...(opts.ca ? { ca: opts.ca } : {}) });
        // a reader's own `path` fact (a dkms tree's, a module's) names the same input
        if (opts.json) printJson({ path, ...(report.json as { kind: string }) });
        else say(report.text.endsWith('\n') ? report.text : `${report.text}\n`);
      }, (path) => path),
    );
}
