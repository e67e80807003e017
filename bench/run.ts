/**
 * `npm run bench`: runs every registered case (or those whose name contains an argument) and
 * prints one table. Add a case by exporting `BenchCase`s from `bench/cases/<name>.ts` and listing
 * them below. Each ratio with a goal of issue 18 prints it beside it ("goal ≤ 1.1×: met").
 * `npm run bench -- iso-100M rpm-xz` runs only those cases (names containing an argument):
 * iso-<size>, rpm-xz, rpm-gzip, repodata-<n>, disk-rpms, disk-modules, attach-<size>, targets.
 * Knobs: DUDKIT_BENCH_REPEAT (rounds, each of a case's commands run once per round; seconds are
 * the best round, ratios the median of the rounds' ratios; default 3), DUDKIT_BENCH_DIR (work folder; the disk cases keep their RPMs there for the
 * next run, one folder per count and module size),
 * DUDKIT_BENCH_ISO_SIZES (default 100M,1G; 4G for the flat-RSS check), DUDKIT_BENCH_RPM_MIB
 * (default 32), DUDKIT_BENCH_REPODATA_RPMS (default 50,1000), DUDKIT_BENCH_DISK_RPMS and
 * DUDKIT_BENCH_DISK_KERNELS (default 50), DUDKIT_BENCH_DISK_MODULE_MIB (default 1),
 * DUDKIT_BENCH_ATTACH_SIZE (default 1G), DUDKIT_BENCH_TARGETS_MODULE_MIB (default 64).
 * A quick run: DUDKIT_BENCH_REPEAT=1 DUDKIT_BENCH_ISO_SIZES=100M DUDKIT_BENCH_RPM_MIB=4
 * DUDKIT_BENCH_REPODATA_RPMS=20 DUDKIT_BENCH_DISK_RPMS=5 DUDKIT_BENCH_DISK_KERNELS=5
 * DUDKIT_BENCH_ATTACH_SIZE=100M DUDKIT_BENCH_TARGETS_MODULE_MIB=8 npm run bench
 */
import { attachCases } from './cases/attach.js';
import { isoCases, isoSummary } from './cases/iso.js';
import { diskCases, diskSummary } from './cases/disk.js';
import { rpmCases } from './cases/rpm.js';
import { targetsCases, targetsSummary } from './cases/targets.js';
import { memoryReportingWarning } from './machine.js';
import { hasCommand, printTable, type BenchCase, type BenchRow } from './registry.js';

const cases: BenchCase[] = [...isoCases, ...rpmCases, ...diskCases, ...attachCases, ...targetsCases];
const summaries: ((rows: readonly BenchRow[]) => string[])[] = [isoSummary, diskSummary, targetsSummary];

if (!hasCommand('/usr/bin/time')) {
  process.stderr.write('bench: GNU time is needed at /usr/bin/time (Debian package "time")\n');
  process.exit(2);
}
const warning = memoryReportingWarning();
if (warning) process.stderr.write(`${warning}\n`);
const filters = process.argv.slice(2);
const rows: BenchRow[] = [];
for (const c of cases) {
  if (filters.length > 0 && !filters.some((f) => c.name.includes(f))) continue;
  process.stderr.write(`bench: ${c.name}\n`);
  rows.push(...(await c.run()));
}
printTable(rows);
const notes = [...summaries.flatMap((s) => s(rows)), ...(warning ? [warning] : [])];
if (notes.length > 0) process.stdout.write(`\n${notes.join('\n')}\n`);
