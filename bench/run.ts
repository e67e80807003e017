/**
 * `npm run bench`: runs every registered case (or those whose name contains an argument) and
 * prints one table. Add a case by exporting `BenchCase`s from `bench/cases/<name>.ts` and listing
 * them below. Knobs: DUDKIT_BENCH_REPEAT (best of N, default 3), DUDKIT_BENCH_DIR (work folder),
 * DUDKIT_BENCH_ISO_SIZES (default 100M,1G), DUDKIT_BENCH_TARGETS_MODULE_MIB (default 64).
 */
import { attachCases, attachSummary } from './cases/attach.js';
import { isoCases, isoSummary } from './cases/iso.js';
import { diskCases } from './cases/disk.js';
import { rpmCases } from './cases/rpm.js';
import { targetsCases, targetsSummary } from './cases/targets.js';
import { hasCommand, printTable, type BenchCase, type BenchRow } from './registry.js';

const cases: BenchCase[] = [...isoCases, ...rpmCases, ...diskCases, ...attachCases, ...targetsCases];
const summaries: ((rows: readonly BenchRow[]) => string[])[] = [isoSummary, attachSummary, targetsSummary];

if (!hasCommand('/usr/bin/time')) {
  process.stderr.write('bench: GNU time is needed at /usr/bin/time (Debian package "time")\n');
  process.exit(2);
}
const filters = process.argv.slice(2);
const rows: BenchRow[] = [];
for (const c of cases) {
  if (filters.length > 0 && !filters.some((f) => c.name.includes(f))) continue;
  process.stderr.write(`bench: ${c.name}\n`);
  rows.push(...(await c.run()));
}
printTable(rows);
const notes = summaries.flatMap((s) => s(rows));
if (notes.length > 0) process.stdout.write(`\n${notes.join('\n')}\n`);
