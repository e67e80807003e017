import type { Command } from 'commander';
import { init } from '../api.js';
import { action, say } from './common.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('write a starter DIR/dudkit.yaml from the kernel modules, kmod RPMs and dkms trees found in DIR')
    .argument('[dir]', 'folder to scan', '.')
    .action(
      action(async (dir: string) => {
        const r = await init(dir);
        say(`${r.path} (${r.sources.length} source${r.sources.length === 1 ? '' : 's'}); build it with: dudkit build ${r.path} -o out`);
      }),
    );
}
