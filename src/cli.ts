#!/usr/bin/env node
// The signal handlers are in place before anything else loads; the library and the commands
// (which take a while to load) come after, so an interrupt at any moment of dudkit's own code
// removes the temporaries and exits with the one-line message. Until the library is loaded there
// are no temporaries to remove.
import module from 'node:module';
import v8 from 'node:v8';

// Most commands finish within a second: at V8's default tier-up budget TurboFan compiles, on the
// other core, many functions that ran a few milliseconds and will not run again (about 0.2 s of
// CPU in `dudkit iso` of 2,000 files). Four times the budget still optimises what stays hot.
v8.setFlagsFromString('--interrupt-budget=270336');

let removeTemporaries = (): void => {};

// an interrupted build leaves nothing behind: no hidden temp file beside the output, no scratch folder
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    removeTemporaries();
    process.stderr.write(`\ndudkit: interrupted (${signal}); nothing was written\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

// Node 22+ keeps the compiled modules between runs (in NODE_COMPILE_CACHE or the temp folder); Node 20 has no such cache
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

({ removeTemporaries } = await import('./api.js'));
const { runCli } = await import('./program.js');
await runCli(process.argv);
