import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();

describe('interrupting a build', () => {
  it('Ctrl-C (SIGINT) while an image streams out: exit 130 and no temporary file left beside the output', async () => {
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'big.bin'), '');
    truncateSync(join(src, 'big.bin'), 1536 << 20); // sparse: costs no disk to make, takes a while to copy
    const out = join(dir, 'out');
    mkdirSync(out);
    const child = spawn(process.execPath, [resolve(ROOT, 'dist/src/cli.js'), 'iso', src, '-o', join(out, 'x.iso')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // interrupt once the image is under way: its hidden temporary file exists
    for (let i = 0; i < 300 && readdirSync(out).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(out)[0]).toMatch(/^\.x\.iso\.dudkit-.*\.tmp$/);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\); nothing was written/);
    expect(readdirSync(out)).toEqual([]);
  });
});
