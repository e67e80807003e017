// What a killed dudkit leaves behind is removed by the next run (issue 10, item 5), and a signal
// that arrives while the CLI is still loading its modules is handled like any other.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACME } from './helpers/manifest.js';
import { dudkit, FIXTURES, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const CLI = resolve(ROOT, 'dist/src/cli.js');

function start(args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): { child: ChildProcess; exited: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>((r) => child.on('close', (code, signal) => r({ code, signal, stderr })));
  return { child, exited };
}

/** Poll until `ready()` holds (the process reached the state to interrupt it in). */
async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ready(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ready()).toBe(true);
}

describe('after SIGKILL, the next run removes what the dead process left', () => {
  it('dudkit iso killed while its image streams out, then the same command: a whole ISO (isoinfo, xorriso) and no stale temp file', async () => {
    const src = join(dir, 'iso-src');
    mkdirSync(src);
    writeFileSync(join(src, 'big.bin'), '');
    truncateSync(join(src, 'big.bin'), 256 << 20); // sparse: cheap to make, takes a moment to copy
    const out = join(dir, 'iso-out');
    mkdirSync(out);
    const args = ['iso', src, '-o', join(out, 'x.iso'), '-V', 'KILLED'];
    const first = start(args);
    await until(() => readdirSync(out).length > 0);
    expect(readdirSync(out)).toEqual([expect.stringMatching(new RegExp(`^\\.x\\.iso\\.dudkit-${first.child.pid}-[0-9a-z]+\\.tmp$`))]);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const stale = readdirSync(out)[0]!;
    expect(existsSync(join(out, stale))).toBe(true);

    const again = dudkit(args);
    expect(again.status, again.stderr).toBe(0);
    expect(readdirSync(out)).toEqual(['x.iso']);
    expect(run('isoinfo', ['-d', '-i', join(out, 'x.iso')]).stdout).toMatch(/Volume id: KILLED/);
    const listed = run('xorriso', ['-indev', join(out, 'x.iso'), '-find', '/', '-type', 'f', '-exec', 'lsdl']);
    expect(listed.stdout).toMatch(/ 268435456 .*'\/big\.bin'/);
  });

  it('dudkit build killed while its scratch folder exists, then the same command: the dead PID’s scratch folder is gone, the disk is whole', async () => {
    const tmp = join(dir, 'tmpdir');
    mkdirSync(tmp);
    const base = join(dir, 'build');
    mkdirSync(base);
    const manifest = join(base, 'dudkit.yaml');
    writeFileSync(manifest, `${ACME}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
    const out = join(base, 'o');
    // a live process's scratch folder, which the next run must leave alone
    const live = join(tmp, `dudkit-${process.pid}-AbC123`);
    mkdirSync(live);
    const env = { TMPDIR: tmp, SOURCE_DATE_EPOCH: '1700000000' };
    const first = start(['build', manifest, '-o', out], env);
    const mine = (n: string) => n.startsWith(`dudkit-${first.child.pid}-`);
    await until(() => readdirSync(tmp).some(mine));
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(readdirSync(tmp).filter(mine).length).toBeGreaterThan(0); // the build's artifact store and a target's scratch

    const again = dudkit(['build', manifest, '-o', out], { env });
    expect(again.status, again.stderr).toBe(0);
    expect(readdirSync(tmp)).toEqual([`dudkit-${process.pid}-AbC123`]);
    expect(readdirSync(out).sort()).toEqual(['dd.iso', 'dd.iso.sha256']);
    expect(run('sha256sum', ['-c', 'dd.iso.sha256'], { cwd: out }).status).toBe(0);
    expect(run('isoinfo', ['-d', '-i', join(out, 'dd.iso')]).stdout).toMatch(/Volume id: OEMDRV/);
    expect(statSync(live).isDirectory()).toBe(true);
  });
});

describe('a signal while the CLI is still loading', () => {
  it('SIGTERM delivered while commander loads (before any command runs): exit 143, the one line, nothing left', async () => {
    // the preload sends the signal from inside the module loader, at the moment commander's code
    // is compiled: deterministic, and before the CLI's commands exist
    const preload = join(dir, 'term-on-commander.cjs');
    writeFileSync(
      preload,
      `const Module = require('node:module');
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (/[\\\\/]commander[\\\\/]index\\.js$/.test(filename)) process.kill(process.pid, 'SIGTERM');
  return compile.call(this, content, filename);
};
`,
    );
    const tmp = join(dir, 'early-tmp');
    const out = join(dir, 'early-out');
    mkdirSync(tmp);
    mkdirSync(out);
    const src = join(dir, 'early-src');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'a\n');
    const r = await start(['iso', src, '-o', join(out, 'x.iso')], { TMPDIR: tmp }, ['--require', preload]).exited;
    expect(r.signal).toBe(null);
    expect(r.code).toBe(143);
    expect(r.stderr).toBe('\ndudkit: interrupted (SIGTERM); nothing was written\n');
    expect(readdirSync(out)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
