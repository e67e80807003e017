import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dudkit, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const out = join(tempDir(), 'out');
let built = { status: -1, stdout: '', stderr: '' };

beforeAll(() => {
  // the README's first command, through the compiled CLI
  built = dudkit(['build', join(ROOT, 'examples/acmenet/dudkit.yaml'), '-o', out, '--json'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
});

describe('the bundled example manifest', () => {
  it('builds every target with exit 0 and one JSON document', () => {
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const doc = JSON.parse(built.stdout) as { targets: { target: string; path: string }[] };
    expect(doc.targets.map((t) => t.target)).toEqual(['rhdd3', 'rhdd3', 'pxe', 'usb', 'attach', 'xenserver-update', 'xenserver-legacy', 'release-zip']);
    for (const t of doc.targets) expect(existsSync(t.path)).toBe(true);
  });

  it('every medium passes dudkit verify (the consumers\' checks)', () => {
    for (const m of ['dd-acmenet.iso', 'dd-acmenet', 'dd-acmenet.cpio.gz', 'dd-acmenet-usb.img', 'test-9.4-dd.iso', 'acmenet.iso']) {
      const r = dudkit(['verify', join(out, m)]);
      expect([m, r.status, r.stderr]).toEqual([m, 0, '']);
    }
    const u = dudkit(['verify', join(out, 'acmenet-2.4.1.iso'), '--key', join(out, 'RPM-GPG-KEY-acme')]);
    expect(u.status).toBe(0);
  });

  it('the real tools accept the headline media: checkisomd5, sha256sum -c, cpio -t, unzip -t', () => {
    const check = run('checkisomd5', [join(out, 'test-9.4-dd.iso')]);
    expect(check.status).toBe(0);
    expect(check.stdout + check.stderr).toMatch(/PASS/);
    expect(run('sha256sum', ['-c', 'dd-acmenet.iso.sha256'], { cwd: out }).status).toBe(0);
    expect(run('sh', ['-c', 'zcat "$0" | cpio -t --quiet', join(out, 'dd-acmenet.cpio.gz')]).stdout).toBe('dd.iso\n');
    expect(run('unzip', ['-t', join(out, 'acmenet-2.4.1.zip')]).status).toBe(0);
  });

  it('is deterministic: a second build (another time zone, later) gives byte-identical files', () => {
    const again = join(tempDir(), 'again');
    const r = dudkit(['build', join(ROOT, 'examples/acmenet/dudkit.yaml'), '-o', again], { env: { SOURCE_DATE_EPOCH: '1700000000', TZ: 'America/New_York' } });
    expect(r.status).toBe(0);
    const hashes = (d: string) => run('sh', ['-c', 'cd "$0" && find . -type f | LC_ALL=C sort | xargs sha256sum', d]).stdout;
    expect(hashes(again)).toBe(hashes(out));
    expect(hashes(out).split('\n').length).toBeGreaterThan(20);
  });
});
