/**
 * The damaged-media corpus (issue 10): one valid specimen of every kind `inspect`, `verify` and
 * `build` read, built at test time (the bundled example built by dudkit itself, modules and RPMs
 * from fixtures/ made with kbuild and rpmbuild, a dkms mktarball archive made with GNU tar), each
 * mutated by test/helpers/mutate.ts and handed to the real CLI. Whatever the damage, dudkit
 * answers with exit 0, 1 or 2 and at most one error line naming the file: no stack trace, no
 * internal error (exit 70), no hang.
 *
 * FUZZ_SEED=N picks another corpus (the seed is printed with every failure), FUZZ_COUNT=N the
 * mutants per specimen: `FUZZ_SEED=7 FUZZ_COUNT=200 npx vitest run test/damaged-media.test.ts`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { mutate, mutateLayered, Rng } from './helpers/mutate.js';
import { FIXTURES, ROOT } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const COUNT = Number(process.env.FUZZ_COUNT ?? 8);
/** CLIs run at once: the suite's other files share the two CI cores. */
const PARALLEL = 3;
const K93 = '5.14.0-362.8.1.el9_3.x86_64';

const dir = tempDir('dudkit-damaged-');
const spec = join(dir, 'specimens');

interface Specimen {
  name: string;
  /** File or folder, under `spec`. */
  path: string;
  commands: ('inspect' | 'verify' | 'build')[];
}

const specimens: Specimen[] = [
  { name: 'rhdd3 ISO', path: 'dd-acmenet.iso', commands: ['verify', 'inspect'] },
  { name: 'installer ISO with the disk attached', path: 'test-9.4-dd.iso', commands: ['verify', 'inspect'] },
  { name: 'disk folder', path: 'dd-acmenet', commands: ['verify', 'inspect'] },
  { name: 'FAT (USB) image', path: 'dd-acmenet-usb.img', commands: ['verify', 'inspect'] },
  { name: 'PXE cpio.gz overlay', path: 'dd-acmenet.cpio.gz', commands: ['verify', 'inspect'] },
  { name: 'XenServer update pack', path: 'acmenet-2.4.1.iso', commands: ['verify', 'inspect'] },
  { name: 'XenServer legacy pack', path: 'acmenet.iso', commands: ['verify', 'inspect'] },
  { name: 'repodata folder', path: 'dd-acmenet/rpms/x86_64', commands: ['inspect'] },
  { name: 'kmod RPM', path: 'kmod.rpm', commands: ['inspect'] },
  { name: 'kernel module', path: 'acmenet.ko', commands: ['inspect'] },
  { name: 'xz kernel module', path: 'acmenet.ko.xz', commands: ['inspect'] },
  { name: 'zstd kernel module', path: 'acmestor.ko.zst', commands: ['inspect'] },
  { name: 'dkms tree', path: 'dkms', commands: ['inspect'] },
  { name: 'dkms mktarball archive', path: 'acmenet-2.4.1-kernel5.14.0-x86_64.dkms.tar.gz', commands: ['inspect'] },
  { name: 'release zip', path: 'acmenet-2.4.1.zip', commands: ['inspect'] },
  { name: 'manifest', path: 'dudkit.yaml', commands: ['build'] },
];

/** The example's manifest with absolute input paths and without the 34 MiB USB target (speed). */
function exampleManifest(): string {
  const example = join(ROOT, 'examples/acmenet');
  return readFileSync(join(example, 'dudkit.yaml'), 'utf8')
    .replaceAll('../../fixtures', FIXTURES)
    .replaceAll('keys/', `${example}/keys/`)
    .replace(/^.*usb:.*\n/m, '');
}

beforeAll(() => {
  mkdirSync(spec, { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'dist/src/cli.js'), 'build', join(ROOT, 'examples/acmenet/dudkit.yaml'), '-o', spec]);
  cpSync(join(FIXTURES, `rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm`), join(spec, 'kmod.rpm'));
  for (const f of ['acmenet.ko', 'acmenet.ko.xz', 'acmestor.ko.zst']) cpSync(join(FIXTURES, 'ko', K93, f), join(spec, f));
  cpSync(join(FIXTURES, 'dkms/acmenet'), join(spec, 'dkms/acmenet'), { recursive: true, verbatimSymlinks: true });
  // dkms mktarball's layout (dkms-input.md §2), written by GNU tar
  const stage = join(dir, 'stage');
  const version = join(FIXTURES, 'dkms/acmenet/2.4.1');
  for (const k of readdirSync(version).filter((k) => k !== 'source')) cpSync(join(version, k), join(stage, 'dkms_main_tree', k), { recursive: true });
  cpSync(join(version, 'source'), join(stage, 'dkms_source_tree'), { recursive: true });
  execFileSync('tar', ['-C', stage, '--format=gnu', '-czf', join(spec, specimens.find((s) => s.name.startsWith('dkms mk'))!.path), '.']);
  writeFileSync(join(spec, 'dudkit.yaml'), exampleManifest());
}, 120_000);

interface Outcome {
  status: number | null;
  signal: string | null;
  stderr: string;
  timedOut: boolean;
}

function runCli(args: string[], cwd: string): Promise<Outcome> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli.js'), ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 90_000, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('close', (status, signal) => done({ status, signal, stderr, timedOut: signal === 'SIGKILL' }));
  });
}

const files = (root: string): string[] =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();

/** Damage a folder specimen: mutate one member, or remove it, or add a link back to its folder. */
function damageFolder(root: string, rng: Rng): string {
  const members = files(root);
  const victim = rng.pick(members);
  const rel = victim.slice(root.length + 1);
  const op = rng.int(12);
  if (op === 0) {
    unlinkSync(victim);
    return `removed ${rel}`;
  }
  if (op === 1) {
    symlinkSync('.', join(victim, '..', 'loop'));
    return `symlink loop beside ${rel}`;
  }
  const m = mutateLayered(readFileSync(victim), rng);
  writeFileSync(victim, m.bytes);
  return `${rel}: ${m.what}`;
}

/** What is wrong with one run's outcome, or undefined when dudkit behaved. */
function misbehaviour(o: Outcome, named: string, command: string): string | undefined {
  if (o.timedOut) return 'did not finish in 90 s';
  if (o.status === null) return `killed by ${o.signal}`;
  if (![0, 1, 2].includes(o.status)) return `exit ${o.status}`;
  if (/^\s+at /m.test(o.stderr) || o.stderr.includes('node:internal')) return 'stack trace on stderr';
  const lines = o.stderr.split('\n').filter(Boolean);
  const stray = lines.filter((l) => !l.startsWith('dudkit: '));
  if (stray.length) return `stderr line not from dudkit: ${stray[0]}`;
  const errors = lines.filter((l) => !l.startsWith('dudkit: warning: '));
  if (o.status === 0 && errors.length) return `exit 0 with an error: ${errors[0]}`;
  if (o.status !== 0 && errors.length !== 1) return `exit ${o.status} with ${errors.length} error lines`;
  // build names the manifest or the input file it could not use
  if (o.status !== 0 && !errors[0]!.includes(named) && !(command === 'build' && /\//.test(errors[0]!))) return `error does not name ${named}`;
  return undefined;
}

async function pool<T>(items: T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  }));
}

/** A per-specimen, per-mutant seed, so any one failure is reproduced by its seed alone. */
function seedOf(name: string, i: number): number {
  let h = SEED >>> 0;
  for (const c of `${name}#${i}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

describe(`damaged media (FUZZ_SEED=${SEED}, FUZZ_COUNT=${COUNT})`, { timeout: 600_000 }, () => {
  for (const s of specimens) {
    it(`${s.name}: every mutant ends in exit 0, 1 or 2 with one line naming the file, never a trace`, async () => {
      const failures: string[] = [];
      await pool(Array.from({ length: COUNT }, (_, i) => i), PARALLEL, async (i) => {
        const rng = new Rng(seedOf(s.name, i));
        const work = join(dir, `${s.name.replace(/\W+/g, '-')}-${i}`);
        const target = join(work, basename(s.path));
        mkdirSync(work, { recursive: true });
        let what: string;
        if (statSync(join(spec, s.path)).isDirectory()) {
          cpSync(join(spec, s.path), target, { recursive: true, verbatimSymlinks: true });
          what = damageFolder(target, rng);
        } else {
          const m = s.commands[0] === 'build' ? mutate(readFileSync(join(spec, s.path)), rng, true) : mutateLayered(readFileSync(join(spec, s.path)), rng);
          writeFileSync(target, m.bytes);
          what = m.what;
        }
        const command = s.commands[i % s.commands.length]!;
        const args = command === 'build' ? ['build', basename(s.path), '-o', 'out'] : [command, basename(s.path)];
        const o = await runCli(args, work);
        const bad = misbehaviour(o, basename(s.path), command);
        if (bad) failures.push(`FUZZ_SEED=${SEED} mutant ${i} (${what}), dudkit ${args.join(' ')}: ${bad}\n${o.stderr.split('\n').slice(0, 6).join('\n')}`);
        else rmSync(work, { recursive: true, force: true });
      });
      expect(failures).toEqual([]);
    });
  }
});
