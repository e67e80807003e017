// Digest taps on worker threads (src/emit/off-thread.ts): what they compute is what md5sum,
// sha256sum and checkisomd5 compute of the file, deterministically; failures are ordinary errors.
import { createCipheriv } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { digestSpecs, OFF_THREAD_FROM, withTaps } from '../src/emit/off-thread.js';
import { tempDir } from './helpers/tmp.js';

const CLI = resolve('dist/src/cli.js');
const dir = tempDir('dudkit-offthread-');
const tree = join(dir, 'tree');
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

/** Incompressible deterministic bytes (AES-CTR of zeros). */
const bytes = (n: number, seed: number) => createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16)).update(Buffer.alloc(n));

function iso(out: string, ...opts: string[]) {
  const r = spawnSync('node', [CLI, 'iso', tree, '-o', out, ...opts], { encoding: 'utf8', env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

beforeAll(() => {
  if (!existsSync(CLI)) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  mkdirSync(join(tree, 'sub'), { recursive: true });
  // past the size from which the taps run on workers, in many ring spans
  writeFileSync(join(tree, 'big.bin'), bytes(OFF_THREAD_FROM + (3 << 20) + 12345, 1));
  writeFileSync(join(tree, 'sub/small.txt'), 'small\n');
});

describe('taps on worker threads', () => {
  it('an ISO past the worker threshold: its .md5 and .sha256 agree with md5sum -c and sha256sum -c', () => {
    iso(join(dir, 'a.iso'), '--md5', '--sha256');
    expect(execFileSync('md5sum', ['-c', 'a.iso.md5'], { cwd: dir, encoding: 'utf8' })).toBe('a.iso: OK\n');
    expect(execFileSync('sha256sum', ['-c', 'a.iso.sha256'], { cwd: dir, encoding: 'utf8' })).toBe('a.iso: OK\n');
  });

  it('the implanted media-check MD5 hashed on a worker passes checkisomd5, md5sum -c agrees, and a second build gives the same bytes', () => {
    iso(join(dir, 'b.iso'), '--implant-md5', '--md5');
    expect(spawnSync('checkisomd5', [join(dir, 'b.iso')]).status).toBe(0);
    expect(execFileSync('md5sum', ['-c', 'b.iso.md5'], { cwd: dir, encoding: 'utf8' })).toBe('b.iso: OK\n');
    iso(join(dir, 'c.iso'), '--implant-md5', '--md5');
    expect(readFileSync(join(dir, 'c.iso.md5'), 'utf8').split(' ')[0]).toBe(readFileSync(join(dir, 'b.iso.md5'), 'utf8').split(' ')[0]);
  });

  it('fed in uneven chunks, the workers give the digests md5sum and sha256sum give of the same bytes', async () => {
    const data = bytes(OFF_THREAD_FROM + 777_777, 2);
    writeFileSync(join(dir, 'data.bin'), data);
    const results = await withTaps(digestSpecs(['md5', 'sha256']), data.length, async (taps) => {
      for (let off = 0, n = 1; off < data.length; off += n, n = (n * 7 + 3) % (3 << 20)) {
        // the chunk may be changed once update has taken it
        const chunk = Buffer.from(data.subarray(off, off + n));
        await taps.update(chunk);
        chunk.fill(0);
      }
      return taps.finish();
    });
    expect(results[0]).toBe(execFileSync('md5sum', ['data.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
    expect(results[1]).toBe(execFileSync('sha256sum', ['data.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
  });

  it('a tap that fails on its worker rejects with a one-line error', async () => {
    const run = withTaps([{ kind: 'media-check', volumeBytes: 2048, supportedIso: false }], OFF_THREAD_FROM, async (taps) => {
      await taps.update(new Uint8Array(4096));
      return taps.finish();
    });
    await expect(run).rejects.toThrow(/^the media-check MD5 on its worker thread failed: image too small for a media-check MD5$/);
  });

  it('workers abandoned without finish do not keep the process alive', () => {
    const lib = resolve('dist/src/emit/off-thread.js');
    const script = `const m = await import(${JSON.stringify(lib)}); await m.withTaps(m.digestSpecs(['md5']), m.OFF_THREAD_FROM, async (t) => { await t.update(new Uint8Array(3 << 20)); });`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
