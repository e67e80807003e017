// Taps that read the output file back behind its writer (src/emit/trailing-taps.ts): what they
// compute of a file written piece by piece is what md5sum, sha256sum and the in-memory media-check
// tap compute of the same bytes; failures are one-line errors; no worker or descriptor is left.
import { createCipheriv } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OFF_THREAD_FROM } from '../src/emit/off-thread.js';
import { emitIso } from '../src/emit/iso.js';
import { makeTap, type TapSpec } from '../src/emit/taps.js';
import { withTrailingTaps } from '../src/emit/trailing-taps.js';
import { createContext } from '../src/context.js';
import type { Source } from '../src/tree/source.js';
import { Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-trailing-');

/** Incompressible deterministic bytes (AES-CTR of zeros). */
const bytes = (n: number, seed: number) => createCipheriv('aes-128-ctr', Buffer.alloc(16, seed), Buffer.alloc(16)).update(Buffer.alloc(n));

const openFds = () => readdirSync('/proc/self/fd').length;

describe('trailing taps (read back behind the writer, on worker threads)', () => {
  it('a file written in uneven pieces: MD5 and SHA-256 agree with md5sum and sha256sum, the media-check field with the in-memory tap; progress reaches the size', async () => {
    const data = bytes(OFF_THREAD_FROM + 777_777, 3);
    const path = join(dir, 'data.bin');
    const media: TapSpec = { kind: 'media-check', volumeBytes: data.length - (data.length % 2048), supportedIso: false };
    const specs: TapSpec[] = [media, { kind: 'digest', algorithm: 'md5' }, { kind: 'digest', algorithm: 'sha256' }];
    const fds = openFds();
    let progressed = 0;
    const fd = openSync(path, 'wx');
    const results = await withTrailingTaps(specs, path, (n) => (progressed += n), async (taps) => {
      for (let off = 0, n = 1; off < data.length; off += n, n = (n * 7 + 3) % (5 << 20)) {
        const piece = data.subarray(off, off + n);
        writeSync(fd, piece, 0, piece.length, off);
        await taps.written(off + piece.length);
      }
      return taps.finish();
    });
    closeSync(fd);
    const inline = makeTap(media);
    inline.update(data);
    expect(results[0]).toBe(inline.finish());
    expect(results[1]).toBe(execFileSync('md5sum', ['data.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
    expect(results[2]).toBe(execFileSync('sha256sum', ['data.bin'], { cwd: dir, encoding: 'utf8' }).split(' ')[0]);
    expect(progressed).toBe(data.length);
    expect(openFds()).toBe(fds);
  });

  it('a tap that fails on its worker rejects with a one-line error, and its descriptor is closed', async () => {
    const path = join(dir, 'small.bin');
    writeFileSync(path, new Uint8Array(4096));
    const fds = openFds();
    const run = withTrailingTaps([{ kind: 'media-check', volumeBytes: 2048, supportedIso: false }], path, () => undefined, async (taps) => {
      await taps.written(4096);
      return taps.finish();
    });
    await expect(run).rejects.toThrow(/^the media-check MD5 on its worker thread failed: image too small for a media-check MD5$/);
    expect(openFds()).toBe(fds);
  });

  it('told of bytes the file does not hold, the worker says so in one line', async () => {
    const path = join(dir, 'short.bin');
    writeFileSync(path, new Uint8Array(1000));
    const run = withTrailingTaps([{ kind: 'digest', algorithm: 'md5' }], path, () => undefined, async (taps) => {
      await taps.written(5000);
      return taps.finish();
    });
    await expect(run).rejects.toThrow(/^MD5 on its worker thread failed: the output ends at byte 1000, before the 5000 written$/);
  });

  it('workers abandoned without finish do not keep the process alive', () => {
    const lib = resolve('dist/src/emit/trailing-taps.js');
    const path = join(dir, 'abandoned.bin');
    writeFileSync(path, new Uint8Array(3 << 20));
    const script = `const m = await import(${JSON.stringify(lib)}); await m.withTrailingTaps([{ kind: 'digest', algorithm: 'md5' }], ${JSON.stringify(path)}, () => {}, async (t) => { t.written(3 << 20); });`;
    const r = spawnSync('node', ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('an image past the threshold whose file shrinks while it is written: a one-line error, no output, no temporary, no descriptor left', async () => {
    const out = join(dir, 'shrinks');
    mkdirSync(out);
    const fds = openFds();
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
    expect(openFds()).toBe(fds);
  });
});

