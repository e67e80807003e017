/**
 * xz payloads are compressed on several threads (liblzma's threaded encoder, fixed block size):
 * the package bytes must not depend on the thread count, so a build is the same on any machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { xzBlockSize } from '../src/formats/compress/index.js';
import { openRpm, verifyDigests } from '../src/formats/rpm/index.js';
import { writeRpm, type RpmPackage } from '../src/formats/rpm/write.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource, readSource } from '../src/tree/source.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-rpm-xz-threads-');
let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.dispose();
});

/**
 * A module-sized file spanning three xz blocks at level 2: one 64 KiB piece of varied bytes
 * repeated with its index stamped in, so it is quick to compress yet no two blocks are alike.
 */
function bigModule(): Buffer {
  let x = 7;
  const piece = Buffer.alloc(64 << 10);
  for (let i = 0; i < piece.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    piece[i] = 0x61 + ((x >>> 0) % 16);
  }
  const count = Math.ceil((2 * xzBlockSize(2) + (1 << 20)) / piece.length);
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => {
      piece.writeUInt32LE(i, (i * 97) % (piece.length - 4));
      return Buffer.from(piece);
    }),
  );
}

const module = bigModule();
const pkg: RpmPackage = {
  name: 'kmod-acme-big',
  version: '1.0',
  release: '1',
  arch: 'x86_64',
  summary: 'A big module',
  description: 'Spans several xz blocks.',
  license: 'GPLv2',
  buildTime: 1700000000,
  files: [
    { type: 'dir', path: '/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/big' },
    { type: 'file', path: '/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/big/big.ko', content: bytesSource(module) },
  ],
};

async function build(threads: number): Promise<string> {
  const file = join(dir, `t${threads}.rpm`);
  writeFileSync(file, await readSource(await writeRpm(pkg, scratch, { xzThreads: threads })));
  return file;
}

describe('xz payload on several threads', () => {
  let one: string;
  let three: string;
  beforeAll(async () => {
    one = await build(1);
    three = await build(3);
  });

  test('1 and 3 encoder threads write byte-identical packages', () => {
    expect(readFileSync(three).equals(readFileSync(one))).toBe(true);
  });

  test('xz -t accepts the payload; xz -lvv shows one stream of 3 blocks, SHA-256 check, sizes in headers (as rpm w2T.xzdio)', async () => {
    const rpm = await openRpm(three);
    const payload = join(dir, 'payload.xz');
    writeFileSync(payload, readFileSync(three).subarray(rpm.payloadOffset));
    execFileSync('xz', ['-t', payload]);
    const list = execFileSync('xz', ['-lvv', payload], { encoding: 'utf8' });
    expect(list).toMatch(/Streams:\s+1\n/);
    expect(list).toMatch(/Blocks:\s+3\n/);
    expect(list).toMatch(/Check:\s+SHA-256/);
    expect(list).toMatch(/Sizes in headers:\s+Yes/);
  });

  test('rpm -K finds every digest OK; rpm2cpio | cpio -i and rpm -i --root write the module byte for byte', () => {
    expect(execFileSync('rpm', ['-K', '--nosignature', three], { encoding: 'utf8' })).toMatch(/digests OK/);
    const ko = 'lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/big/big.ko';
    const out = join(dir, 'x');
    mkdirSync(out);
    const cpio = execFileSync('rpm2cpio', [three], { maxBuffer: 1 << 26 });
    execFileSync('cpio', ['-id', '--quiet'], { cwd: out, input: cpio });
    expect(readFileSync(join(out, ko)).equals(module)).toBe(true);
    const root = join(dir, 'root');
    mkdirSync(root);
    execFileSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
    execFileSync('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', three]);
    expect(readFileSync(join(root, ko)).equals(module)).toBe(true);
  });

  test("dudkit's own streaming reader decodes the multi-block payload and finds every digest OK", async () => {
    const checks = await verifyDigests(await openRpm(three), { payload: true });
    expect(checks.map((c) => c.name)).toContain('Payload SHA256 ALT digest');
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });
});
