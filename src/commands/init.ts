import type { Command } from 'commander';
import { init } from '../api.js';
import { action, printJson, say } from './common.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('write a starter DIR/dudkit.yaml from the kernel modules, kmod RPMs and dkms trees found in DIR')
    .argument('[dir]', 'folder to scan', '.')
    .option('--json', 'print one JSON document describing what was found and written on stdout')
    .action(
      action(async (dir: string, opts: { json?: boolean }) => {
        const r = await init(dir);
        if (opts.json) {
          // the document describes the manifest written; each found entry the file it is about
          printJson({ path: r.path, kind: 'manifest', scanned: r.scanned, name: r.name, version: r.version, vendor: r.vendor, sources: r.sources, firmware: r.firmware, found: r.found, skipped: r.skipped });
          return;
        }
        say(`${r.path} (${r.sources.length} source${r.sources.length === 1 ? '' : 's'}); build it with: dudkit build ${r.path} -o out`);
      }),
    );
}
