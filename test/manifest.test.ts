import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifest } from '../src/manifest/load.js';
import { expandGlob } from '../src/manifest/glob.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();

function manifest(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const base = `name: acmenet
version: 2.4.1
vendor: acme
summary: ACME driver
sources:
  - ko: ko/*.ko
targets:
  - rhdd3: { out: dd.iso }
`;

describe('manifest', () => {
  it('reads YAML and JSON, with defaults', async () => {
    const y = await loadManifest(manifest('m.yaml', base));
    expect(y.manifest.release).toBe('1');
    expect(y.manifest.license).toBe('GPL-2.0-only');
    expect(y.targets).toEqual([{ kind: 'rhdd3', index: 0, options: { out: 'dd.iso' } }]);
    const j = await loadManifest(manifest('m.json', JSON.stringify({ name: 'x', version: 1.2, release: 3, vendor: 'v', summary: 's', sources: [{ rpm: 'a.rpm' }], targets: [{ rhdd3: {} }] })));
    expect(j.manifest.version).toBe('1.2');
    expect(j.manifest.release).toBe('3');
  });

  it('names the file and the key path of every mistake', async () => {
    const cases: [string, RegExp][] = [
      [base.replace('vendor: acme', 'vendor: "ac me"'), /m\d\.yaml: vendor: must match/],
      [base.replace('version: 2.4.1', 'version: 2.4-1'), /version: must be an RPM version/],
      [base.replace('  - ko: ko/*.ko', '  - kox: ko/*.ko'), /sources\[0\]/],
      [base.replace('summary: ACME driver\n', ''), /summary/],
      [base + 'colour: blue\n', /colour/],
      [base.replace('  - rhdd3: { out: dd.iso }', '  - { rhdd3: {}, suse: {} }'), /targets\[0\]: each target is one key/],
      ['name: [unclosed', /not valid YAML\/JSON/],
    ];
    let i = 0;
    for (const [text, re] of cases) await expect(loadManifest(manifest(`m${i++}.yaml`, text))).rejects.toThrow(re);
    await expect(loadManifest(join(dir, 'missing.yaml'))).rejects.toThrow(/missing.yaml: no such file/);
  });
});

describe('glob', () => {
  it('expands *, ? and ** in path byte order', async () => {
    for (const f of ['a/x1.ko', 'a/x2.ko', 'a/b/y.ko', 'a/n.txt']) {
      const p = join(dir, 'g', f);
      (await import('node:fs')).mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, '');
    }
    const g = join(dir, 'g');
    expect(await expandGlob('a/*.ko', g)).toEqual([join(g, 'a/x1.ko'), join(g, 'a/x2.ko')]);
    expect(await expandGlob('a/x?.ko', g)).toHaveLength(2);
    expect(await expandGlob('**/*.ko', g)).toEqual([join(g, 'a/b/y.ko'), join(g, 'a/x1.ko'), join(g, 'a/x2.ko')]);
    expect(await expandGlob('a/none*.ko', g)).toEqual([]);
  });
});

describe('build errors from the file system', () => {
  it('an output folder that is a file: exit 2, one line naming it, no stack trace', async () => {
    const { dudkit, FIXTURES } = await import('./helpers/run.js');
    const m = manifest('fs.yaml', base.replace('ko/*.ko', `${FIXTURES}/ko/5.14.0-362.8.1.el9_3.x86_64/*.ko`));
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const r = dudkit(['build', m, '-o', blocker]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dudkit: ${blocker}: exists and is in the way (a file where a folder is needed, or the reverse)\n`);
  });
});
