/**
 * Driver-disk benchmarks (issues 5 and 18), each a case of its own:
 * - `repodata-N`: repodata for a folder of N kmod RPMs against `createrepo_c`
 *   (DUDKIT_BENCH_REPODATA_RPMS, default 50,1000; goals ≤ 2× at 50 and ≤ 1× at 1000), and against
 *   its floor in Node: each package read and hashed with SHA-256 on worker threads, nothing else;
 * - `disk-rpms`: a whole RHEL driver update disk from DUDKIT_BENCH_DISK_RPMS (default 50) given
 *   kmod RPMs — `dudkit build` (rhdd3 ISO with the media-check MD5) against the ddiskit pipeline
 *   `createrepo_c && xorriso -as mkisofs -V OEMDRV -R && implantisomd5` (goal ≤ 1×), and against
 *   the floor of its vermagic check of the given modules, which the pipeline does not do: `xz -dc`
 *   of each stored payload;
 * - `disk-modules`: the same disk from modules for DUDKIT_BENCH_DISK_KERNELS (default 50) kernels
 *   (one manifest, one `ko:` source per kernel) against one `rpmbuild -bb` per kernel, then the
 *   same three tools (goal ≤ 0.2×).
 * The RPMs are made once per count by dudkit's own writer (one per synthetic kernel release, each
 * with the real fixture modules, acmenet.ko grown by a synthetic section of
 * DUDKIT_BENCH_DISK_MODULE_MIB, default 1 MiB, so that the build's vermagic check of given kmod
 * RPMs reads real ELF modules); dudkit runs as a child process so that it pays its own start-up
 * like the other tools (the repodata case runs bench/child-repodata.ts, which loads only the repodata writer).
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { POOL_LANES } from '../../src/emit/hash-pool.js';
import { openRpm } from '../../src/formats/rpm/read.js';
import { writeRpm } from '../../src/formats/rpm/write.js';
import type { DriverMeta } from '../../src/model/driverset.js';
import { kmodPackage, type KmodModule } from '../../src/packages/kmod.js';
import { Scratch } from '../../src/tree/scratch.js';
import { fileSource } from '../../src/tree/source.js';
import { hasCommand, measureRows, paired, ratio, sh, type BenchCase, type BenchRow, type Run } from '../registry.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = resolve(SELF, '../../../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const CHILD_REPODATA = join(ROOT, 'dist/bench/child-repodata.js');
const CHILD_HASH_FLOOR = join(ROOT, 'dist/bench/child-hash-floor.js');
const FIXTURE_KO = join(ROOT, 'fixtures/ko/5.14.0-362.8.1.el9_3.x86_64');
const EPOCH = 1700000000;
const COUNT = Number(process.env.DUDKIT_BENCH_DISK_RPMS ?? '50');
const KERNELS = Number(process.env.DUDKIT_BENCH_DISK_KERNELS ?? '50');
const REPODATA_COUNTS = (process.env.DUDKIT_BENCH_REPODATA_RPMS ?? '50,1000').split(',').map(Number);
const CREATEREPO = 'createrepo_c --no-database --general-compress-type=gz';
const DISK_PIPELINE = 'createrepo_c && xorriso -as mkisofs -R && implantisomd5';
/** The floor of the build's vermagic check of given RPMs: it must decompress each payload (up to its last module). */
const CHECK_FLOOR = 'xz -dc of each payload (the check\'s floor)';
/** The floor of repodata in Node: each package read and hashed on worker threads, nothing else (bench/child-hash-floor.ts). */
const HASH_FLOOR = 'node: SHA-256 of each RPM on worker threads (the floor)';
const MODULES_PIPELINE = `rpmbuild -bb per kernel && ${DISK_PIPELINE}`;
/** Size of each package's synthetic module (MiB); real kmods hold 0.1–20 MiB. */
const MODULE_MIB = Number(process.env.DUDKIT_BENCH_DISK_MODULE_MIB ?? '1');
const META: DriverMeta = { name: 'acmenet', version: '2.4.1', release: '1', vendor: 'acme', summary: 'bench driver', description: 'Benchmark driver disk.', license: 'GPLv2' };

function synthetic(size: number, seed: number): Uint8Array {
  const buf = Buffer.alloc(size);
  let x = seed || 1;
  // whole 32-bit words only: a fractional DUDKIT_BENCH_DISK_MODULE_MIB leaves a zero tail
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    // mostly small values: compresses about like code does
    buf.writeUInt32LE((x >>> 0) & 0x0f0f0fff, i);
  }
  return buf;
}

function kernelOf(i: number): string {
  return `5.14.0-${100 + i}.el9.x86_64`;
}

/** acmenet.ko with a section of DUDKIT_BENCH_DISK_MODULE_MIB synthetic bytes (`seed`), written at `out`: a real module of that size. */
function grownModule(out: string, seed: number): string {
  const pad = `${out}.pad`;
  writeFileSync(pad, synthetic(Math.round(MODULE_MIB * (1 << 20)), seed));
  execFileSync('objcopy', ['--add-section', `.dudkit_pad=${pad}`, '--set-section-flags', '.dudkit_pad=contents,readonly', join(FIXTURE_KO, 'acmenet.ko'), out]);
  rmSync(pad);
  return out;
}

/** `count` kmod RPMs in `dir`, one per kernel; those already in folder `from` are hard-linked. */
async function makeRpms(dir: string, count: number, from?: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const have = from ? readdirSync(from).sort() : [];
  await Scratch.with(async (scratch) => {
    for (let i = 0; i < count; i++) {
      const kernel = kernelOf(i);
      const linked = have.find((n) => n.includes(`.${100 + i}.el9.`));
      if (from && linked) {
        linkSync(join(from, linked), join(dir, linked));
        continue;
      }
      const modules: KmodModule[] = [];
      for (const name of ['acmenet', 'acmestor']) {
        const src = name === 'acmenet' ? await fileSource(grownModule(scratch.path(`acmenet-${i}.ko`), i + 1)) : await fileSource(join(FIXTURE_KO, `${name}.ko`));
        modules.push({ facts: { name }, origin: name, original: src, compression: 'none', plain: src });
      }
      const spec = kmodPackage({ meta: META, build: { kernelRelease: kernel, arch: 'x86_64', modules }, kernelModules: { op: '=' }, buildTime: EPOCH });
      const rpm = await writeRpm(spec, scratch);
      await pipeline(Readable.from(rpm.open()), createWriteStream(join(dir, rpm.fileName)));
    }
  });
}

/** RPM folders by count, made once for all cases of this run (in one work folder removed at exit). */
let work: string | undefined;
const rpmFolders = new Map<number, string>();
async function rpmsOf(count: number): Promise<string> {
  if (!hasCommand('objcopy')) throw new Error('bench: objcopy (binutils) is needed to make the large module');
  if (!work) {
    const w = mkdtempSync(join(process.env.DUDKIT_BENCH_DIR ?? tmpdir(), 'dudkit-bench-disk-'));
    process.on('exit', () => rmSync(w, { recursive: true, force: true }));
    work = w;
  }
  let dir = rpmFolders.get(count);
  if (!dir) {
    // under DUDKIT_BENCH_DIR the packages are kept for the next run (made in a partial folder, then renamed)
    const kept = process.env.DUDKIT_BENCH_DIR ? join(process.env.DUDKIT_BENCH_DIR, `rpms-${count}-${MODULE_MIB}mib`) : undefined;
    dir = kept ?? join(work, `rpms-${count}`);
    if (!kept || !existsSync(kept)) {
      const making = kept ? `${kept}.partial` : dir;
      rmSync(making, { recursive: true, force: true });
      // the packages of the largest folder made so far are linked, not made again
      const largest = [...rpmFolders.entries()].sort(([a], [b]) => b - a)[0]?.[1];
      await makeRpms(making, count, largest);
      if (kept) renameSync(making, kept);
    }
    rpmFolders.set(count, dir);
  }
  return dir;
}

const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) };

function row(tool: string, command: string, before: () => void, compareWith: string[] = [], goals: Record<string, number> = {}): Run {
  return { tool, command, before, env, compareWith, goals };
}

async function runRepodata(count: number): Promise<BenchRow[]> {
  const rpms = await rpmsOf(count);
  const label = `repodata, ${count} kmod RPMs`;
  const repoOut = join(work!, 'repo-out');
  const have = hasCommand('createrepo_c');
  const runs = [row('dudkit repodata', `${sh(process.execPath)} ${sh(CHILD_REPODATA)} ${sh(rpms)} ${sh(repoOut)} ${EPOCH}`, () => rmSync(repoOut, { recursive: true, force: true }), [...(have ? [CREATEREPO] : []), HASH_FLOOR], { [CREATEREPO]: count >= 1000 ? 1 : 2 })];
  runs.push(row(HASH_FLOOR, `${sh(process.execPath)} ${sh(CHILD_HASH_FLOOR)} ${sh(rpms)} ${POOL_LANES}`, () => undefined));
  if (have) runs.push(row(CREATEREPO, `${CREATEREPO} -q ${sh(rpms)}`, () => rmSync(join(rpms, 'repodata'), { recursive: true, force: true })));
  const rows = measureRows(label, runs);
  rmSync(join(rpms, 'repodata'), { recursive: true, force: true });
  rmSync(repoOut, { recursive: true, force: true });
  return rows;
}

const haveDiskTools = (): boolean => hasCommand('createrepo_c') && hasCommand('xorriso') && hasCommand('implantisomd5');

/** The ddiskit tail after the RPMs are in `tree/rpms/x86_64`: repodata, the ISO, its media-check MD5. */
function diskTools(tree: string, iso: string): string {
  return `${CREATEREPO} -q ${sh(join(tree, 'rpms/x86_64'))} && xorriso -as mkisofs -quiet -V OEMDRV -R -o ${sh(iso)} ${sh(tree)} && implantisomd5 ${sh(iso)} >/dev/null`;
}

function freshTree(tree: string, iso: string): void {
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'rpms/x86_64'), { recursive: true });
  writeFileSync(join(tree, 'rhdd3'), 'Driver Update Disk version 3');
  rmSync(iso, { force: true });
}

const TARGET = 'targets:\n  - rhdd3: { out: dd.iso, implantMd5: true, checksums: [] }\n';

async function runDiskFromRpms(): Promise<BenchRow[]> {
  const rpms = await rpmsOf(COUNT);
  const label = `driver disk ISO + media-check MD5, ${COUNT} kmod RPMs of ${MODULE_MIB} MiB modules`;
  const manifest = join(work!, 'dudkit.yaml');
  writeFileSync(manifest, `name: acmenet\nversion: 2.4.1\nvendor: acme\nsummary: bench\nsources:\n  - rpm: ${rpms}/*.rpm\n${TARGET}`);
  const out = join(work!, 'out');
  const have = haveDiskTools();
  const payloads = await payloadFiles(rpms, join(work!, 'payloads'));
  const runs = [row('dudkit build', `${sh(process.execPath)} ${sh(CLI)} build ${sh(manifest)} -o ${sh(out)}`, () => rmSync(out, { recursive: true, force: true }), [...(have ? [DISK_PIPELINE] : []), ...(payloads ? [CHECK_FLOOR] : [])], { [DISK_PIPELINE]: 1 })];
  // the stored payloads were cut out as setup; only their decompression is timed
  if (payloads) runs.push(row(CHECK_FLOOR, `for f in ${sh(payloads)}/*; do xz -dc "$f" >/dev/null || exit 1; done`, () => undefined));
  if (have) {
    const tree = join(work!, 'tree');
    const iso = join(work!, 'dd.iso');
    const prepare = (): void => {
      freshTree(tree, iso);
      for (const n of readdirSync(rpms)) copyFileSync(join(rpms, n), join(tree, 'rpms/x86_64', n));
    };
    // the copy into the tree is setup (ddiskit builds the tree in place); only the three tools are timed
    runs.push(row(DISK_PIPELINE, diskTools(tree, iso), prepare));
  }
  const rows = measureRows(label, runs);
  rmSync(out, { recursive: true, force: true });
  return rows;
}

/** Each RPM's stored (xz) payload as a file in `dir`, or undefined without xz. */
async function payloadFiles(rpms: string, dir: string): Promise<string | undefined> {
  if (!hasCommand('xz')) return undefined;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const n of readdirSync(rpms).filter((f) => f.endsWith('.rpm'))) {
    const pkg = await openRpm(join(rpms, n));
    await pipeline(Readable.from(pkg.rawPayload()), createWriteStream(join(dir, `${n}.xz`)));
  }
  return dir;
}

/** The spec ddiskit would hand rpmbuild for one kernel: the modules under extra/, depmod in %post. */
function kmodSpec(kernel: string, modules: readonly string[]): string {
  const dest = `/lib/modules/${kernel}/extra/${META.name}`;
  return [
    `Name: kmod-${META.vendor}-${META.name}`,
    `Version: ${META.version}`,
    `Release: ${META.release}.${kernel.split('-')[1]!.replace(/\.x86_64$/, '')}`,
    `Summary: ${META.summary}`,
    `License: ${META.license}`,
    'BuildArch: x86_64',
    `Requires: kernel-uname-r = ${kernel}`,
    'Requires(post): /usr/sbin/depmod',
    '%description',
    META.description,
    '%install',
    `mkdir -p %{buildroot}${dest}`,
    `cp ${modules.map(sh).join(' ')} %{buildroot}${dest}/`,
    '%post',
    `/usr/sbin/depmod -a ${kernel} || :`,
    '%files',
    `%dir ${dest}`,
    `${dest}/*.ko`,
    '',
  ].join('\n');
}

async function runDiskFromModules(): Promise<BenchRow[]> {
  await rpmsOf(0); // the work folder
  const dir = join(work!, 'modules');
  mkdirSync(dir, { recursive: true });
  const modules = [grownModule(join(dir, 'acmenet.ko'), 1), join(FIXTURE_KO, 'acmestor.ko')];
  const kernels = Array.from({ length: KERNELS }, (_, i) => kernelOf(i));
  const label = `driver disk ISO + media-check MD5 from modules for ${KERNELS} kernels (${MODULE_MIB} MiB module)`;
  const manifest = join(work!, 'modules.yaml');
  const sources = kernels.map((k) => `  - ko: [${modules.join(', ')}]\n    kernel: ${k}\n`).join('');
  writeFileSync(manifest, `name: acmenet\nversion: 2.4.1\nvendor: acme\nsummary: bench\nsources:\n${sources}${TARGET}`);
  const out = join(work!, 'out');
  const have = haveDiskTools() && hasCommand('rpmbuild');
  const runs = [row('dudkit build', `${sh(process.execPath)} ${sh(CLI)} build ${sh(manifest)} -o ${sh(out)} -q`, () => rmSync(out, { recursive: true, force: true }), have ? [MODULES_PIPELINE] : [], { [MODULES_PIPELINE]: 0.2 })];
  if (have) {
    const top = join(work!, 'rpmbuild');
    const tree = join(work!, 'tree');
    const iso = join(work!, 'dd.iso');
    const specs = kernels.map((k, i) => {
      const spec = join(work!, `kmod-${i}.spec`);
      writeFileSync(spec, kmodSpec(k, modules));
      return spec;
    });
    const defines = [
      `_topdir ${top}`,
      `_rpmdir ${join(tree, 'rpms')}`,
      '_binary_payload w2.xzdio',
      '_binary_filedigest_algorithm 8',
      'use_source_date_epoch_as_buildtime 1',
      'clamp_mtime_to_source_date_epoch 1',
      '__os_install_post %{nil}',
      'debug_package %{nil}',
      '_build_id_links none',
    ].map((d) => `--define ${sh(d)}`).join(' ');
    const builds = specs.map((s) => `rpmbuild ${defines} --target x86_64 --quiet -bb ${sh(s)}`).join(' && ');
    const prepare = (): void => {
      freshTree(tree, iso);
      rmSync(top, { recursive: true, force: true });
      for (const d of ['BUILD', 'BUILDROOT', 'SOURCES']) mkdirSync(join(top, d), { recursive: true });
    };
    runs.push(row(MODULES_PIPELINE, `${builds} && ${diskTools(tree, iso)}`, prepare));
  }
  const rows = measureRows(label, runs);
  rmSync(out, { recursive: true, force: true });
  return rows;
}

/**
 * The closing note's line for disk-rpms: how far dudkit is above what its vermagic check must do
 * (decode each payload, which the pipeline never does), and what the rest of the build costs.
 */
export function diskSummary(rows: readonly BenchRow[]): string[] {
  const build = rows.find((r) => r.tool === 'dudkit build' && rows.some((x) => x.case === r.case && x.tool === CHECK_FLOOR));
  const floor = rows.find((r) => r.case === build?.case && r.tool === CHECK_FLOOR);
  const pipeline = rows.find((r) => r.case === build?.case && r.tool === DISK_PIPELINE);
  if (!build || !floor) return [];
  const rest = pipeline ? `; the floor plus the pipeline's ${pipeline.seconds.toFixed(2)} s would be ${paired([build, floor, pipeline], ([b, f, p]) => b! / (f! + p!)).toFixed(2)}×` : '';
  return [`${build.case}: dudkit build ${ratio(build, floor).toFixed(2)}× its check's floor (${floor.seconds.toFixed(2)} s of xz -dc on one core, which the pipeline does not do)${rest}`];
}

export const diskCases: BenchCase[] = [
  ...REPODATA_COUNTS.map((n) => ({ name: `repodata-${n}`, run: () => runRepodata(n) })),
  { name: 'disk-rpms', run: runDiskFromRpms },
  { name: 'disk-modules', run: runDiskFromModules },
];
