#!/usr/bin/env node
// Only the tiny leftovers module loads before the signal handlers are in place; the commands and
// their dependencies (which take a while to load) come after, so an interrupt at any moment of
// dudkit's own code removes the temporaries and exits with the one-line message.
import { removeTemporaries } from './tree/leftovers.js';

// an interrupted build leaves nothing behind: no hidden temp file beside the output, no scratch folder
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    removeTemporaries();
    process.stderr.write(`\ndudkit: interrupted (${signal}); nothing was written\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const { runCli } = await import('./program.js');
await runCli(process.argv);
