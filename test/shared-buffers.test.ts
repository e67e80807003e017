// Taps that hash shared buffers in place on worker threads (SharedBuffers in src/emit/off-thread.ts,
// the ISO emitter's pool for large images): what they compute of buffers filled piece by piece is
// what md5sum, sha256sum and the in-memory media-check tap compute of the same bytes; failures are
// one-line errors; no worker or descriptor is left.
import { createCipheriv } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OFF_THREAD_FROM, SharedBuffers } from '../src/emit/off-thread.js';
import { emitIso } from '../src/emit/iso.js';
import { makeTap, type TapSpec } from '../src/emit/taps.js';
import { createContext } from '../src/context.js';
import type { Source } from '../src/tree/source.js';
import { Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-shared-');

/** Incompressible deterministic bytes (AES-CTR of zeros). */
const bytes = (n: number, seed: number) => createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16)).update(Buffer.alloc(n));

/**
 * This process's descriptors open on something under `folder` (a removed temporary reads as
 * "… (deleted)"). Not a count of all of them: vitest and Node open and close their own meanwhile.
 */
const fdsUnder = (folder: string) =>
  readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(`${folder}/`) ? [target] : [];
    } catch {
      return []; // closed between the listing and the readlink (the listing's own descriptor)
    }
  });

/** `fn` on shared buffers of `bytes` in `ring` hashed by `taps`, closed after it. */
async function withShared<T>(taps: readonly TapSpec[] | number, ring: SharedArrayBuffer, bytes: number, fn: (t: SharedBuffers) => Promise<T>): Promise<T> {
  const t = new SharedBuffers(taps, ring, bytes);
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

/** Hand `data` to `taps` in uneven pieces, each buffer refilled once free. */
async function feed(taps: SharedBuffers, data: Uint8Array): Promise<void> {
  const count = taps.buffers.length;
  for (let off = 0, n = 1, i = 0; off < data.length; off += n, n = (n * 7 + 3) % taps.buffers[0]!.length || 1, i = (i + 1) % count) {
    await taps.free(i);
    const piece = data.subarray(off, off + n);
    taps.buffers[i]!.set(piece);
    taps.hash(i, piece.length);
  }
}

describe('shared buffers hashed in place on worker threads', () => {
  it('three buffers filled in uneven lengths, each refilled once free: MD5 and SHA-256 agree with md5sum and sha256sum, the media-check field with the in-memory tap', async () => {
    const data = bytes(OFF_THREAD_FROM + 777_777, 3);
    writeFileSync(join(dir, 'data.bin'), data);
    const media: TapSpec = { kind: 'media-check', volumeBytes: data.length - (data.length % 2048), supportedIso: false };
    const specs: TapSpec[] = [media, { kind: 'digest', algorithm: 'md5' }, { kind: 'digest', algorithm: 'sha256' }];
    const results = await withShared(specs, new SharedArrayBuffer(3 << 20), 1 << 20, async (taps) => {
      expect(taps.buffers.length).toBe(3);
      await feed(taps, data);
      return taps.finish();
    });
    const inline = makeTap(media);
    inline.update(data);
    expect(results[0]).toBe(inline.finish());
    expect(results[1]).toBe(execFileSync('md5sum', ['data.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
    expect(results[2]).toBe(execFileSync('sha256sum', ['data.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
  });

  it('workers started before their taps are known, then told them: the digests md5sum and sha256sum give', async () => {
    const data = bytes((5 << 20) + 12_345, 4);
    writeFileSync(join(dir, 'late.bin'), data);
    const results = await withShared(2, new SharedArrayBuffer(4 << 20), 1 << 20, async (taps) => {
      expect(() => taps.hash(0, 1)).toThrow(/before their taps were configured/);
      taps.configure([{ kind: 'digest', algorithm: 'md5' }, { kind: 'digest', algorithm: 'sha256' }]);
      await feed(taps, data);
      return taps.finish();
    });
    expect(results[0]).toBe(execFileSync('md5sum', ['late.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
    expect(results[1]).toBe(execFileSync('sha256sum', ['late.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
  });

  it('a tap that fails on its worker rejects with a one-line error naming it, told its spec at start or later', async () => {
    const bad: TapSpec = { kind: 'media-check', volumeBytes: 2048, supportedIso: false };
    const message = /^the media-check MD5 on its worker thread failed: image too small for a media-check MD5$/;
    const early = withShared([bad], new SharedArrayBuffer(1 << 20), 1 << 20, async (taps) => {
      taps.hash(0, 4096);
      return taps.finish();
    });
    await expect(early).rejects.toThrow(message);
    const late = withShared(1, new SharedArrayBuffer(1 << 20), 1 << 20, async (taps) => {
      taps.configure([bad]);
      taps.hash(0, 4096);
      return taps.finish();
    });
    await expect(late).rejects.toThrow(message);
  });

  it('workers closed without finish do not keep the process alive', () => {
    const lib = resolve('dist/src/emit/off-thread.js');
    const script = `const m = await import(${JSON.stringify(lib)}); const t = new m.SharedBuffers([{ kind: 'digest', algorithm: 'md5' }], new SharedArrayBuffer(1 << 20), 1 << 20); t.hash(0, 1 << 20); await t.close();`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('an image past the threshold whose file shrinks while it is written: a one-line error, no output, no temporary, no descriptor left', async () => {
    const out = join(dir, 'shrinks');
    mkdirSync(out);
    const chunk = new Uint8Array(4 << 20);
    const shrinking: Source = {
      size: OFF_THREAD_FROM + (8 << 20),
      origin: 'big.bin',
      async *open() {
        for (let done = 0; done < OFF_THREAD_FROM / 2; done += chunk.length) yield chunk;
      },
    };
    const entries = new Tree().file('big.bin', shrinking).entries() as ResolvedEntry[];
    const write = emitIso(entries, join(out, 'x.iso'), { volumeId: 'SHRINKS', implantMd5: true, digests: ['sha256'] }, createContext({ epoch: 1700000000 }));
    await expect(write).rejects.toThrow(/^big\.bin: shrank while being read \(planned \d+ bytes, got \d+\)$/);
    expect(readdirSync(out)).toEqual([]);
    expect(fdsUnder(out)).toEqual([]);
  });
});

