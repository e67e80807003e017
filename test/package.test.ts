// What `npm pack` ships (issue 19 item 2), read from npm's own --dry-run --json listing.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string; engines: { node: string }; scripts: Record<string, string> };

describe('the npm package', () => {
  it('npm pack --dry-run lists the compiled CLI and library, layouts, the man page, the JSON Schema, README and LICENSE: no bench, tests, sources or maps', () => {
    // --ignore-scripts: the listing of what is built already (prepack would rebuild first)
    const r = run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    expect(r.status).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const top = new Set(files.map((f) => (f.startsWith('dist/') ? f.split('/').slice(0, 2).join('/') : f.split('/')[0]!)));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'dist/layouts', 'dist/src', 'man', 'package.json', 'schema']);
    expect(files).toContain('dist/src/cli.js');
    expect(files).toContain('dist/src/api.d.ts');
    expect(files).toContain('dist/layouts/rhdd3.js');
    expect(files).toContain('schema/dudkit-output.schema.json');
    expect(files).toContain('man/dudkit.1');
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('LICENSE is the GPL version 2 that package.json names', () => {
    expect(pkg.license).toBe('GPL-2.0-only');
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/GNU GENERAL PUBLIC LICENSE\s+Version 2, June 1991/);
  });

  it('engines asks for the Node that has zlib.crc32 (20.15), and this Node satisfies it', () => {
    expect(pkg.engines.node).toBe('>=20.15');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major > 20 || (major === 20 && minor >= 15)).toBe(true);
  });

  it('the packed package.json carries prepare inert (npm lists no install script), and the checkout gets it back byte-identical', () => {
    const dir = tempDir();
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const before = readFileSync(join(dir, 'package.json'), 'utf8');
    expect(run(process.execPath, [join(ROOT, 'scripts/pack-scripts.mjs'), 'off'], { cwd: dir }).status).toBe(0);
    const packed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(packed.scripts.prepare).toBeUndefined();
    expect(packed.scripts._prepare).toBe(pkg.scripts.prepare);
    expect(run(process.execPath, [join(ROOT, 'scripts/pack-scripts.mjs'), 'on'], { cwd: dir }).status).toBe(0);
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(before);
  });
});
