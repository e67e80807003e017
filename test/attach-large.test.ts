// Attaching to an installer ISO past the size from which the image's taps hash its write buffers in
// place on worker threads (SharedBuffers, src/emit/off-thread.ts): the implanted media-check MD5 is the one
// checkisomd5 and implantisomd5 compute, the .sha256 (taken on the re-read after the implant) is
// what sha256sum computes, the large file is byte-equal through xorriso, and a rebuild is identical.
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { OFF_THREAD_FROM } from '../src/emit/off-thread.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, ROOT, run } from './helpers/run.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';

const dir = tempDir('dudkit-attach-large-');
const env = { SOURCE_DATE_EPOCH: '1700000000' };
const installImg = join(dir, 'extra/images/install.img');
const manifest = join(dir, 'attach.yaml');
const iso = (out: string) => join(dir, out, 'installer-dd.iso');

beforeAll(() => {
  mkdirSync(join(dir, 'extra/images'), { recursive: true });
  // incompressible, so no layer below can shortcut it
  writeFileSync(installImg, createCipheriv('aes-128-ctr', Buffer.alloc(16, 5), Buffer.alloc(16)).update(Buffer.alloc(OFF_THREAD_FROM + (5 << 20) + 4321)));
  execFileSync('bash', [join(ROOT, 'fixtures/scripts/installer-iso.sh'), join(dir, 'installer.iso'), 'Test-9.4 x86_64', join(dir, 'extra')], { stdio: 'ignore', env: { ...process.env, ...env } });
  writeFileSync(manifest, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso }\n  - attach: { installer: installer.iso }\n`);
  for (const out of ['out', 'again']) {
    const r = dudkit(['build', manifest, '-o', join(dir, out), '--only', 'attach'], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }
});

describe('attach to an installer ISO larger than the worker-tap threshold', () => {
  it('checkisomd5 passes, and implantisomd5 --force on a copy changes no byte', () => {
    const r = run('checkisomd5', [iso('out')]);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/PASS/);
    const ref = join(dir, 'ref.iso');
    copyFileSync(iso('out'), ref);
    execFileSync('implantisomd5', ['--force', ref], { stdio: 'ignore' });
    expect(run('cmp', [iso('out'), ref]).status).toBe(0);
  });

  it('sha256sum -c accepts the .sha256 beside it', () => {
    expect(run('sha256sum', ['-c', 'installer-dd.iso.sha256'], { cwd: join(dir, 'out') }).stdout).toBe('installer-dd.iso: OK\n');
  });

  it('xorriso extracts images/install.img byte-equal to the installer\'s', () => {
    const to = join(dir, 'install.img');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso('out'), '-extract', '/images/install.img', to], { stdio: 'ignore' });
    expect(run('cmp', [to, installImg]).status).toBe(0);
  });

  it('is deterministic: a second build is byte-identical (cmp)', () => {
    expect(run('cmp', [iso('out'), iso('again')]).status).toBe(0);
  });
});
