/**
 * Driver-disk benchmarks (issue 5): repodata for a folder of kmod RPMs against `createrepo_c`, and a
 * whole RHEL driver update disk from 50 kmod RPMs — `dudkit build` (rhdd3 ISO with the media-check
 * MD5) against the ddiskit pipeline `createrepo_c && xorriso -as mkisofs -V OEMDRV -R &&
 * implantisomd5`. The RPMs are made once by dudkit's own writer (one per synthetic kernel release,
 * each with the real fixture modules and a synthetic module of DUDKIT_BENCH_DISK_MODULE_MIB, default
 * 1 MiB); dudkit runs as a child process
 * so that it pays its own start-up like the other tools.
 */
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { buildRepodata } from '../../src/formats/repodata/write.js';
import { writeRpm } from '../../src/formats/rpm/write.js';
import type { DriverMeta } from '../../src/model/driverset.js';
import { kmodPackage, type KmodModule } from '../../src/packages/kmod.js';
import { AtomicFile } from '../../src/emit/atomic.js';
import { Scratch } from '../../src/tree/scratch.js';
import { bytesSource, fileSource } from '../../src/tree/source.js';
import { hasCommand, measure, sh, type BenchCase, type BenchRow } from '../registry.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(SELF, '../../../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const FIXTURE_KO = join(ROOT, 'fixtures/ko/5.14.0-362.8.1.el9_3.x86_64');
const EPOCH = 1700000000;
const COUNT = Number(process.env.DUDKIT_BENCH_DISK_RPMS ?? '50');
/** Size of each package's synthetic module (MiB); real kmods hold 0.1–20 MiB. */
const MODULE_MIB = Number(process.env.DUDKIT_BENCH_DISK_MODULE_MIB ?? '1');
const META: DriverMeta = { name: 'acmenet', version: '2.4.1', release: '1', vendor: 'acme', summary: 'bench driver', description: 'Benchmark driver disk.', license: 'GPLv2' };

function synthetic(size: number, seed: number): Uint8Array {
  const buf = Buffer.alloc(size);
  let x = seed || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // mostly small values: compresses about like code does
    buf.writeUInt32LE((x >>> 0) & 0x0f0f0fff, i);
  }
  return buf;
}

export async function makeRpms(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await Scratch.with(async (scratch) => {
    for (let i = 0; i < COUNT; i++) {
      const kernel = `5.14.0-${100 + i}.el9.x86_64`;
      const modules: KmodModule[] = [];
      for (const name of ['acmenet', 'acmestor']) {
        const src = await fileSource(join(FIXTURE_KO, `${name}.ko`));
        modules.push({ facts: { name }, origin: name, original: src, compression: 'none', plain: src });
      }
      const big = bytesSource(synthetic(Math.round(MODULE_MIB * (1 << 20)), i + 1), 'acmebig.ko');
      modules.push({ facts: { name: 'acmebig' }, origin: 'acmebig', original: big, compression: 'none', plain: big });
      const spec = kmodPackage({ meta: META, build: { kernelRelease: kernel, arch: 'x86_64', modules }, kernelModules: { op: '=' }, buildTime: EPOCH });
      const rpm = await writeRpm(spec, scratch);
      await pipeline(Readable.from(rpm.open()), createWriteStream(join(dir, rpm.fileName)));
    }
  });
}

/** The measured dudkit side of the repodata case: repodata/ for the RPMs of `dir`, written to `out`. */
async function childRepodata(dir: string, out: string): Promise<void> {
  const names = readdirSync(dir).filter((n) => n.endsWith('.rpm'));
  await Scratch.with(async (scratch) => {
    const inputs = await Promise.all(names.map(async (n) => ({ href: n, source: await fileSource(join(dir, n)) })));
    const files = await buildRepodata(inputs, { epoch: EPOCH }, scratch);
    mkdirSync(join(out, 'repodata'), { recursive: true });
    for (const f of files) await AtomicFile.with(join(out, f.path), [], async (a) => {
      for await (const c of f.source.open()) await a.write(c);
    });
  });
}

async function run(): Promise<BenchRow[]> {
  const work = mkdtempSync(join(process.env.DUDKIT_BENCH_DIR ?? tmpdir(), 'dudkit-bench-disk-'));
  try {
    const rpms = join(work, 'rpms');
    await makeRpms(rpms);
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) };
    const rows: BenchRow[] = [];
    const row = (label: string, tool: string, command: string, before: () => void, compareWith: string[] = []): void => {
      const m = measure(command, { before, env });
      rows.push({ case: label, tool, seconds: m.seconds, maxRssKiB: m.maxRssKiB, compareWith });
    };

    const repoLabel = `repodata, ${COUNT} kmod RPMs`;
    const repoOut = join(work, 'repo-out');
    const cr = 'createrepo_c --no-database --general-compress-type=gz';
    row(repoLabel, 'dudkit repodata', `${sh(process.execPath)} ${sh(SELF)} --child-repodata ${sh(rpms)} ${sh(repoOut)}`, () => rmSync(repoOut, { recursive: true, force: true }), hasCommand('createrepo_c') ? [cr] : []);
    if (hasCommand('createrepo_c')) row(repoLabel, cr, `${cr} -q ${sh(rpms)}`, () => rmSync(join(rpms, 'repodata'), { recursive: true, force: true }));
    rmSync(join(rpms, 'repodata'), { recursive: true, force: true });

    const diskLabel = `driver disk ISO + media-check MD5, ${COUNT} kmod RPMs of ${MODULE_MIB} MiB modules`;
    const manifest = join(work, 'dudkit.yaml');
    writeFileSync(manifest, `name: acmenet\nversion: 2.4.1\nvendor: acme\nsummary: bench\nsources:\n  - rpm: ${rpms}/*.rpm\ntargets:\n  - rhdd3: { out: dd.iso, implantMd5: true, checksums: [] }\n`);
    const out = join(work, 'out');
    const pipelineName = 'createrepo_c && xorriso -as mkisofs -R && implantisomd5';
    const have = hasCommand('createrepo_c') && hasCommand('xorriso') && hasCommand('implantisomd5');
    row(diskLabel, 'dudkit build', `${sh(process.execPath)} ${sh(CLI)} build ${sh(manifest)} -o ${sh(out)}`, () => rmSync(out, { recursive: true, force: true }), have ? [pipelineName] : []);
    if (have) {
      const tree = join(work, 'tree');
      const prepare = (): void => {
        rmSync(tree, { recursive: true, force: true });
        mkdirSync(join(tree, 'rpms/x86_64'), { recursive: true });
        writeFileSync(join(tree, 'rhdd3'), 'Driver Update Disk version 3');
        for (const n of readdirSync(rpms)) copyFileSync(join(rpms, n), join(tree, 'rpms/x86_64', n));
        rmSync(join(work, 'dd.iso'), { force: true });
      };
      // the copy into the tree is setup (ddiskit builds the tree in place); only the three tools are timed
      row(diskLabel, pipelineName, `${cr} -q ${sh(join(tree, 'rpms/x86_64'))} && xorriso -as mkisofs -quiet -V OEMDRV -R -o ${sh(join(work, 'dd.iso'))} ${sh(tree)} && implantisomd5 ${sh(join(work, 'dd.iso'))} >/dev/null`, prepare);
    }
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const diskCases: BenchCase[] = [{ name: 'disk', run }];

if (process.argv[1] === SELF && process.argv[2] === '--child-repodata') {
  await childRepodata(process.argv[3]!, process.argv[4]!);
}
