// man/dudkit.1 from the compiled command tree (the source --help prints), run by `npm run build`;
// `--check` only compares, for the test that proves the committed page is current.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { makeProgram } from '../dist/src/program.js';
import { manPage } from '../dist/src/commands/manpage.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const page = manPage(makeProgram(), version);
const file = new URL('../man/dudkit.1', import.meta.url);
if (process.argv[2] === '--check') {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== page) {
    process.stderr.write('man/dudkit.1 is not what the command tree gives: run npm run build\n');
    process.exit(1);
  }
} else {
  mkdirSync(new URL('../man/', import.meta.url), { recursive: true });
  writeFileSync(file, page);
}
