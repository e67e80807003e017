/**
 * dudkit as a library, the way a consumer gets it: `npm pack`, the tarball unpacked into a scratch
 * project's node_modules (its dependencies linked from this repository's, to stay offline), then an
 * .mjs importing 'dudkit' and a strict TypeScript file checked with tsc. Oracles: modinfo (kmod)
 * for the module facts, isoinfo for the disk the packaged `build` wrote, tsc for the types.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACME } from './helpers/manifest.js';
import { FIXTURES, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-api-');
const project = join(dir, 'consumer');
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const KO = join(FIXTURES, 'ko', K93, 'acmenet.ko');
let packed: string[] = [];

const must = (r: { status: number; stdout: string; stderr: string }, what: string): string => {
  expect(r.status, `${what}: ${r.stderr}${r.stdout}`).toBe(0);
  return r.stdout;
};

beforeAll(() => {
  // the suite builds dist/ first; packing must not build again (`prepare`)
  const pack = JSON.parse(must(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT }), 'npm pack')) as { filename: string; files: { path: string }[] }[];
  packed = pack[0]!.files.map((f) => f.path);
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, 'dudkit'), { recursive: true });
  must(run('tar', ['xzf', join(dir, pack[0]!.filename), '-C', join(modules, 'dudkit'), '--strip-components=1']), 'tar');
  const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of [...Object.keys(dependencies), '@types']) symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
  writeFileSync(join(project, 'package.json'), '{ "private": true, "type": "module" }\n');
  writeFileSync(
    join(project, 'dudkit.yaml'),
    `${ACME}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
targets:
  - rhdd3: { out: dd.iso }
`,
  );
}, 60_000);

describe('the packed library', () => {
  it('ships the built library and the CLI, not the tests, benchmarks, sources or source maps', () => {
    expect(packed).toContain('dist/src/api.js');
    expect(packed).toContain('dist/src/api.d.ts');
    expect(packed).toContain('dist/src/cli.js');
    expect(packed.some((p) => p.startsWith('dist/layouts/'))).toBe(true);
    expect(packed.filter((p) => /^dist\/(bench|test)\/|\.map$|^(src|layouts|test)\//.test(p))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/dudkit/package.json'), 'utf8')) as { exports: Record<string, unknown>; bin: Record<string, string> };
    expect(manifest.exports['.']).toEqual({ types: './dist/src/api.d.ts', default: './dist/src/api.js' });
    expect(manifest.bin.dudkit).toBe('dist/src/cli.js');
  });

  it("import { build, inspect, verify } from 'dudkit' works in an .mjs: module facts agree with modinfo, a built disk verifies", () => {
    writeFileSync(
      join(project, 'use.mjs'),
      `import { build, inspect, verify, createContext, UserError } from 'dudkit';
const ko = await inspect(${JSON.stringify(KO)});
const built = await build('dudkit.yaml', { outDir: 'out', ctx: createContext({ epoch: 1700000000 }) });
const good = await verify(built.targets[0].path, { kernels: [${JSON.stringify(K93)}] });
const foreign = await verify(built.targets[0].path, { kernels: ['4.18.0-513.5.1.el8_9.x86_64'] });
const missing = await inspect('nothere.ko').catch((e) => e);
console.log(JSON.stringify({ ko: { kind: ko.kind, facts: ko.facts }, built, good, foreign, missing: { user: missing instanceof UserError, message: missing.message } }));
`,
    );
    const out = JSON.parse(must(run(process.execPath, ['use.mjs'], { cwd: project }), 'node use.mjs')) as {
      ko: { kind: string; facts: { vermagic: string; name: string; depends: string[] } };
      built: { targets: { target: string; medium: string; path: string }[] };
      good: { ok: boolean; kind: string; findings: { severity: string; message: string }[] };
      foreign: { ok: boolean; findings: { severity: string; message: string }[] };
      missing: { user: boolean; message: string };
    };
    expect(out.ko.kind).toBe('kernel-module');
    expect(out.ko.facts.vermagic).toBe(must(run('modinfo', ['-F', 'vermagic', KO]), 'modinfo').replace(/\n$/, ''));
    expect(out.ko.facts.name).toBe(must(run('modinfo', ['-F', 'name', KO]), 'modinfo').trim());
    expect(out.ko.facts.depends.join(',')).toBe(must(run('modinfo', ['-F', 'depends', KO]), 'modinfo').trim());
    expect(out.built.targets).toMatchObject([{ target: 'rhdd3', medium: 'iso', path: resolve(project, 'out/dd.iso') }]);
    expect(must(run('isoinfo', ['-d', '-i', out.built.targets[0]!.path]), 'isoinfo')).toMatch(/^Volume id: OEMDRV$/m);
    expect(out.good).toMatchObject({ ok: true, kind: 'rhdd3' });
    expect(out.good.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(out.foreign.ok).toBe(false);
    expect(out.foreign.findings.some((f) => f.severity === 'error' && /matches this installer kernel/.test(f.message))).toBe(true);
    expect(out.missing).toEqual({ user: true, message: 'nothere.ko: no such file or directory' });
  }, 180_000);

  it('a strict TypeScript consumer type-checks (with @types/node, and without: no Node types leak); misuse is a type error', () => {
    writeFileSync(
      join(project, 'use.ts'),
      `import { build, builtinReaders, inspect, verify, writeIso, keygen, UserError, userErrorOf, FormatError, type BuildResult, type Facts, type InspectReport, type VerifyReport, type Finding } from 'dudkit';
export async function main(): Promise<string> {
  const built: BuildResult = await build('dudkit.yaml', { outDir: 'out', only: ['rhdd3'] });
  const ko: InspectReport<Facts> = await inspect('a.ko');
  const report: VerifyReport = await verify(built.targets[0]!.path, { kernels: ['${K93}'] });
  const errors: Finding[] = report.findings.filter((f) => f.severity === 'error');
  const iso = await writeIso('tree', 'tree.iso', { volumeId: 'OEMDRV', checksums: ['sha256'], hybrid: { gpt: true } });
  const key = await keygen('k', { bits: 2048 });
  const vermagic = ko.facts['vermagic'];
  const registry = await builtinReaders();
  const again = await inspect('a.ko', { registry: registry.filter((r) => r.kind !== 'rpm') });
  const user: UserError | undefined = userErrorOf(new Error('z'), 'a.ko');
  return [report.ok, errors.length, iso.size, key.fingerprint, typeof vermagic, again.kind, user?.message, new UserError('x').exitCode, new FormatError('y').message].join();
}
`,
    );
    writeFileSync(
      join(project, 'misuse.ts'),
      `import { verify, writeIso } from 'dudkit';
export const a = verify('x', { kernels: 5 });
export const b = writeIso('d', 'o', { level: 2 });
`,
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    // skipLibCheck stays off: every declaration file the API reaches is checked too
    for (const types of [['node'], []]) {
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types }, files: ['use.ts', 'misuse.ts'] }));
      const r = run(process.execPath, [tsc, '-p', '.', '--pretty', 'false'], { cwd: project });
      // the two misuses, and nothing else
      expect(r.stdout.trim().split('\n').map((l) => l.replace(/: error (TS\d+).*/, ' $1')), `types: [${types}]`).toEqual(['misuse.ts(2,32) TS2322', 'misuse.ts(3,39) TS2322']);
    }
  }, 180_000);
});
