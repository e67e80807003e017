// The ISO writer checked with the real readers: isoinfo, xorriso, bsdtar, 7z, md5sum/sha256sum.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { treeFromDirectory } from '../src/tree/folder.js';
import { createContext } from '../src/context.js';
import { emitIso, type EmitIsoOptions } from '../src/emit/iso.js';
import { checksumFiles, writeDerivedOf } from '../src/emit/derived.js';
import { ecmaIdentifiers, jolietIdentifiers } from '../src/formats/iso9660/names.js';
import { planIso } from '../src/formats/iso9660/plan.js';
import { IsoReader } from '../src/formats/iso9660/read.js';
import { streamIso } from '../src/formats/iso9660/stream.js';
import type { Source } from '../src/tree/source.js';
import { bytesSource, readSource, sliceSource } from '../src/tree/source.js';
import { Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { dudkit as dudkitCli } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const EPOCH = 1700000000;
const dir = tempDir('dudkit-iso-');
const src = join(dir, 'src');
const LONG = `${'l'.repeat(196)}.txt`; // 200 bytes
const DEEP = 'd1/d2/d3/d4/d5/d6/d7'; // level 8 with the root as level 1

function run(cmd: string, args: string[], opts: { cwd?: string; encoding?: BufferEncoding } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/** Deterministic pseudo-random bytes. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function makeSource(root: string, withLong: boolean): void {
  mkdirSync(join(root, DEEP), { recursive: true });
  mkdirSync(join(root, 'empty-dir'));
  mkdirSync(join(root, 'rpms/x86_64'), { recursive: true });
  writeFileSync(join(root, 'rhdd3'), 'Driver Update Disk version 3');
  writeFileSync(join(root, '.treeinfo'), '[general]\n');
  writeFileSync(join(root, 'empty'), '');
  writeFileSync(join(root, 'lower.txt'), 'lower');
  writeFileSync(join(root, 'LOWER.TXT'), 'upper');
  writeFileSync(join(root, 'café.bin'), 'unicode');
  writeFileSync(join(root, 'rpms/x86_64/kmod-acme-acmenet-2.4.1-3.el9.x86_64.rpm'), pattern(3 * 1024 * 1024 + 17, 7));
  writeFileSync(join(root, `${DEEP}/bottom.ko`), pattern(5000, 3));
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(root, 'run.sh'), 0o755);
  writeFileSync(join(root, 'private'), 'secret');
  chmodSync(join(root, 'private'), 0o600);
  symlinkSync('rpms/x86_64', join(root, 'link-rel'));
  symlinkSync('/usr/share/doc', join(root, 'link-abs'));
  symlinkSync(`../../${'x'.repeat(120)}/${'y'.repeat(120)}/./z`, join(root, 'rpms/link-long'));
  if (withLong) writeFileSync(join(root, LONG), 'long name');
}

interface Snap {
  type: string;
  mode?: number;
  sha?: string;
  target?: string;
  mtime?: number;
}

/** What a folder holds: types, permission bits, contents, link targets, mtimes. */
function snapshot(root: string, opts: { modes: boolean; mtimes: boolean; links: boolean }): Record<string, Snap> {
  const out: Record<string, Snap> = {};
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs)) {
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      const s: Snap = { type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file' };
      if (opts.modes && !st.isSymbolicLink()) s.mode = st.mode & 0o7777;
      if (opts.mtimes && !st.isDirectory()) s.mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isFile()) s.sha = createHash('sha256').update(readFileSync(p)).digest('hex');
      if (st.isSymbolicLink()) s.target = readlinkSync(p);
      if (!opts.links && st.isSymbolicLink()) continue;
      out[r] = s;
      if (st.isDirectory()) walk(p, r);
    }
  };
  walk(root, '');
  return out;
}

async function build(from: string, out: string, options: Partial<EmitIsoOptions> = {}) {
  const entries = (await treeFromDirectory(from)).entries() as ResolvedEntry[];
  return emitIso(entries, out, { volumeId: 'OEMDRV', joliet: { overflow: 'truncate' }, ...options }, createContext({ epoch: EPOCH }));
}

const iso = join(dir, 'out.iso');
beforeAll(async () => {
  makeSource(src, true);
  const written = await build(src, iso, { digests: ['md5', 'sha256'], publisher: 'ACME Networks', application: 'DUDKIT' });
  await writeDerivedOf(iso, checksumFiles(['md5', 'sha256']), written);
});

describe('ISO 9660 writer read by the real tools', () => {
  it('isoinfo -d finds the volume id, Rock Ridge and Joliet', () => {
    const d = run('isoinfo', ['-d', '-i', iso]);
    expect(d).toMatch(/^Volume id: OEMDRV$/m);
    expect(d).toMatch(/^Publisher id: ACME Networks$/m);
    expect(d).toContain('Joliet with UCS level 3 found');
    expect(d).toContain('Rock Ridge signatures version 1 found');
    expect(d).toMatch(new RegExp(`^Volume size is: ${readFileSync(iso).length / 2048}$`, 'm'));
  });

  it('isoinfo -l -R shows real names, 200-byte names and modes; -l shows 8.3 names with ;1', () => {
    const rr = run('isoinfo', ['-R', '-l', '-i', iso]);
    expect(rr).toContain(` ${LONG} `);
    expect(rr).toMatch(/-rwxr-xr-x .* run\.sh/);
    expect(rr).toMatch(/-rw------- .* private/);
    expect(rr).toMatch(/lrwxrwxrwx .* link-rel -> rpms\/x86_64/);
    expect(rr).toContain('Directory listing of /d1/d2/d3/d4/d5/d6/d7/');
    const plain = run('isoinfo', ['-l', '-i', iso]);
    for (const id of ['LOWER0.TXT;1', 'LOWER1.TXT;1', '_TREEINF.;1', 'RHDD3.;1', 'KMOD_ACM.RPM;1', 'CAF_.BIN;1', 'RPMS ', 'X86_64 ']) expect(plain).toContain(` ${id}`);
  });

  it('isoinfo -l -J shows Joliet names (cut to 64 characters when asked)', () => {
    // isoinfo prints Joliet names in ISO 8859-1
    const j = run('isoinfo', ['-J', '-l', '-i', iso], { encoding: 'latin1' });
    expect(j).toContain(' kmod-acme-acmenet-2.4.1-3.el9.x86_64.rpm ');
    expect(j).toContain(' café.bin ');
    expect(j).toContain(` ${'l'.repeat(60)}.txt `);
  });

  it('xorriso -find lists every path with its link target', () => {
    const out = run('xorriso', ['-indev', iso, '-find', '/', '-exec', 'lsdl'], {});
    const src2 = snapshot(src, { modes: false, mtimes: false, links: true });
    for (const [p, s] of Object.entries(src2)) {
      expect(out).toContain(`'/${p}'${s.target ? ` -> '${s.target}'` : ''}`);
    }
  });

  it('bsdtar -xf and xorriso -extract reproduce the tree: names, bytes, modes, links, mtimes', () => {
    const want = snapshot(src, { modes: true, mtimes: false, links: true });
    for (const [name, extract] of [
      ['bsdtar', (to: string) => run('bsdtar', ['-xpf', iso, '-C', to])],
      ['xorriso', (to: string) => run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', to])],
    ] as const) {
      const to = join(dir, `x-${name}`);
      mkdirSync(to);
      extract(to);
      chmodSync(to, 0o755);
      expect(snapshot(to, { modes: true, mtimes: false, links: true }), name).toEqual(want);
      const times = snapshot(to, { modes: false, mtimes: true, links: false });
      for (const [p, s] of Object.entries(times)) if (s.type === 'file') expect(s.mtime, `${name} ${p}`).toBe(EPOCH);
    }
  });

  it('7z x reads the Joliet tree', async () => {
    const small = join(dir, 'src7');
    makeSource(small, false);
    const img = join(dir, 'seven.iso');
    await build(small, img);
    const to = join(dir, 'x-7z');
    run('7z', ['x', '-y', `-o${to}`, img]);
    const want = snapshot(small, { modes: false, mtimes: false, links: false });
    const got = snapshot(to, { modes: false, mtimes: false, links: false });
    // Joliet has no symlinks: 7-Zip shows them as empty files
    for (const [p, s] of Object.entries(want)) expect(got[p], p).toEqual(s);
  });

  it('md5sum -c and sha256sum -c accept the sidecar files', () => {
    expect(run('md5sum', ['-c', 'out.iso.md5'], { cwd: dir })).toBe('out.iso: OK\n');
    expect(run('sha256sum', ['-c', 'out.iso.sha256'], { cwd: dir })).toBe('out.iso: OK\n');
  });

  it('two builds with the same SOURCE_DATE_EPOCH are byte-identical', async () => {
    const again = join(dir, 'again.iso');
    await build(src, again, { publisher: 'ACME Networks', application: 'DUDKIT' });
    expect(createHash('sha256').update(readFileSync(again)).digest('hex')).toBe(createHash('sha256').update(readFileSync(iso)).digest('hex'));
  });

  it('long symlink targets and 200-byte names use continuation areas that Linux-style readers follow', () => {
    const rr = run('isoinfo', ['-R', '-l', '-i', iso]);
    expect(rr).toContain(`link-long -> ../../${'x'.repeat(120)}/${'y'.repeat(120)}/./z`);
  });
});

describe('ISO 9660 writer limits', () => {
  const tiny = (t: Tree) => t.entries() as ResolvedEntry[];
  const ctx = () => createContext({ epoch: EPOCH });

  it('relocates a 12-deep tree through rr_moved (CL/PL/RE) as genisoimage does (bsdtar, xorriso, isoinfo)', async () => {
    const deep = join(dir, 'deep12');
    const path12 = Array.from({ length: 12 }, (_, i) => `l${i + 1}`).join('/');
    mkdirSync(join(deep, path12), { recursive: true });
    writeFileSync(join(deep, path12, 'leaf.txt'), 'leaf\n');
    writeFileSync(join(deep, 'l1/l2/l3/l4/l5/l6/l7/l8/l9/mid.txt'), 'mid\n');
    const out = join(dir, 'deep12.iso');
    await emitIso((await treeFromDirectory(deep)).entries() as ResolvedEntry[], out, { volumeId: 'DEEP' }, ctx());
    const bx = join(dir, 'deep12-bsdtar');
    mkdirSync(bx);
    run('bsdtar', ['-xf', out, '-C', bx]);
    expect(run('diff', ['-r', deep, bx])).toBe('');
    const xx = join(dir, 'deep12-xorriso');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', out, '-extract', '/', xx], { stdio: 'ignore' });
    // xorriso (like Linux) shows the relocation folder itself, empty, as it does on genisoimage's images
    expect(spawnSync('diff', ['-r', deep, xx], { encoding: 'utf8' }).stdout).toBe(`Only in ${xx}: rr_moved\n`);
    // isoinfo does not follow CL: it lists the ECMA tree with Rock Ridge names, the moved part under rr_moved
    const rr = run('isoinfo', ['-R', '-l', '-i', out]);
    expect(rr).toContain('Directory listing of /l1/l2/l3/l4/l5/l6/l7/\n');
    expect(rr).toMatch(/Directory listing of \/rr_moved\/l8\/l9\/\n(.*\n)*.* mid\.txt \n/);
    expect(rr).toMatch(/Directory listing of \/rr_moved\/l8\/l9\/l10\/l11\/l12\/\n(.*\n)*.* leaf\.txt \n/);
    // dudkit's reader follows the relocation
    const r = await IsoReader.open(out);
    try {
      const paths = (await r.entries()).map((e) => e.path);
      expect(paths).toContain(`${path12}/leaf.txt`);
      expect(paths).toContain('l1/l2/l3/l4/l5/l6/l7/l8/l9/mid.txt');
    } finally {
      await r.close();
    }
  });

  it('refuses files of 4 GiB or more and names over 253 bytes', async () => {
    const huge: Source = { size: 4 * 1024 ** 3, origin: 'huge.bin', open: () => { throw new Error('not read'); } };
    await expect(emitIso(tiny(new Tree().file('huge.bin', huge)), join(dir, 'huge.iso'), { volumeId: 'X' }, ctx())).rejects.toThrow(/huge.bin: file of 4 GiB or more needs ISO level 3/);
    await expect(emitIso(tiny(new Tree().file('n'.repeat(254), bytesSource(''))), join(dir, 'n.iso'), { volumeId: 'X', joliet: false }, ctx())).rejects.toThrow(/longer than 253 bytes/);
  });

  it('writes files over 4 GiB as multi-extent sections at level 3 (isoinfo, the reader)', async () => {
    const size = 4 * 1024 ** 3 + 12345;
    const zeros = new Uint8Array(1 << 20);
    const huge: Source = {
      size,
      origin: 'huge.bin',
      async *open() {
        for (let left = size; left > 0; left -= zeros.length) yield zeros.subarray(0, Math.min(left, zeros.length));
      },
    };
    const plan = await planIso(tiny(new Tree().file('huge.bin', huge).file('z', bytesSource('z'))), { volumeId: 'X', level3: true, epoch: EPOCH });
    // keep the metadata, count the rest: the file data is 4 GiB of zeros
    const head: Buffer[] = [];
    let seen = 0;
    await streamIso(plan, {
      async write(chunk) {
        if (seen < plan.lba.data * 2048) head.push(Buffer.from(chunk.subarray(0, plan.lba.data * 2048 - seen)));
        seen += chunk.length;
      },
    });
    expect(seen).toBe(plan.volumeBlocks * 2048);
    const meta = join(dir, 'multi-extent-head.iso');
    writeFileSync(meta, Buffer.concat(head));
    const listing = run('isoinfo', ['-R', '-l', '-i', meta]);
    expect(listing).toMatch(/ 4294965248 .* huge\.bin/);
    expect(listing).toMatch(/ 14393 .* huge\.bin/);
    const r = await IsoReader.open(meta);
    try {
      const e = (await r.entries()).find((x) => x.path === 'huge.bin')!;
      expect(e.size).toBe(size);
      expect(e.extents).toEqual([
        { lba: plan.files[0]!.lba, size: 0xfffff800 },
        { lba: plan.files[0]!.lba + 0xfffff800 / 2048, size: 14393 },
      ]);
    } finally {
      await r.close();
    }
  });

  it('refuses long Joliet names when refusal or -joliet-long is asked for', async () => {
    const t = new Tree().file('a'.repeat(80), bytesSource('x'));
    await expect(emitIso(tiny(t), join(dir, 'j.iso'), { volumeId: 'X', joliet: { overflow: 'refuse' } }, ctx())).rejects.toThrow(/longer than 64 Joliet characters/);
    await emitIso(tiny(t), join(dir, 'j.iso'), { volumeId: 'X', joliet: { limit: 103 } }, ctx());
    expect(run('isoinfo', ['-J', '-l', '-i', join(dir, 'j.iso')])).toContain(` ${'a'.repeat(80)} `);
  });

  it('cuts long Joliet names by default, unique and with a warning, as xorriso does; Rock Ridge keeps them (isoinfo, bsdtar)', async () => {
    // three names alike in their first 64 characters, and a folder; xorriso 1.5 -J makes them unique the same way
    // (a counter before the extension: x…x0.txt, x…x1.txt, x…x2.txt) but one character past 64
    const x = 'x'.repeat(70);
    const t = new Tree().file(`${x}a.txt`, bytesSource('a')).file(`${x}b.txt`, bytesSource('b')).file(`${x}c.txt`, bytesSource('c')).dir('d'.repeat(70)).file(`${'d'.repeat(70)}/f`, bytesSource('f'));
    const out = join(dir, 'cut.iso');
    const c = ctx();
    await emitIso(tiny(t), out, { volumeId: 'X' }, c);
    const cut = ['0', '1', '2'].map((n) => `${'x'.repeat(59)}${n}.txt`);
    expect([...c.warnings].sort()).toEqual(
      [
        ...['a', 'b', 'c'].map((s, i) => `Joliet name cut to 64 characters: /${x}${s}.txt is "${cut[i]}" for Windows readers (Rock Ridge keeps the full name; -joliet-long allows 103)`),
        `Joliet name cut to 64 characters: /${'d'.repeat(70)} is "${'d'.repeat(64)}" for Windows readers (Rock Ridge keeps the full name; -joliet-long allows 103)`,
      ].sort(),
    );
    const j = run('isoinfo', ['-J', '-l', '-i', out]);
    for (const id of cut) expect(j).toContain(` ${id} `);
    expect(j).toContain(`Directory listing of /${'d'.repeat(64)}/`);
    const rr = run('isoinfo', ['-R', '-l', '-i', out]);
    for (const s of ['a', 'b', 'c']) expect(rr).toContain(` ${x}${s}.txt `);
    expect(run('bsdtar', ['-tf', out]).split('\n').sort()).toEqual(expect.arrayContaining([`${x}a.txt`, `${x}b.txt`, `${x}c.txt`, `${'d'.repeat(70)}/f`]));
  });

  it('aborts when a source changes size between plan and emit, leaving no output', async () => {
    const liar: Source = { size: 10, origin: 'shrinking.bin', async *open() { yield new Uint8Array(4); } };
    const out = join(dir, 'liar.iso');
    await expect(emitIso(tiny(new Tree().file('f', liar)), out, { volumeId: 'X' }, ctx())).rejects.toThrow(/shrinking.bin: shrank/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('liar'))).toEqual([]);
  });

  it('aborts when a file on disk grows after the tree was read', async () => {
    const f = join(dir, 'growing.bin');
    writeFileSync(f, 'abc');
    const t = new Tree().file('g', sliceSource(f, 0, 3, f, true));
    writeFileSync(f, 'abcdef');
    const out = join(dir, 'grow.iso');
    await expect(emitIso(tiny(t), out, { volumeId: 'X' }, ctx())).rejects.toThrow(/growing.bin: changed size while being read/);
    expect(existsSync(out)).toBe(false);
  });

  it('maps names like ECMA-119 level 1 and Joliet', () => {
    const req = (names: string[], isDir = false) => names.map((name) => ({ name, isDir }));
    expect(ecmaIdentifiers(req(['averyveryverylongname.rpm', 'averyveryverylongname2.rpm', 'README', 'a.b.c']))).toEqual(['AVERYVE0.RPM;1', 'AVERYVE1.RPM;1', 'README.;1', 'A_B.C;1']);
    expect(ecmaIdentifiers(req(['some.dir'], true))).toEqual(['SOME_DIR']);
    expect(jolietIdentifiers(req(['a:b', 'a_b', `${'x'.repeat(70)}.rpm`]), { limit: 64, overflow: 'truncate' })).toEqual(['a_b0', 'a_b1', `${'x'.repeat(60)}.rpm`]);
    // upper case first (ß is SS), then one _ per other character, a pair outside the BMP included
    expect(ecmaIdentifiers(req(['straße.txt', 'ﬁ\u{1f600}x.tar.gz']))).toEqual(['STRASSE.TXT;1', 'FI_X_TAR.GZ;1']);
    expect(jolietIdentifiers(req(['a\u{1f600}b', 'é?.txt', 'plain name.txt']), { limit: 64, overflow: 'truncate' })).toEqual(['a_b', 'é_.txt', 'plain name.txt']);
  });
});

describe('ISO reader', () => {
  it('reads back the Rock Ridge tree and file bytes of its own image', async () => {
    const r = await IsoReader.open(iso);
    try {
      expect(r.volume).toMatchObject({ volumeId: 'OEMDRV', rockRidge: true, joliet: true });
      const entries = await r.entries();
      const want = snapshot(src, { modes: true, mtimes: false, links: true });
      expect(entries.map((e) => e.path).sort()).toEqual(Object.keys(want).sort());
      for (const e of entries) {
        const w = want[e.path]!;
        expect(e.type, e.path).toBe(w.type);
        expect(e.mtime).toBe(EPOCH);
        if (e.type === 'symlink') expect(e.target).toBe(w.target);
        else expect(e.mode & 0o7777, e.path).toBe(w.mode);
        if (e.type === 'file') expect(createHash('sha256').update(await readSource(r.source(e))).digest('hex'), e.path).toBe(w.sha);
      }
    } finally {
      await r.close();
    }
  });

  it('falls back to Joliet names on an image genisoimage -J made without Rock Ridge', async () => {
    const ref = join(dir, 'joliet-only.iso');
    const small = join(dir, 'src7');
    if (!existsSync(small)) makeSource(small, false);
    execFileSync('genisoimage', ['-quiet', '-J', '-o', ref, small], { stdio: 'ignore' });
    const r = await IsoReader.open(ref);
    try {
      expect(r.volume).toMatchObject({ rockRidge: false, joliet: true });
      const paths = (await r.entries()).map((e) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['rpms/x86_64/kmod-acme-acmenet-2.4.1-3.el9.x86_64.rpm', 'café.bin', 'LOWER.TXT', 'lower.txt']));
    } finally {
      await r.close();
    }
  });

  it('lists the same paths, types, modes, sizes and link targets as xorriso -as mkisofs -R -J', async () => {
    const ref = join(dir, 'ref-compare.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-joliet-long', '-V', 'OEMDRV', '-o', ref, src], { stdio: 'ignore' });
    const listing = async (file: string) => {
      const r = await IsoReader.open(file);
      try {
        return (await r.entries())
          .map((e) => ({ path: e.path, type: e.type, mode: e.type === 'symlink' ? 0 : e.mode, size: e.size, target: e.target }))
          .sort((a, b) => (a.path < b.path ? -1 : 1));
      } finally {
        await r.close();
      }
    };
    expect(await listing(iso)).toEqual(await listing(ref));
  });

  it('reads an image made by xorriso -as mkisofs -R -J', async () => {
    const ref = join(dir, 'ref.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-joliet-long', '-V', 'REF', '-o', ref, src], { stdio: 'ignore' });
    const r = await IsoReader.open(ref);
    try {
      expect(r.volume.volumeId).toBe('REF');
      const paths = (await r.entries()).map((e) => e.path).sort();
      expect(paths).toEqual(Object.keys(snapshot(src, { modes: false, mtimes: false, links: true })).sort());
    } finally {
      await r.close();
    }
  });
});

describe('ISO reader on what genisoimage and mkzftree make (libarchive test_fuzz_1.iso, zisofs, CE loops)', () => {
  const listing = async (file: string) => {
    const r = await IsoReader.open(file);
    try {
      return await r.entries();
    } finally {
      await r.close();
    }
  };

  it('follows a 200-deep tree genisoimage relocated through rr_moved (CL/PL/RE), as bsdtar does; isoinfo shows the moved part under /rr_moved', async () => {
    const deep = join(dir, 'deep200');
    const path200 = Array.from({ length: 200 }, () => 'A').join('/');
    mkdirSync(join(deep, path200), { recursive: true });
    writeFileSync(join(deep, path200, 'leaf.txt'), 'leaf\n');
    const out = join(dir, 'deep200.iso');
    execFileSync('genisoimage', ['-quiet', '-R', '-o', out, deep], { stdio: 'ignore' });
    const isoinfo = run('isoinfo', ['-R', '-l', '-i', out]);
    expect(isoinfo).toMatch(/Directory listing of \/rr_moved\/A\//);
    const bsdtar = run('bsdtar', ['-tf', out]).split('\n').filter((l) => l !== '' && l !== '.').map((l) => l.replace(/\/$/, '')).sort();
    expect(bsdtar).toContain(`${path200}/leaf.txt`);
    const entries = await listing(out);
    // rr_moved itself stays visible, empty, as Linux and xorriso show it (bsdtar hides it)
    expect(entries.map((e) => e.path).filter((p) => p !== 'rr_moved').sort()).toEqual(bsdtar);
    expect(entries.find((e) => e.path === `${path200}/leaf.txt`)?.size).toBe(5);
  });

  it('shows zisofs files (mkzftree + genisoimage -z, xorriso -zisofs) at the real size bsdtar -tv shows, says they are compressed, and reads the bytes bsdtar extracts', async () => {
    const plain = join(dir, 'zplain');
    const packed = join(dir, 'zpacked');
    mkdirSync(plain);
    writeFileSync(join(plain, 'zeros.bin'), Buffer.alloc(100_000));
    writeFileSync(join(plain, 'pattern.bin'), pattern(150_000, 7).map((b) => b & 0x0f));
    writeFileSync(join(plain, 'small.txt'), 'small\n');
    execFileSync('mkzftree', [plain, packed]);
    const genisoimage = join(dir, 'zisofs-genisoimage.iso');
    execFileSync('genisoimage', ['-quiet', '-R', '-z', '-o', genisoimage, packed], { stdio: 'ignore' });
    const xorriso = join(dir, 'zisofs-xorriso.iso');
    execFileSync('xorriso', ['-outdev', xorriso, '-map', plain, '/', '-zisofs', 'default', '-set_filter_r', '--zisofs', '/', '--'], { stdio: 'ignore' });
    for (const out of [genisoimage, xorriso]) {
      const sizes = new Map(run('bsdtar', ['-tvf', out]).trim().split('\n').map((l) => [l.split(/\s+/).pop()!, Number(l.split(/\s+/)[4])]));
      const stored = new Map(run('isoinfo', ['-R', '-l', '-i', out]).split('\n').filter((l) => l.startsWith('-')).map((l) => [l.trim().split(/\s+/).pop()!, Number(l.split(/\s+/)[4])]));
      const extracted = `${out}-bsdtar`;
      mkdirSync(extracted);
      run('bsdtar', ['-xf', out, '-C', extracted]);
      const r = await IsoReader.open(out);
      try {
        const files = (await r.entries()).filter((e) => e.type === 'file');
        expect(files.map((e) => [e.path, e.size]).sort()).toEqual([...sizes].filter(([n]) => n !== '.').sort());
        for (const e of files) {
          expect(e.zisofs?.storedSize ?? e.size, `isoinfo -R -l shows what is stored: ${e.path} of ${out}`).toBe(stored.get(e.path));
          // mkzftree leaves files too small to gain uncompressed; xorriso compresses every file
          if (e.path !== 'small.txt') expect(e.zisofs?.storedSize, e.path).toBeLessThan(e.size);
          expect(Buffer.from(await readSource(r.source(e))).equals(readFileSync(join(extracted, e.path))), `${e.path} of ${out}`).toBe(true);
        }
      } finally {
        await r.close();
      }
    }
    const { inspect } = await import('../src/readers/index.js');
    expect((await inspect(genisoimage)).text).toMatch(/ 100000 \/zeros\.bin \(zisofs-compressed, \d+ bytes stored\)/);
  });

  it('refuses a Rock Ridge CE that leads back to itself with one line, where bsdtar says "Invalid parameter in SUSP CE"', async () => {
    const tree = join(dir, 'ce');
    mkdirSync(tree);
    writeFileSync(join(tree, 'f'), 'hi\n');
    // a 272-byte target does not fit the directory record: genisoimage moves part of it to a CE area
    symlinkSync(`${'x'.repeat(90)}/${'y'.repeat(90)}/${'z'.repeat(90)}`, join(tree, 'link'));
    const good = join(dir, 'ce.iso');
    execFileSync('genisoimage', ['-quiet', '-R', '-o', good, tree], { stdio: 'ignore' });
    const b = readFileSync(good);
    const at = b.lastIndexOf(Buffer.from('CE\x1c\x01', 'latin1'));
    expect(at).toBeGreaterThan(16 * 2048);
    // the link's CE now names a continuation area holding just itself
    const both = (v: number, o: number) => {
      b.writeUInt32LE(v, o);
      b.writeUInt32BE(v, o + 4);
    };
    both(Math.floor(at / 2048), at + 4);
    both(at % 2048, at + 12);
    both(28, at + 20);
    const bad = join(dir, 'ce-loop.iso');
    writeFileSync(bad, b);
    expect(spawnSync('bsdtar', ['-tf', bad], { encoding: 'utf8' }).stderr).toMatch(/Invalid parameter in SUSP "CE" extension/);
    expect((await listing(good)).find((e) => e.path === 'link')?.target).toBe(readlinkSync(join(tree, 'link')));
    await expect(listing(bad)).rejects.toThrow(/^Rock Ridge continuation loop in the record of \/LINK: CE points back to block \d+ offset \d+$/);
    const cli = dudkitCli(['inspect', bad]);
    expect([cli.status, cli.stdout]).toEqual([2, '']);
    expect(cli.stderr).toMatch(new RegExp(`^dudkit: ${bad}: Rock Ridge continuation loop in the record of /LINK: .*\\n$`));
  });
});
