/**
 * Decompression bombs: small inputs that decompress to more than 1 GiB (a module plus 1 GiB of
 * zeros as .ko.xz/.gz/.zst, a dkms mktarball with a 1 GiB module member, a driver package whose
 * payload holds a 1 GiB module). The real CLI runs on each under a 2 GiB address-space limit
 * (prlimit) and GNU time: a one-line error naming the file (or a correct result), never a crash,
 * and peak RSS ≤ 400 MiB.
 *
 * The bombs are made at test time by the real xz, gzip and zstd, GNU tar and cpio. Compressing
 * 1 GiB takes tens of seconds, so streams are compressed in 8 MiB segments as concatenated
 * members (which `xz -d`, `gzip -d` and `zstd -d` read as one stream, as dudkit does), and the
 * all-zero segment is compressed once.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, copyFileSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRpm } from '../src/formats/rpm/read.js';
import { ACME } from './helpers/manifest.js';
import { FIXTURES, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-bombs-');
const K = '5.14.0-362.8.1.el9_3.x86_64';
const MODULE = readFileSync(join(FIXTURES, 'ko', K, 'acmenet.ko'));
const GiB = 1 << 30;
const SEGMENT = 8 << 20;
const ZEROS = Buffer.alloc(SEGMENT);
const MAX_RSS_KIB = 400 * 1024;

type Tool = 'xz' | 'gzip' | 'zstd';
const ARGS: Record<Tool, string[]> = { xz: ['-1', '-T1', '--check=crc32', '-c'], gzip: ['-1', '-n', '-c'], zstd: ['-1', '-q', '-c'] };
const pack = (tool: Tool, bytes: Uint8Array): Buffer => execFileSync(tool, ARGS[tool], { input: bytes, maxBuffer: 1 << 28 });
const zeroMember = new Map<Tool, Buffer>();

/** `stream` compressed by the real tool as members of 8 MiB each. */
async function compressInSegments(stream: AsyncIterable<Uint8Array>, tool: Tool): Promise<Buffer> {
  if (!zeroMember.has(tool)) zeroMember.set(tool, pack(tool, ZEROS));
  const members: Buffer[] = [];
  const segment = Buffer.alloc(SEGMENT);
  let fill = 0;
  const flush = () => {
    if (fill === 0) return;
    members.push(fill === SEGMENT && segment.equals(ZEROS) ? zeroMember.get(tool)! : pack(tool, segment.subarray(0, fill)));
    fill = 0;
  };
  for await (const chunk of stream) {
    for (let at = 0; at < chunk.length; ) {
      const k = Math.min(chunk.length - at, SEGMENT - fill);
      segment.set(chunk.subarray(at, at + k), fill);
      fill += k;
      at += k;
      if (fill === SEGMENT) flush();
    }
  }
  flush();
  return Buffer.concat(members);
}

/** The fixture module with 1 GiB of zeros after it: 17 members, the zeros' one compressed once. */
function moduleBomb(tool: Tool): Buffer {
  if (!zeroMember.has(tool)) zeroMember.set(tool, pack(tool, ZEROS));
  return Buffer.concat([pack(tool, MODULE), ...Array<Buffer>(GiB / SEGMENT).fill(zeroMember.get(tool)!)]);
}

/** A real tool's stdout, as a stream. */
async function* stdoutOf(cmd: string, args: string[], opts: { cwd: string; input?: string }): AsyncGenerator<Uint8Array> {
  const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.end(opts.input ?? '');
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  yield* child.stdout as AsyncIterable<Uint8Array>;
  expect(await exited).toBe(0);
}

/** The fixture module with 1 GiB of zeros after it, as a sparse file. */
function sparseModule(path: string): void {
  const fd = openSync(path, 'w');
  writeSync(fd, MODULE);
  ftruncateSync(fd, MODULE.length + GiB);
  closeSync(fd);
}

/** The CLI under a 2 GiB address-space limit, with its peak RSS as GNU time measures it. */
function limited(args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stderr: string; stdout: string; maxRssKiB: number } {
  const r = run('/usr/bin/time', ['-f', 'maxrss=%M', 'prlimit', `--as=${2 * GiB}`, process.execPath, join(ROOT, 'dist/src/cli.js'), ...args], { env });
  const lines = r.stderr.trimEnd().split('\n');
  const rss = /^maxrss=(\d+)$/.exec(lines.at(-1) ?? '');
  expect(rss, r.stderr).not.toBeNull();
  // GNU time reports a non-zero exit status on the line before its own
  const own = lines.slice(0, -1).filter((l) => !/^Command (exited with non-zero status|terminated by signal)/.test(l));
  return { status: r.status, stdout: r.stdout, stderr: own.join('\n'), maxRssKiB: Number(rss![1]) };
}

/** Exit 2, one line naming the file and the limit, no trace, bounded memory. */
function expectRefused(r: ReturnType<typeof limited>, file: string): void {
  expect(r.stderr).not.toMatch(/\n|^\s+at /m);
  expect(r.stderr).toMatch(/^dudkit: /);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toContain('DUDKIT_MAX_MODULE_SIZE');
  expect(r.status, r.stderr).toBe(2);
  expect(r.maxRssKiB).toBeLessThanOrEqual(MAX_RSS_KIB);
}

function manifest(name: string, source: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `${ACME}sources:\n${source}\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
  return path;
}

describe('kernel modules that decompress to more than 1 GiB', { timeout: 120_000 }, () => {
  it('.ko.xz (158 KB): inspect and build refuse it naming the file and the limit, in bounded memory', () => {
    const bomb = join(dir, 'acmenet.ko.xz');
    writeFileSync(bomb, moduleBomb('xz'));
    // xz's own index says what it decompresses to
    const totals = execFileSync('xz', ['--robot', '-l', bomb], { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('totals'))!;
    expect(Number(totals.split('\t')[4])).toBe(MODULE.length + GiB);
    const inspect = limited(['inspect', bomb]);
    expectRefused(inspect, bomb);
    expect(inspect.stderr).toBe(`dudkit: ${bomb}: decompresses to more than 512 MiB; a kernel module or metadata file that large is not supported (limit 512 MiB; DUDKIT_MAX_MODULE_SIZE=<bytes> raises it)`);
    const out = join(dir, 'out-ko');
    expectRefused(limited(['build', manifest('ko', `  - ko: ${bomb}\n    kernel: ${K}`), '-o', out]), bomb);
    expect(run('ls', ['-A', out]).stdout).toBe('');
  });

  for (const [tool, suffix] of [['gzip', 'gz'], ['zstd', 'zst']] as const) {
    it(`.ko.${suffix}: inspect refuses it the same way`, () => {
      const bomb = join(dir, `acmenet.ko.${suffix}`);
      writeFileSync(bomb, moduleBomb(tool));
      // the real tool reads it as one stream: the module first
      expect(execFileSync('sh', ['-c', `${tool} -dc "$1" | head -c ${MODULE.length}`, 'sh', bomb]).equals(MODULE)).toBe(true);
      expectRefused(limited(['inspect', bomb]), bomb);
    });
  }

  it('the limit is DUDKIT_MAX_MODULE_SIZE: a real module over it is refused, under it is read', () => {
    const ko = join(FIXTURES, 'ko', K, 'acmenet.ko.xz');
    const small = limited(['inspect', ko], { DUDKIT_MAX_MODULE_SIZE: '4K' });
    expect(small.stderr).toBe(`dudkit: ${ko}: decompresses to more than 4096 bytes; a kernel module or metadata file that large is not supported (limit 4096 bytes; DUDKIT_MAX_MODULE_SIZE=<bytes> raises it)`);
    expect(small.status).toBe(2);
    const ok = limited(['inspect', ko], { DUDKIT_MAX_MODULE_SIZE: String(MODULE.length) });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`kernel release  ${K}`);
  });
});

describe('archives with a 1 GiB member', { timeout: 120_000 }, () => {
  it('a dkms mktarball (GNU tar, gzip) with a 1 GiB module: inspect and build refuse it before reading it', async () => {
    const stage = join(dir, 'dkms-stage');
    const mdir = join(stage, 'dkms_main_tree', K, 'x86_64', 'module');
    mkdirSync(mdir, { recursive: true });
    mkdirSync(join(stage, 'dkms_source_tree'));
    copyFileSync(join(FIXTURES, 'dkms', 'acmenet', '2.4.1', 'source', 'dkms.conf'), join(stage, 'dkms_source_tree', 'dkms.conf'));
    sparseModule(join(mdir, 'acmenet.ko'));
    const tarball = join(dir, `acmenet-2.4.1-kernel${K}-x86_64.dkms.tar.gz`);
    writeFileSync(tarball, await compressInSegments(stdoutOf('tar', ['--format=gnu', '-cf', '-', '.'], { cwd: stage }), 'gzip'));
    const member = `dkms_main_tree/${K}/x86_64/module/acmenet.ko`;
    const inspect = limited(['inspect', tarball]);
    expectRefused(inspect, tarball);
    expect(inspect.stderr).toContain(`${member} is ${MODULE.length + GiB} bytes`);
    expectRefused(limited(['build', manifest('dkms', `  - dkms: ${tarball}`), '-o', join(dir, 'out-dkms')]), tarball);
  });

  it('a driver disk whose package payload holds a 1 GiB module: verify and inspect refuse it; inspect and build of the package read its header only', async () => {
    // the fixture kmod package's lead and headers, with a payload cpio made of the 1 GiB module
    const given = join(FIXTURES, 'rpms', 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm');
    const modulePath = `lib/modules/${K}/extra/acme-acmenet/acmenet.ko`;
    const stage = join(dir, 'rpm-stage');
    mkdirSync(join(stage, modulePath, '..'), { recursive: true });
    sparseModule(join(stage, modulePath));
    const payload = await compressInSegments(stdoutOf('cpio', ['--quiet', '-o', '-H', 'newc'], { cwd: stage, input: `./${modulePath}\n` }), 'xz');
    const { payloadOffset } = await openRpm(given);
    const disk = join(dir, 'disk');
    mkdirSync(join(disk, 'rpms', 'x86_64'), { recursive: true });
    writeFileSync(join(disk, 'rhdd3'), 'ACME driver disk\n');
    const rpm = join(disk, 'rpms', 'x86_64', 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm');
    writeFileSync(rpm, Buffer.concat([readFileSync(given).subarray(0, payloadOffset), payload]));
    // rpm lists the module, and its payload reader sees the 1 GiB member
    expect(execFileSync('rpm', ['-qpl', rpm], { encoding: 'utf8' })).toContain(`/${modulePath}\n`);
    const head = execFileSync('sh', ['-c', 'rpm2cpio "$1" | head -c 110', 'sh', rpm]).toString('latin1');
    expect(head.slice(0, 6)).toBe('070701');
    expect(parseInt(head.slice(54, 62), 16)).toBe(MODULE.length + GiB);

    const verify = limited(['verify', disk]);
    expectRefused(verify, disk);
    expect(verify.stderr).toContain(`rpms/x86_64/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm: /${modulePath} is ${MODULE.length + GiB} bytes`);

    const inspect = limited(['inspect', rpm]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain(`/${modulePath}`);
    expect(inspect.maxRssKiB).toBeLessThanOrEqual(MAX_RSS_KIB);
    // inspecting the disk checks its packages as verify does
    expectRefused(limited(['inspect', disk]), disk);
    // a given package is used as it is: its payload is never unpacked
    const out = join(dir, 'out-rpm');
    const build = limited(['build', manifest('rpm', `  - rpm: ${rpm}`), '-o', out]);
    expect(build.status, build.stderr).toBe(0);
    expect(build.maxRssKiB).toBeLessThanOrEqual(MAX_RSS_KIB);
    expect(execFileSync('xorriso', ['-indev', join(out, 'dd.iso'), '-find', '/rpms', '-name', '*.rpm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toContain('kmod-acme-acmenet');
  });

  it('repodata whose primary.xml.gz (createrepo_c, then swapped for gzip) decompresses to 1 GiB: verify and inspect refuse it', () => {
    const disk = join(dir, 'repo-disk');
    const arch = join(disk, 'rpms', 'x86_64');
    mkdirSync(arch, { recursive: true });
    writeFileSync(join(disk, 'rhdd3'), 'ACME driver disk\n');
    copyFileSync(join(FIXTURES, 'rpms', 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'), join(arch, 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'));
    execFileSync('createrepo_c', ['-q', '--simple-md-filenames', arch]);
    const primary = join(arch, 'repodata', 'primary.xml.gz');
    expect(readFileSync(join(arch, 'repodata', 'repomd.xml'), 'utf8')).toContain('href="repodata/primary.xml.gz"');
    if (!zeroMember.has('gzip')) zeroMember.set('gzip', pack('gzip', ZEROS));
    writeFileSync(primary, Buffer.concat(Array<Buffer>(GiB / SEGMENT).fill(zeroMember.get('gzip')!)));
    expect(execFileSync('sh', ['-c', 'gzip -dc "$1" | wc -c', 'sh', primary], { encoding: 'utf8' }).trim()).toBe(String(GiB));
    const verify = limited(['verify', disk]);
    expectRefused(verify, disk);
    expect(verify.stderr).toContain('primary.xml.gz decompresses to more than');
    expectRefused(limited(['inspect', arch]), arch);
  });
});
