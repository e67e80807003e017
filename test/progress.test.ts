// Progress (issue 18, issue 19 "Progress"): bytes done, rate and time left for long phases; on a
// terminal one redrawn line that is finished with a newline before the summary, in a log plain lines
// (no \r, no escape codes) at most one a second. The reporter runs on a fake clock (no timed
// assertions); the CLI under a real pseudo-terminal (util-linux script) and through a pipe.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatBytes, progressReporter } from '../src/progress.js';
import { dudkit, FIXTURES, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';

const tmp = tempDir();
const env = { SOURCE_DATE_EPOCH: '1700000000' };
const GiB = 1 << 30;

/** A reporter on a clock the test moves, and everything it wrote. */
function reporter(terminal: boolean, columns?: number) {
  let t = 0;
  const out: string[] = [];
  const r = progressReporter({ write: (s) => out.push(s), terminal, now: () => t, ...(columns ? { columns } : {}) });
  return { r, text: () => out.join(''), tick: (ms: number) => (t += ms) };
}

/** A 1 GiB phase advanced in 64 MiB steps, one step per 250 ms (4 s in all). */
function writeGiB(p: ReturnType<typeof reporter>): void {
  p.r.phase('writing out/big.iso', GiB);
  for (let i = 0; i < 16; i++) {
    p.tick(250);
    p.r.advance(64 << 20);
  }
}

describe('progress reporter', () => {
  it('in a log: the phase, then at most one line a second with bytes, rate and time left, then a finished line', () => {
    const p = reporter(false);
    writeGiB(p);
    p.r.phase('writing out/small.iso', 4096);
    p.r.advance(4096);
    p.r.end();
    const text = p.text();
    expect(text).not.toMatch(/[\r\x1b]/);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('dudkit: writing out/big.iso (1.0 GiB)');
    const updates = lines.filter((l) => l.includes(' left'));
    // 4 seconds of work: one line a second (the first after a second), not one per advance
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(updates.length).toBeLessThanOrEqual(4);
    expect(updates[0]).toBe('dudkit: writing out/big.iso: 256.0 MiB of 1.0 GiB (25%), 256.0 MiB/s, 3.0s left');
    expect(lines).toContain('dudkit: writing out/big.iso: 1.0 GiB in 4.0s (256.0 MiB/s)');
    // a phase over within a second: its line alone, no numbers lines
    expect(lines.slice(-1)).toEqual(['dudkit: writing out/small.iso (4.0 KiB)']);
  });

  it('on a terminal: one line redrawn with \\r, a long phase kept, the last finished with a newline', () => {
    const p = reporter(true);
    p.r.phase('preparing', undefined);
    p.tick(10);
    writeGiB(p);
    p.r.phase('writing out/dd.iso.sha256');
    p.tick(5);
    p.r.end();
    const text = p.text();
    expect(text.startsWith('\rpreparing\x1b[K')).toBe(true);
    expect(text).toContain('\rwriting out/big.iso: 512.0 MiB of 1.0 GiB (50%), 256.0 MiB/s, 2.0s left\x1b[K');
    // the 10 ms phase is drawn over; the 4 s one keeps its finished line; the last ends the output
    expect(text).not.toContain('preparing\x1b[K\n');
    expect(text).toContain('\rwriting out/big.iso: 1.0 GiB in 4.0s (256.0 MiB/s)\x1b[K\n');
    expect(text.endsWith('\rwriting out/dd.iso.sha256: done in 0.0s\x1b[K\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(3);
  });

  it('on a terminal: other lines clear the progress line and it is drawn again below them; lines never wrap', () => {
    const p = reporter(true, 40);
    p.r.phase('compressing the payload of kmod-acme-acmenet-2.4.1-1.el9.x86_64.rpm (xz)', 1000);
    p.tick(300);
    p.r.advance(500);
    p.r.print('dudkit: warning: something\n');
    p.r.end();
    const drawn = p.text().split('\r').filter((s) => s !== '');
    for (const d of drawn) expect(d.replace(/\x1b\[K|\n.*$/gs, '').length).toBeLessThan(40);
    expect(p.text()).toContain('\r\x1b[Kdudkit: warning: something\n\rcompressing');
    expect(drawn[0]).toMatch(/^compressing the p.*\.\.\..*\(xz\)\x1b\[K$/);
  });

  it('sizes in binary units', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(GiB), formatBytes(GiB - 15 * 2048), formatBytes(5 * GiB + (GiB >> 1))]).toEqual(['512 B', '1.5 KiB', '1.0 GiB', '1.0 GiB', '5.5 GiB']);
  });
});

describe('progress of the CLI', () => {
  const manifest = join(tmp, 'dudkit.yaml');
  writeFileSync(manifest, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
  const cli = join(ROOT, 'dist/src/cli.js');
  /** The command under a real pseudo-terminal (util-linux script): stdout and stderr as a terminal shows them. */
  const onTerminal = (args: string) => run('script', ['-qec', `${process.execPath} ${cli} ${args}`, '/dev/null'], { env });

  it('on a terminal (script): a redrawn line, finished with a newline, then the summary', () => {
    const r = onTerminal(`build ${manifest} -o ${join(tmp, 'tty')}`);
    expect(r.status).toBe(0);
    // the terminal turns \n into \r\n
    const summary = r.stdout.indexOf(`rhdd3: ${join(tmp, 'tty')}`);
    expect(summary).toBeGreaterThan(0);
    const before = r.stdout.slice(0, summary);
    expect(before).toMatch(/^\rrhdd3: preparing dd\.iso\x1b\[K\r/);
    const kib = (statSync(join(tmp, 'tty/dd.iso')).size / 1024).toFixed(1).replace('.', '\\.');
    expect(before).toMatch(new RegExp(`\\rwriting \\S+dd\\.iso: ${kib} KiB in \\d+\\.\\ds\\x1b\\[K\\r\\n$`));
    expect(r.stdout.slice(summary)).not.toMatch(/\x1b/);
  });

  it('-q on a terminal (script) prints nothing at all', () => {
    const r = onTerminal(`build -q ${manifest} -o ${join(tmp, 'ttyq')}`);
    expect([r.status, r.stdout]).toEqual([0, '']);
  });

  it('--progress through a pipe: plain lines, the last ending with a newline, then the summary', () => {
    const r = run('sh', ['-c', `${process.execPath} ${cli} build --progress ${manifest} -o ${join(tmp, 'pipe')} 2>&1`], { env });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toMatch(/[\r\x1b]/);
    const lines = r.stdout.split('\n');
    const summary = lines.findIndex((l) => l.startsWith('rhdd3: '));
    expect(summary).toBeGreaterThan(0);
    for (const l of lines.slice(0, summary)) expect(l).toMatch(/^dudkit: /);
    expect(lines.slice(0, summary)).toContain('dudkit: rhdd3: preparing dd.iso');
    const kib = (statSync(join(tmp, 'pipe/dd.iso')).size / 1024).toFixed(1);
    expect(lines.slice(0, summary)).toContain(`dudkit: writing ${join(tmp, 'pipe/dd.iso')} (${kib} KiB)`);
  });

  it('a PXE overlay: its phase has a total when written and when inspect --progress reads it (gzip -t accepts it)', () => {
    const m = join(tmp, 'pxe.yaml');
    writeFileSync(m, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - pxe: { out: dd.cpio.gz }\n`);
    const b = dudkit(['build', '--progress', m, '-o', join(tmp, 'pxe')], { env });
    expect(b.status).toBe(0);
    expect(b.stderr).toMatch(/^dudkit: writing \S+dd\.cpio\.gz \(\d+\.\d KiB\)$/m);
    const overlay = join(tmp, 'pxe', 'dd.cpio.gz');
    expect(run('gzip', ['-t', overlay]).status).toBe(0);
    const v = dudkit(['inspect', '--progress', overlay], { env });
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/^dudkit: reading \S+dd\.cpio\.gz \(\d+\.\d KiB\)$/m);
    expect(v.stderr).not.toMatch(/[\r\x1b]/);
  });

  it('a given kmod RPM (rpmbuild-made fixture): checking its modules, and verify checking the disk package, are phases with the bytes read as total', () => {
    const m = join(tmp, 'given.yaml');
    writeFileSync(m, `${ACME}sources:\n  - rpm: ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el9_4.x86_64.rpm\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
    const b = dudkit(['build', '--progress', m, '-o', join(tmp, 'given')], { env });
    expect(b.status).toBe(0);
    expect(b.stderr).toMatch(/^dudkit: checking the modules inside \S+kmod-acme-acmenet-2\.4\.1-3\.el9_4\.x86_64\.rpm \(\d+\.\d KiB\)$/m);
    // and verify reads the disk's package with a total too
    const v = dudkit(['verify', '--progress', join(tmp, 'given', 'dd.iso')], { env });
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/^dudkit: checking rpms\/x86_64\/kmod-acme-acmenet-2\.4\.1-3\.el9_4\.x86_64\.rpm \(\d+\.\d KiB\)$/m);
  });

  it('inspect --progress through a pipe reports the media-check read with its total (xorriso-made image, implantisomd5)', () => {
    const dir = join(tmp, 'tree');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.bin'), Buffer.alloc(1 << 20, 7));
    const iso = join(tmp, 'x.iso');
    expect(run('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, dir]).status).toBe(0);
    expect(run('implantisomd5', [iso]).status).toBe(0);
    const r = dudkit(['inspect', '--progress', iso], { env });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    expect(r.stderr).toMatch(/^dudkit: checking the media-check MD5 of \S+x\.iso \(\d\.\d MiB\)\n/m);
  });
});
