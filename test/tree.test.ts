import { execFileSync } from 'node:child_process';
import { readFileSync, lstatSync, readlinkSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { AtomicFile } from '../src/emit/atomic.js';
import { emitDirectory } from '../src/emit/directory.js';
import { silentProgress } from '../src/progress.js';
import { Artifacts } from '../src/tree/artifacts.js';
import { resolveTree } from '../src/tree/resolve.js';
import { inScratch, Scratch } from '../src/tree/scratch.js';
import { bytesSource, readSource, type Source } from '../src/tree/source.js';
import { comparePaths, Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();

describe('Tree', () => {
  it('refuses unsafe paths and duplicate entries', () => {
    const t = new Tree();
    for (const bad of ['/abs', '../up', 'a/../b', 'a//b', '', 'a/./b']) expect(() => t.file(bad, bytesSource('x'))).toThrow(/unsafe path/);
    t.file('a/b', bytesSource('x'));
    expect(() => t.file('a/b', bytesSource('y'))).toThrow(/two entries/);
    expect(() => t.file('a/b/c', bytesSource('y'))).toThrow(/not a directory/);
  });

  it('implies parents and sorts by path bytes', () => {
    const t = new Tree().file('z', bytesSource('')).file('a/b/c', bytesSource('')).symlink('a/l', 'b/c');
    expect(t.entries().map((e) => `${e.type}:${e.path}`)).toEqual(['dir:a', 'dir:a/b', 'file:a/b/c', 'symlink:a/l', 'file:z']);
  });

  it('orders paths as Buffer.compare orders their UTF-8 bytes, around surrogates too', () => {
    const units = ['a', 'b', '/', 'é', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\ud83d\ude00', '\ud83d', '\ude00', '\ud800\udc00'];
    const paths = [''];
    for (const x of units) for (const y of units) paths.push(x, x + y, `${x}a${y}`);
    const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const wrong = paths.flatMap((a) => paths.filter((b) => comparePaths(a, b) !== bytes(a, b)).map((b) => [a, b]));
    expect(wrong).toEqual([]);
  });

  it('builds generated entries after their dependencies', async () => {
    const t = new Tree().file('in.txt', bytesSource('hello')).file('out.txt', {
      kind: 'generated',
      deps: ['in.txt'],
      build: async ([src]) => bytesSource(new TextDecoder().decode(await readSource(src!)).toUpperCase()),
    });
    const entries = await Scratch.with((s) => resolveTree(t, s));
    const out = entries.find((e) => e.path === 'out.txt');
    expect(out?.type).toBe('file');
    if (out?.type === 'file') expect(new TextDecoder().decode(await readSource(out.content))).toBe('HELLO');
  });

  it('builds a dependency two files share once while they build at the same time, and refuses a cycle before building anything', async () => {
    const built: string[] = [];
    const gen = (name: string, deps: string[]) => ({
      kind: 'generated' as const,
      deps,
      build: async (srcs: Source[]) => {
        built.push(name);
        const parts = await Promise.all(srcs.map(async (x) => new TextDecoder().decode(await readSource(x))));
        return bytesSource(`${name}(${parts.join(',')})`);
      },
    });
    const t = new Tree().file('a', gen('a', ['c'])).file('b', gen('b', ['c'])).file('c', gen('c', []));
    const entries = await Scratch.with((s) => resolveTree(t, s));
    const texts = await Promise.all(entries.map(async (e) => (e.type === 'file' ? new TextDecoder().decode(await readSource(e.content)) : '')));
    expect(texts).toEqual(['a(c())', 'b(c())', 'c()']);
    expect(built.filter((n) => n === 'c')).toEqual(['c']);
    built.length = 0;
    const cycle = new Tree().file('x', gen('x', [])).file('y', gen('y', ['z'])).file('z', gen('z', ['y']));
    await expect(Scratch.with((s) => resolveTree(cycle, s))).rejects.toThrow('dependency cycle through y');
    expect(built).toEqual([]);
  });
});

describe('directory emitter', () => {
  it('writes files, modes, symlinks and SOURCE_DATE_EPOCH mtimes (checked with GNU find and stat)', async () => {
    const t = new Tree().file('rhdd3', bytesSource('Driver Update Disk\n')).file('bin/run.sh', bytesSource('#!/bin/sh\n'), 0o755).symlink('bin/link', 'run.sh').dir('empty');
    const out = join(dir, 'tree');
    const ctx = createContext({ epoch: 1_700_000_000 });
    await Scratch.with(async (s) => emitDirectory(await resolveTree(t, s), out, ctx));
    expect(readFileSync(join(out, 'rhdd3'), 'utf8')).toBe('Driver Update Disk\n');
    expect(lstatSync(join(out, 'bin/run.sh')).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(out, 'bin/link'))).toBe('run.sh');
    const listing = execFileSync('find', ['.', '-printf', '%y %m %T@ %p\n'], { cwd: out, encoding: 'utf8' }).trim().split('\n').sort();
    expect(listing).toEqual([
      'd 755 1700000000.0000000000 .',
      'd 755 1700000000.0000000000 ./bin',
      'd 755 1700000000.0000000000 ./empty',
      'f 644 1700000000.0000000000 ./rhdd3',
      'f 755 1700000000.0000000000 ./bin/run.sh',
      'l 777 1700000000.0000000000 ./bin/link',
    ].sort());
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('leaves nothing behind when a source fails', async () => {
    const bad = { size: 10, origin: 'broken.ko', async *open(): AsyncIterable<Uint8Array> { throw new Error('boom'); } };
    const out = join(dir, 'failed');
    await expect(Scratch.with(async (s) => emitDirectory(await resolveTree(new Tree().file('x', bad), s), out, createContext()))).rejects.toThrow('boom');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('scratch folders', () => {
  it('an output inside one in use is not made durable (no fsync), one beside it or after it is removed is', async () => {
    const outside = join(tempDir(), 'out.bin');
    let dir = '';
    await Scratch.with(async (s) => {
      dir = s.dir;
      expect(inScratch(s.path('nested.iso'))).toBe(true);
      expect(inScratch(`${s.dir}x/nested.iso`)).toBe(false);
      expect(await AtomicFile.with(s.path('nested.iso'), [], async (f) => (await f.write(Buffer.from('x')), f.durable))).toBe(false);
      expect(await AtomicFile.with(outside, [], async (f) => (await f.write(Buffer.from('x')), f.durable))).toBe(true);
    });
    expect(inScratch(join(dir, '1-nested.iso'))).toBe(false);
    expect(readFileSync(outside, 'utf8')).toBe('x');
  });
});

describe('generated folders', () => {
  it('build after the files they depend on, with names known only then', async () => {
    const t = new Tree().file('rpms/a.rpm', bytesSource('A')).generatedDir('rpms/repodata', {
      deps: ['rpms/a.rpm'],
      build: async ([a]) => [
        { path: 'repomd.xml', source: bytesSource(`<repo>${new TextDecoder().decode(await readSource(a!))}</repo>`) },
        { path: 'sub/0f-primary.xml.gz', source: bytesSource('x') },
      ],
    });
    const entries = await Scratch.with((s) => resolveTree(t, s));
    expect(entries.map((e) => `${e.type}:${e.path}`)).toEqual(['dir:rpms', 'file:rpms/a.rpm', 'dir:rpms/repodata', 'file:rpms/repodata/repomd.xml', 'dir:rpms/repodata/sub', 'file:rpms/repodata/sub/0f-primary.xml.gz']);
  });
});

describe('artifacts of one build', () => {
  it('builds equal keys over equal dependencies once, keyless or differing ones each time', async () => {
    let builds = 0;
    const upper = (key: string | undefined) => ({
      kind: 'generated' as const,
      deps: ['in.txt'],
      ...(key !== undefined ? { key } : {}),
      build: async ([src]: Source[]) => (builds++, bytesSource(new TextDecoder().decode(await readSource(src!)).toUpperCase())),
    });
    const tree = (input: string, key?: string) => new Tree().file('in.txt', bytesSource(input)).file('out.txt', upper(key));
    const text = async (entries: ResolvedEntry[]) => {
      const e = entries.find((x) => x.path === 'out.txt');
      return e?.type === 'file' ? new TextDecoder().decode(await readSource(e.content)) : undefined;
    };
    await Artifacts.with(async (artifacts) => {
      const run = { progress: silentProgress, artifacts };
      await Scratch.with(async (s) => {
        expect(await text(await resolveTree(tree('a', 'upper'), s, run))).toBe('A');
        expect(await text(await resolveTree(tree('a', 'upper'), s, run))).toBe('A');
        expect(builds).toBe(1);
        expect(await text(await resolveTree(tree('b', 'upper'), s, run))).toBe('B');
        expect(builds).toBe(2);
        await resolveTree(tree('a'), s, run);
        await resolveTree(tree('a'), s, run);
        expect(builds).toBe(4);
      });
    });
  });
});
