// npm lists a package's `prepare` among the install scripts to approve, though it never runs it
// for a tarball: the packed package.json carries it as `_prepare` (inert) and the checkout gets it
// back after packing, so `npm install` from git still builds. pinst's habit, for `prepare`.
//   node scripts/pack-scripts.mjs off   (prepack)   |   node scripts/pack-scripts.mjs on   (postpack)
import { readFileSync, writeFileSync } from 'node:fs';

const [from, to] = process.argv[2] === 'off' ? ['prepare', '_prepare'] : ['_prepare', 'prepare'];
const text = readFileSync('package.json', 'utf8');
const pkg = JSON.parse(text);
if (pkg.scripts?.[from] !== undefined) {
  // the same key order, so the checkout's package.json is byte-identical after a pack
  pkg.scripts = Object.fromEntries(Object.entries(pkg.scripts).map(([k, v]) => [k === from ? to : k, v]));
  writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
}
