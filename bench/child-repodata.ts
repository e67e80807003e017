/**
 * The measured dudkit side of the `repodata-N` bench case (bench/cases/disk.ts runs it as a
 * child process under GNU time): repodata/ for the RPMs of folder argv[2], written to argv[3].
 * It imports only what it measures (the repodata writer, the build's hash pool, the file output), not the case's
 * RPM maker, so start-up costs what a repodata-only run of dudkit would.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AtomicFile } from '../src/emit/atomic.js';
import { withHashPool } from '../src/emit/hash-pool.js';
import { buildRepodata } from '../src/formats/repodata/write.js';
import { Scratch } from '../src/tree/scratch.js';
import { fileSource } from '../src/tree/source.js';

const [dir, out, epoch] = process.argv.slice(2) as [string, string, string];
const names = readdirSync(dir).filter((n) => n.endsWith('.rpm'));
await Scratch.with(async (scratch) => {
  const inputs = await Promise.all(names.map(async (n) => ({ href: n, source: await fileSource(join(dir, n)) })));
  const files = await buildRepodata(inputs, { epoch: Number(epoch) }, scratch, withHashPool);
  mkdirSync(join(out, 'repodata'), { recursive: true });
  for (const f of files) await AtomicFile.with(join(out, f.path), [], async (a) => {
    for await (const c of f.source.open()) await a.write(c);
  });
});
