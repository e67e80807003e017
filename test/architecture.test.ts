// The import rules of the data path (`design.md`, issue 11), read with the TypeScript compiler's
// own import scanner (`ts.preProcessFile`: static imports, `export … from`, `import type`,
// dynamic `import()`): layouts do no I/O of their own, byte formats import nothing above them,
// emitters import nothing from the layouts.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/run.js';

interface Import {
  /** Repository path of the importing file. */
  from: string;
  /** The specifier as written (`node:fs`, `../src/tree/tree.js`). */
  specifier: string;
  /** Repository path of the imported module for relative specifiers (`src/tree/tree.ts`), else the specifier. */
  to: string;
}

function sourceFiles(dir: string): string[] {
  return (readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => posix.join(dir, f.split('\\').join('/')))
    .sort();
}

function importsOf(file: string): Import[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return importedFiles.map(({ fileName: specifier }) => ({
    from: file,
    specifier,
    to: specifier.startsWith('.') ? posix.normalize(posix.join(dirname(file), specifier)).replace(/\.js$/, '.ts') : specifier,
  }));
}

const under = (prefixes: readonly string[]) => (path: string) => prefixes.some((p) => path === p || path.startsWith(p.endsWith('.ts') ? p : `${p}/`));
const pair = (i: Import) => `${i.from} -> ${i.to}`;

/**
 * The violations of `rule` among `imports`, minus the known ones; each known exception must still
 * occur, so the list only shrinks.
 */
function check(imports: Import[], rule: (i: Import) => boolean, known: readonly string[]): void {
  const found = imports.filter(rule).map(pair);
  expect(found.filter((p) => !known.includes(p)), 'new violations').toEqual([]);
  expect(known.filter((p) => !found.includes(p)), 'known exceptions that no longer occur: remove them from the list').toEqual([]);
}

const layoutImports = sourceFiles('layouts').flatMap(importsOf);
const formatImports = sourceFiles('src/formats').flatMap(importsOf);
const emitImports = sourceFiles('src/emit').flatMap(importsOf);

describe('architecture: import rules (TypeScript import scanner)', () => {
  it('the scanner sees real imports of each kind (the rules below are not vacuous)', () => {
    expect(layoutImports.map(pair)).toContain('layouts/attach.ts -> src/formats/iso9660/read.ts');
    expect(layoutImports.map((i) => i.specifier)).toContain('zod');
    // a type-only import and a dynamic import()
    expect(layoutImports.map(pair)).toContain('layouts/types.ts -> src/model/driverset.ts');
    expect(importsOf('src/api.ts').map(pair)).toContain('src/api.ts -> src/readers/index.ts');
    expect(sourceFiles('layouts').length).toBeGreaterThanOrEqual(10);
    expect(sourceFiles('src/formats').length).toBeGreaterThanOrEqual(40);
  });

  it('no layout imports an I/O module (node:fs, node:stream, node:child_process): reading goes to prepare via src/, bytes to the emitters', () => {
    const io = ['fs', 'fs/promises', 'stream', 'stream/promises', 'child_process'];
    const banned = new Set(io.flatMap((m) => [m, `node:${m}`]));
    check(layoutImports, (i) => banned.has(i.specifier), []);
  });

  it('byte formats (src/formats/) import nothing above them: no readers, media, verify, emit, commands, context, manifest, api or layouts', () => {
    const above = under([
      'src/emit', 'src/verify', 'src/readers', 'src/media', 'src/commands', 'src/context.ts', 'src/manifest', 'src/api.ts', 'src/cli.ts', 'layouts',
    ]);
    check(formatImports, (i) => above(i.to), []);
  });

  it('emitters (src/emit/) import nothing from layouts/', () => {
    // Plan, Medium and Derived live in src/emit/plan.ts; layouts/types.ts takes them from there
    expect(layoutImports.map(pair)).toContain('layouts/types.ts -> src/emit/plan.ts');
    check(emitImports, (i) => under(['layouts'])(i.to), []);
  });

  it('the CLI (src/cli.ts, src/program.ts, src/commands/) uses only the library API: commander, node: built-ins, src/api.ts and its own modules', () => {
    const cli = ['src/cli.ts', 'src/program.ts', ...sourceFiles('src/commands')].flatMap(importsOf);
    const allowed = (i: Import) => i.specifier === 'commander' || i.specifier.startsWith('node:') || i.to === 'src/api.ts' || under(['src/commands', 'src/program.ts'])(i.to);
    expect(cli.map(pair)).toContain('src/commands/build.ts -> src/api.ts');
    check(cli, (i) => !allowed(i), []);
  });
});
