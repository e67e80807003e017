// The write pipeline composes its stages in any order: a cpio writer followed by gzip then a
// SHA-256 tap hashes the compressed file; followed by the tap then gzip, it hashes the archive
// before compression. Checked with the real gzip, xz, cpio and sha256sum.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { HashTap } from '../src/emit/taps.js';
import { emitCpio } from '../src/emit/cpio.js';
import { checksumFiles, writeDerivedOf } from '../src/emit/derived.js';
import { gzip, SizeCounter, tap, xz } from '../src/emit/pipeline.js';
import { bytesSource } from '../src/tree/source.js';
import type { ResolvedEntry } from '../src/tree/tree.js';
import { run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const ctx = () => createContext({ epoch: 1700000000 });
// big enough that gzip and xz emit several chunks
const payload = Buffer.alloc(3 << 20, 0).map((_, i) => (i * 7919) % 251);
const entries: ResolvedEntry[] = [
  { type: 'dir', path: 'etc', mode: 0o755 },
  { type: 'file', path: 'etc/a.conf', mode: 0o644, content: bytesSource('a = 1\n', 'a.conf') },
  { type: 'file', path: 'payload.bin', mode: 0o600, content: bytesSource(payload, 'payload.bin') },
  { type: 'symlink', path: 'link', target: 'payload.bin' },
];
const NAMES = 'etc\netc/a.conf\npayload.bin\nlink\n';
const sh = (script: string, ...args: string[]) => run('sh', ['-c', script, 'sh', ...args]);

describe('pipeline: stages compose in any order', () => {
  it('cpio → gzip → SHA-256 tap: the tap and the .sha256 file cover the compressed file (gzip -t, cpio -t, sha256sum -c)', async () => {
    const out = join(dir, 'gz-then-tap.cpio.gz');
    const sha = new HashTap('sha256');
    const emitted = await emitCpio(entries, out, [gzip(), tap(sha)], ['sha256'], ctx());
    await writeDerivedOf(out, checksumFiles(['sha256']), emitted);
    expect(run('gzip', ['-t', out]).status).toBe(0);
    expect(sh('zcat "$1" | cpio -t --quiet', out).stdout).toBe(NAMES);
    expect(run('sha256sum', ['-c', 'gz-then-tap.cpio.gz.sha256'], { cwd: dir }).stdout).toBe('gz-then-tap.cpio.gz: OK\n');
    const real = run('sha256sum', [out]).stdout.split(' ')[0];
    expect(sha.finish()).toBe(real);
    expect(emitted.sha256).toBe(real);
  });

  it('cpio → SHA-256 tap + size counter → gzip: the tap hashes the uncompressed archive, the counter counts it', async () => {
    const out = join(dir, 'tap-then-gz.cpio.gz');
    const sha = new HashTap('sha256');
    const size = new SizeCounter();
    const emitted = await emitCpio(entries, out, [tap(sha), tap(size), gzip()], ['sha256'], ctx());
    expect(run('gzip', ['-t', out]).status).toBe(0);
    expect(sh('zcat "$1" | cpio -t --quiet', out).stdout).toBe(NAMES);
    expect(sha.finish()).toBe(sh('zcat "$1" | sha256sum', out).stdout.split(' ')[0]);
    expect(size.bytes).toBe(Number(sh('zcat "$1" | wc -c', out).stdout.trim()));
    // the trailing checksum still covers the file as written
    expect(emitted.sha256).toBe(run('sha256sum', [out]).stdout.split(' ')[0]);
    // the same archive whichever tap order: gzip's bytes do not depend on what watched its input
    expect(readFileSync(out).equals(readFileSync(join(dir, 'gz-then-tap.cpio.gz')))).toBe(true);
  });

  it('cpio → gzip → xz: two filters stack (xz -t, then xz -dc | gzip -dc | cpio -t)', async () => {
    const out = join(dir, 'twice.cpio.gz.xz');
    const inner = new SizeCounter();
    await emitCpio(entries, out, [gzip(), tap(inner), xz()], [], ctx());
    expect(run('xz', ['-t', out]).status).toBe(0);
    expect(Number(sh('xz -dc "$1" | wc -c', out).stdout.trim())).toBe(inner.bytes);
    expect(sh('xz -dc "$1" | gzip -dc | cpio -t --quiet', out).stdout).toBe(NAMES);
  });
});
