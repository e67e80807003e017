/**
 * RPM benchmark: a kmod RPM written by dudkit from prebuilt modules, against `rpmbuild -bb` of the
 * equivalent spec (same files, same payload compressor and level, SHA-256 file digests,
 * SOURCE_DATE_EPOCH), the ddiskit way; and against the compressor alone over the same bytes
 * (`xz -2` / `gzip -9` of the concatenated modules: the codec floor). dudkit runs as
 * `node bench/cases/rpm.js --child …` so that, like the other tools, it pays its own start-up and
 * its peak RSS is its own. Inputs are synthetic modules (`writeSyntheticModule`);
 * DUDKIT_BENCH_RPM_MIB sets their total size (default 32 MiB in 8 modules). Cases `rpm-xz` and
 * `rpm-gzip`; issue 18's goal is ≤ 1× rpmbuild for each. dudkit's xz runs on several threads (its
 * bytes do not depend on how many), so rpmbuild's own threaded xz (`w2T.xzdio`) is shown beside.
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { hasCommand, measureRows, sh, type BenchCase, type BenchRow, type Run } from '../registry.js';

const SELF = fileURLToPath(import.meta.url);
const KERNEL = '5.14.0-362.8.1.el9_3.x86_64';
const EPOCH = 1700000000;
const COUNT = 8;
const META: DriverMeta = {
  name: 'benchnet',
  version: '1.0',
  release: '1',
  vendor: 'acme',
  summary: 'Benchmark driver',
  description: 'Synthetic modules for the dudkit benchmark.',
  license: 'GPLv2',
};

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

/** The measured side: build the kmod RPM from the modules and write it to `out`. */
async function child(moduleDir: string, count: number, out: string, compressor: PayloadCompressor): Promise<void> {
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

const LEVEL: Record<PayloadCompressor, string> = { xz: 'xz -2', gzip: 'gzip -9' };

/** rpmbuild's payload setting for each codec; `w2T.xzdio` is its threaded xz, shown beside. */
const PAYLOAD: Record<PayloadCompressor, string> = { xz: 'w2.xzdio', gzip: 'w9.gzdio' };
const THREADED_XZ = 'w2T.xzdio';

function rpmbuildCommand(top: string, spec: string, payload: string): string {
  const defines: [string, string][] = [
    ['_topdir', top],
    ['_binary_payload', payload],
    ['_binary_filedigest_algorithm', '8'],
    ['use_source_date_epoch_as_buildtime', '1'],
    ['clamp_mtime_to_source_date_epoch', '1'],
    // no strip, no debuginfo, no build-id links: package the files as they are, like dudkit
    ['__os_install_post', '%{nil}'],
    ['debug_package', '%{nil}'],
    ['_build_id_links', 'none'],
  ];
  return `rpmbuild ${defines.map(([k, v]) => `--define ${sh(`${k} ${v}`)}`).join(' ')} --target x86_64 --quiet -bb ${sh(spec)}`;
}

async function run(codecs: readonly PayloadCompressor[]): Promise<BenchRow[]> {
  const mib = Number(process.env.DUDKIT_BENCH_RPM_MIB ?? '32');
  const size = Math.max(4096, Math.round((mib * 1024 * 1024) / COUNT));
  const work = mkdtempSync(join(process.env.DUDKIT_BENCH_DIR ?? tmpdir(), 'dudkit-bench-rpm-'));
  try {
    const modules = join(work, 'modules');
    mkdirSync(modules);
    moduleNames(modules, COUNT).forEach((p, i) => writeSyntheticModule(p, size, i + 1));
    const label = `kmod RPM, ${COUNT} modules, ${mib} MiB`;
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) };
    const out = join(work, 'out.rpm');
    const clean = (): void => rmSync(out, { force: true });
    const runs: Run[] = [];
    const row = (tool: string, command: string, compareWith: string[] = [], goals: Record<string, number> = {}): void => {
      runs.push({ tool, command, before: clean, env, compareWith, goals });
    };
    const all = moduleNames(modules, COUNT).map(sh).join(' ');
    for (const c of codecs) {
      const ours = `dudkit (${LEVEL[c]})`;
      const theirs = `rpmbuild -bb (${LEVEL[c]})`;
      const threaded = `rpmbuild -bb (${LEVEL[c]}, threaded ${THREADED_XZ})`;
      const floor = `${LEVEL[c]} of the modules (codec floor)`;
      const codec = c === 'xz' ? 'xz -2 -T1 --check=sha256' : 'gzip -9 -n';
      const references = hasCommand('rpmbuild') ? [theirs, ...(c === 'xz' ? [threaded] : []), floor] : [floor];
      row(ours, `${sh(process.execPath)} ${sh(SELF)} --child ${sh(modules)} ${COUNT} ${sh(out)} ${c}`, references, { [theirs]: 1 });
      if (hasCommand('rpmbuild')) {
        const top = join(work, `rpmbuild-${c}`);
        for (const d of ['SPECS', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS', 'SOURCES']) mkdirSync(join(top, d), { recursive: true });
        const spec = join(top, 'SPECS', 'kmod.spec');
        writeFileSync(spec, rpmbuildSpec(modules, COUNT));
        row(theirs, `rm -rf ${sh(join(top, 'RPMS'))} && ${rpmbuildCommand(top, spec, PAYLOAD[c])}`);
        if (c === 'xz') row(threaded, `rm -rf ${sh(join(top, 'RPMS'))} && ${rpmbuildCommand(top, spec, THREADED_XZ)}`);
      }
      row(floor, `cat ${all} | ${codec} > ${sh(out)}`);
    }
    return measureRows(label, runs);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const rpmCases: BenchCase[] = (['xz', 'gzip'] as const).map((c) => ({ name: `rpm-${c}`, run: () => run([c]) }));

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  const [, , , moduleDir, count, out, compressor] = process.argv;
  await child(moduleDir!, Number(count), out!, compressor === 'gzip' ? 'gzip' : 'xz');
}
