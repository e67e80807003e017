/**
 * The unpack limit (DUDKIT_MAX_UNPACK_SIZE): what `inspect` and `verify` write to their scratch
 * folder from one input is counted, so a small archive that expands (or a hard-link set copied
 * once per name) is refused with one line instead of filling the disk. The archives are made by
 * GNU cpio and gzip; the limit is set low so the inputs stay small.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dudkit } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-unpack-');
const MiB = 1 << 20;

/** A gzipped newc archive of `root`'s contents, by GNU cpio (names as `find .` lists them, in sorted order). */
function cpioGz(root: string, out: string): string {
  execFileSync('bash', ['-c', `cd ${root} && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -n -1 > ${out}`]);
  return out;
}

/** dudkit with its scratch folders in a fresh TMPDIR, so a test can see that none is left behind. */
function run(args: string[], limit: number) {
  const tmp = join(dir, `tmp-${Math.random().toString(36).slice(2)}`);
  mkdirSync(tmp);
  const r = dudkit(args, { env: { DUDKIT_MAX_UNPACK_SIZE: String(limit), TMPDIR: tmp } });
  return { ...r, left: readdirSync(tmp) };
}

function expectRefused(r: ReturnType<typeof run>, file: string, limit: string): void {
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(file);
  expect(lines[0]).toMatch(new RegExp(`unpacks to more than ${limit}; a driver medium that large is not supported \\(limit ${limit}; DUDKIT_MAX_UNPACK_SIZE=<bytes> raises it\\)`));
  expect(r.left).toEqual([]);
}

describe('unpack limit (GNU cpio + gzip inputs)', () => {
  it('a SUSE driver update (cpio.gz) whose member unpacks beyond the limit: exit 2, one line naming it, no scratch left', () => {
    const root = join(dir, 'suse-big');
    mkdirSync(join(root, 'linux/suse/x86_64-sles15/install'), { recursive: true });
    writeFileSync(join(root, 'linux/suse/x86_64-sles15/install/big.bin'), Buffer.alloc(3 * MiB));
    const dud = cpioGz(root, join(dir, 'big.dud'));
    expect(statSync(dud).size).toBeLessThan(64 << 10);
    expectRefused(run(['verify', dud], MiB), 'big.bin', '1 MiB');
    // within the limit the same update is read (its findings are verify's, not a refusal)
    expect(run(['inspect', dud], 8 * MiB).status).toBe(0);
  });

  it('a hard-link set is charged once per name: 3 names of 600 KiB pass 1 MiB though the data is stored once', () => {
    const root = join(dir, 'suse-links');
    const install = join(root, 'linux/suse/x86_64-sles15/install');
    mkdirSync(install, { recursive: true });
    writeFileSync(join(install, 'a.bin'), Buffer.alloc(600 << 10, 1));
    for (const n of ['b.bin', 'c.bin']) execFileSync('ln', [join(install, 'a.bin'), join(install, n)]);
    const dud = cpioGz(root, join(dir, 'links.dud'));
    expectRefused(run(['inspect', dud], MiB), 'links.dud', '1 MiB');
    expect(run(['inspect', dud], 4 * MiB).status).toBe(0);
  });

  it('an initrd overlay whose dd.iso member unpacks beyond the limit: inspect and verify refuse it, no scratch left', () => {
    const root = join(dir, 'initrd');
    mkdirSync(root);
    writeFileSync(join(root, 'dd.iso'), Buffer.alloc(3 * MiB));
    const img = cpioGz(root, join(dir, 'dd.cpio.gz'));
    for (const cmd of ['inspect', 'verify']) expectRefused(run([cmd, img], MiB), 'dd.iso', '1 MiB');
  });
});
