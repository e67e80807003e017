/**
 * Benchmark: a kmod RPM written by dudkit from prebuilt modules, against `rpmbuild -bb` of the
 * equivalent spec (same files, xz level 2 payload, SHA-256 file digests, SOURCE_DATE_EPOCH), as
 * ddiskit's pipeline does it. Both sides run as child processes so that each one's peak RSS is its
 * own: dudkit through this file's `--child` entry, rpmbuild under GNU time when it is installed.
 *
 * Inputs are synthetic modules (see `writeSyntheticModule`); DUDKIT_BENCH_SCALE multiplies their
 * size (default 1 = 8 × 4 MiB). The machine's load makes wall time noisy: CPU time (user + system,
 * all threads and children) is reported too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { writeRpm, type PayloadCompressor } from '../../src/formats/rpm/write.js';
import type { DriverMeta } from '../../src/model/driverset.js';
import { kmodPackage, type KmodModule } from '../../src/packages/kmod.js';
import { Scratch } from '../../src/tree/scratch.js';
import { fileSource } from '../../src/tree/source.js';

const KERNEL = '5.14.0-362.8.1.el9_3.x86_64';
const EPOCH = 1700000000;
const META: DriverMeta = {
  name: 'benchnet',
  version: '1.0',
  release: '1',
  vendor: 'acme',
  summary: 'Benchmark driver',
  description: 'Synthetic modules for the dudkit benchmark.',
  license: 'GPLv2',
};

export interface Measure {
  /** wall-clock seconds */
  seconds: number;
  /** user + system CPU seconds */
  cpuSeconds: number;
  /** peak resident set size in KiB, when it could be measured */
  maxRssKiB: number | null;
  bytes: number;
}

export interface RpmBenchResult {
  name: string;
  inputBytes: number;
  dudkit: Measure;
  rpmbuild: Measure | null;
  /** dudkit time / rpmbuild time (below 1: dudkit is faster) */
  timeRatio: number | null;
  cpuRatio: number | null;
  rssRatio: number | null;
  note?: string;
}

/**
 * Deterministic module-like content: tokens drawn from a small random vocabulary (like code and
 * symbol tables) with some raw random bytes; xz -2 shrinks it about 3:1, as it does real modules.
 */
function writeSyntheticModule(path: string, size: number, seed: number): void {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const vocabulary = Array.from({ length: 512 }, () => Buffer.from(Array.from({ length: 2 + (next() % 15) }, () => next() & 0xff)));
  const buf = Buffer.alloc(size);
  let pos = 0;
  while (pos < size) {
    const r = next();
    if (r % 8 === 0) buf[pos++] = r >>> 8;
    else pos += vocabulary[r % 512]!.copy(buf, pos);
  }
  writeFileSync(path, buf);
}

function moduleNames(dir: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => join(dir, `bench${i}.ko`));
}

/** The child side: build the kmod RPM from the modules and write it to `out`; print the measure. */
async function child(moduleDir: string, count: number, out: string, compressor: PayloadCompressor): Promise<void> {
  const started = process.hrtime.bigint();
  const modules = await Promise.all(
    moduleNames(moduleDir, count).map(async (path, i): Promise<KmodModule> => {
      const src = await fileSource(path);
      return {
        facts: { name: `bench${i}` },
        origin: path,
        original: src,
        compression: 'none',
        plain: src,
      };
    }),
  );
  const pkg = kmodPackage({ meta: META, build: { kernelRelease: KERNEL, arch: 'x86_64', modules }, kernelModules: { op: '>=' }, buildTime: EPOCH });
  await Scratch.with(async (scratch) => {
    const rpm = await writeRpm(pkg, scratch, { compressor });
    await pipeline(Readable.from(rpm.open()), createWriteStream(out));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = process.resourceUsage();
  const measure: Measure = { seconds, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, maxRssKiB: usage.maxRSS, bytes: statSync(out).size };
  process.stdout.write(JSON.stringify(measure));
}

function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function rpmbuildSpec(moduleDir: string, count: number): string {
  const dest = `/lib/modules/${KERNEL}/extra/${META.name}`;
  return [
    `Name: kmod-${META.vendor}-${META.name}`,
    `Version: ${META.version}`,
    `Release: ${META.release}`,
    `Summary: ${META.summary}`,
    `License: ${META.license}`,
    'BuildArch: x86_64',
    `Provides: kernel-modules >= ${KERNEL}`,
    'Requires(post): /usr/sbin/depmod',
    '%description',
    META.description,
    '%install',
    `mkdir -p %{buildroot}${dest} %{buildroot}/etc/depmod.d`,
    `cp ${moduleNames(moduleDir, count).join(' ')} %{buildroot}${dest}/`,
    `echo 'override bench0 * extra/${META.name}' > %{buildroot}/etc/depmod.d/${META.name}.conf`,
    '%post',
    `/usr/sbin/depmod -a ${KERNEL} || :`,
    '%files',
    `%dir ${dest}`,
    `${dest}/*.ko`,
    `%config /etc/depmod.d/${META.name}.conf`,
    '',
  ].join('\n');
}

function runRpmbuild(work: string, moduleDir: string, count: number, compressor: PayloadCompressor): Measure {
  const top = join(work, `rpmbuild-${compressor}`);
  for (const d of ['SPECS', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS', 'SOURCES']) mkdirSync(join(top, d), { recursive: true });
  const spec = join(top, 'SPECS', 'kmod.spec');
  writeFileSync(spec, rpmbuildSpec(moduleDir, count));
  const args = [
    '--define', `_topdir ${top}`,
    '--define', `_binary_payload ${compressor === 'xz' ? 'w2.xzdio' : 'w9.gzdio'}`,
    '--define', '_binary_filedigest_algorithm 8',
    '--define', 'use_source_date_epoch_as_buildtime 1',
    '--define', 'clamp_mtime_to_source_date_epoch 1',
    '--define', '__os_install_post %{nil}',
    '--define', 'debug_package %{nil}',
    '--define', '_build_id_links none',
    '--target', 'x86_64', '--quiet', '-bb', spec,
  ];
  const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) };
  const timed = hasCommand('/usr/bin/time');
  const started = process.hrtime.bigint();
  const r = timed
    ? spawnSync('/usr/bin/time', ['-f', '%M %U %S', '-o', join(work, 'rpmbuild.usage'), 'rpmbuild', ...args], { env, encoding: 'utf8' })
    : spawnSync('rpmbuild', args, { env, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`rpmbuild failed: ${r.stderr}`);
  const rpm = execFileSync('sh', ['-c', `ls ${top}/RPMS/x86_64/*.rpm`], { encoding: 'utf8' }).trim();
  // GNU time: peak RSS of the largest process, CPU of the whole tree
  const usage = timed ? readFileSync(join(work, 'rpmbuild.usage'), 'utf8').trim().split('\n').pop()!.split(' ').map(Number) : null;
  return { seconds, cpuSeconds: usage ? usage[1]! + usage[2]! : Number.NaN, maxRssKiB: usage ? usage[0]! : null, bytes: statSync(rpm).size };
}

function measureOne(work: string, moduleDir: string, count: number, size: number, compressor: PayloadCompressor): RpmBenchResult {
  const out = join(work, `dudkit-${compressor}.rpm`);
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', moduleDir, String(count), out, compressor], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dudkit child failed: ${r.stderr}`);
  const measured = JSON.parse(r.stdout) as Measure;
  // wall time as seen from outside, so that both sides include their process start-up
  const dudkit: Measure = { ...measured, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  const level = compressor === 'xz' ? 'xz -2' : 'gzip -9';
  const name = `kmod RPM vs rpmbuild -bb, ${count} modules × ${(size / 1048576).toFixed(1)} MiB (${level}, sha256)`;
  if (!hasCommand('rpmbuild')) return { name, inputBytes: count * size, dudkit, rpmbuild: null, timeRatio: null, cpuRatio: null, rssRatio: null, note: 'rpmbuild not installed' };
  const rpmbuild = runRpmbuild(work, moduleDir, count, compressor);
  return {
    name,
    inputBytes: count * size,
    dudkit,
    rpmbuild,
    timeRatio: dudkit.seconds / rpmbuild.seconds,
    cpuRatio: Number.isNaN(rpmbuild.cpuSeconds) ? null : dudkit.cpuSeconds / rpmbuild.cpuSeconds,
    rssRatio: dudkit.maxRssKiB !== null && rpmbuild.maxRssKiB !== null ? dudkit.maxRssKiB / rpmbuild.maxRssKiB : null,
  };
}

/** Run the case: one result row per payload compressor. */
export async function runRpmBench(scale = Number(process.env.DUDKIT_BENCH_SCALE ?? '1')): Promise<RpmBenchResult[]> {
  const count = 8;
  const size = Math.max(4096, Math.round(4 * 1024 * 1024 * scale));
  const work = mkdtempSync(join(tmpdir(), 'dudkit-bench-rpm-'));
  try {
    const moduleDir = join(work, 'modules');
    mkdirSync(moduleDir);
    moduleNames(moduleDir, count).forEach((p, i) => writeSyntheticModule(p, size, i + 1));
    return (['xz', 'gzip'] as const).map((c) => measureOne(work, moduleDir, count, size, c));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) {
  const [, , , moduleDir, count, out, compressor] = process.argv;
  await child(moduleDir!, Number(count), out!, compressor === 'gzip' ? 'gzip' : 'xz');
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runRpmBench(), null, 2));
}
