// Nothing is written or deleted outside the output folder (-o), whatever `out:` says, whatever
// stands in -o already, and whatever names the inputs carry (issue 10, item 1).
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, createContext, UserError } from '../src/api.js';
import { emitDirectory } from '../src/emit/directory.js';
import { resolveTree } from '../src/tree/resolve.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource } from '../src/tree/source.js';
import { Tree } from '../src/tree/tree.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { ACME, ACME_FIRMWARE, locationOf } from './helpers/manifest.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const K94 = '5.14.0-427.13.1.el9_4.x86_64';
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const FIX = 'give a relative path inside the output folder (-o), e.g. out: dd.iso or out: media/dd.iso';

/**
 * A fresh `base/` holding the manifest, a sentinel file, a sibling folder of -o with a file, and
 * -o itself (`base/o`, holding a sentinel of its own).
 */
function setup(name: string, target: string, sources = `  - ko: ${FIXTURES}/ko/${K94}/*.ko\n`): { base: string; o: string; manifest: string } {
  const base = join(dir, name);
  mkdirSync(join(base, 'sibling'), { recursive: true });
  mkdirSync(join(base, 'o'));
  writeFileSync(join(base, 'sentinel.txt'), 'parent of -o\n');
  writeFileSync(join(base, 'sibling', 'keep.txt'), 'sibling of -o\n');
  writeFileSync(join(base, 'o', 'mine.txt'), 'inside -o\n');
  const manifest = join(base, 'dudkit.yaml');
  // the firmware the acmenet module names, unless the sources bring their own firmware:
  writeFileSync(manifest, `${ACME}${sources.includes('firmware:') ? '' : ACME_FIRMWARE}sources:\n${sources}targets:\n  - ${target}\n`);
  return { base, o: join(base, 'o'), manifest };
}

/** Build in-process (no CLI start-up: the file stays fast); the error's message, or '' on success. */
async function buildAt(manifest: string, o: string, epoch = 1_700_000_000, only?: string[]): Promise<string> {
  try {
    await build(manifest, { outDir: o, ctx: createContext({ epoch, onWarn: () => {} }), ...(only ? { only } : {}) });
    return '';
  } catch (err) {
    if (err instanceof UserError) return err.message;
    throw err;
  }
}

/** Every entry below `root` with its type, size, link target and content digest (GNU find, md5sum). */
function snapshot(root: string): string[] {
  const entries = run('find', [root, '-printf', '%y %s %p -> %l\n']).stdout.trim().split('\n').sort();
  const sums = run('sh', ['-c', 'find "$1" -type f -exec md5sum {} + | sort', 'sh', root]).stdout.trim().split('\n');
  return [...entries, ...sums];
}

describe('out: must stay inside -o; others are refused before anything is written', () => {
  const forms: [string, string, string][] = [
    ['../../x.iso', 'iso', 'has a ".." component'],
    ['a/../../../x', 'directory', 'has a ".." component'],
    ['ABS/abs.iso', 'iso', 'is an absolute path'],
    ['..', 'directory', 'has a ".." component'],
    ['.', 'directory', 'names the output folder itself'],
    ['./', 'iso', 'names the output folder itself'],
  ];
  for (const [i, [out, format, why]] of forms.entries()) {
    it(`rhdd3 { out: "${out}", format: ${format} }: refused naming targets[0].rhdd3.out; nothing written or deleted`, async () => {
      const { base, o, manifest } = setup(`form-${i}-${format}`, 'PLACEHOLDER');
      const given = out.replace('ABS', base);
      writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('PLACEHOLDER', `rhdd3: { out: ${JSON.stringify(given)}, format: ${format} }`));
      const before = snapshot(base);
      expect(await buildAt(manifest, o)).toBe(`${manifest}: targets[0].rhdd3.out: ${JSON.stringify(given)} ${why}; ${FIX}${locationOf(readFileSync(manifest, 'utf8'), 'out:')}`);
      expect(snapshot(base)).toEqual(before);
    });
  }

  it('the CLI: exit 2 and the one line; `out: ..` as a folder (which used to delete the parent of -o) changes nothing', () => {
    const { base, o, manifest } = setup('form-cli', 'rhdd3: { out: "..", format: directory }');
    const before = snapshot(base);
    const r = dudkit(['build', manifest, '-o', o], { env: EPOCH });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dudkit: ${manifest}: targets[0].rhdd3.out: ".." has a ".." component; ${FIX}${locationOf(readFileSync(manifest, 'utf8'), 'out:')}\n`);
    expect(snapshot(base)).toEqual(before);
  });

  it('a -o that does not exist yet is not made when out: is refused', async () => {
    const { base, manifest } = setup('no-o', 'rhdd3: { out: ../x.iso }');
    const before = snapshot(base);
    expect(await buildAt(manifest, join(base, 'new/o'))).toMatch(/targets\[0\]\.rhdd3\.out: "\.\.\/x\.iso" has a "\.\." component/);
    expect(snapshot(base)).toEqual(before);
  });

  it('out: with ./ and doubled slashes is the plain relative path (isoinfo reads the disk there)', async () => {
    const { o, manifest } = setup('dotted', 'rhdd3: { out: ./media//dd.iso }');
    expect(await buildAt(manifest, o)).toBe('');
    expect(readdirSync(join(o, 'media'))).toEqual(['dd.iso', 'dd.iso.sha256']);
    expect(run('isoinfo', ['-d', '-i', join(o, 'media/dd.iso')]).stdout).toMatch(/Volume id: OEMDRV/);
  });
});

describe('symbolic links in -o never lead a write outside it', () => {
  it('a folder of out: that is a link out of -o: refused naming the key and the link; the link target is untouched', async () => {
    const { base, o, manifest } = setup('link-parent', 'rhdd3: { out: media/dd.iso }');
    symlinkSync('../sibling', join(o, 'media'));
    const before = snapshot(base);
    expect(await buildAt(manifest, o)).toBe(`${manifest}: targets[0].rhdd3.out: ${join(o, 'media')} is a symbolic link that leads outside the output folder; dudkit does not write through it (remove the link or choose another out:)${locationOf(readFileSync(manifest, 'utf8'), 'out:')}`);
    expect(snapshot(base)).toEqual(before);
  });

  it('a folder of out: that is a link within -o is followed (the disk lands in the linked folder)', async () => {
    const { o, manifest } = setup('link-inside', 'rhdd3: { out: media/dd.iso }');
    mkdirSync(join(o, 'real'));
    symlinkSync('real', join(o, 'media'));
    expect(await buildAt(manifest, o)).toBe('');
    expect(run('isoinfo', ['-d', '-i', join(o, 'real/dd.iso')]).stdout).toMatch(/Volume id: OEMDRV/);
  });

  it('a directory out: that is a link: refused; neither the link nor the folder it names changes', async () => {
    const { base, o, manifest } = setup('link-out-dir', 'rhdd3: { out: dd, format: directory }');
    symlinkSync('../sibling', join(o, 'dd'));
    const before = snapshot(base);
    expect(await buildAt(manifest, o)).toBe(`${join(o, 'dd')}: is a symbolic link; dudkit replaces only a folder it wrote itself (remove the link or choose another out:)`);
    expect(snapshot(base)).toEqual(before);
  });

  it('a file out: that is a link is replaced by the file (rename), the file it named stays as it was', async () => {
    const { base, o, manifest } = setup('link-out-file', 'rhdd3: { out: dd.iso }');
    symlinkSync('../sibling/keep.txt', join(o, 'dd.iso'));
    expect(await buildAt(manifest, o)).toBe('');
    expect(readFileSync(join(base, 'sibling/keep.txt'), 'utf8')).toBe('sibling of -o\n');
    expect(run('isoinfo', ['-d', '-i', join(o, 'dd.iso')]).stdout).toMatch(/Volume id: OEMDRV/);
  });

  it('a tree whose symlink is added after a file below it is refused before the emitter writes through the link', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const t = new Tree().file('a/x', bytesSource('escaped\n')).symlink('a', outside);
    const out = join(dir, 'tree-out');
    await expect(Scratch.with(async (s) => emitDirectory(await resolveTree(t, s), out, createContext()))).rejects.toThrow('a/x: parent a is not a directory');
    expect(run('find', [outside, join(dir, 'tree-out')]).stdout).toBe(`${outside}\n`);
  });
});

describe('an existing directory out: is replaced only when all it holds is dudkit’s', () => {
  const target = 'rhdd3: { out: dd, format: directory }';

  it('rebuilt with another SOURCE_DATE_EPOCH (new repodata names): the old files go, the folder equals a fresh build', async () => {
    const { o, manifest } = setup('rebuild', target);
    expect(await buildAt(manifest, o, 1_600_000_000)).toBe('');
    expect(await buildAt(manifest, o)).toBe('');
    const fresh = join(dir, 'rebuild-fresh');
    expect(await buildAt(manifest, fresh)).toBe('');
    const listing = (root: string) => run('find', ['.', '-printf', '%y %m %s %T@ %p\n'], { cwd: root }).stdout.trim().split('\n').sort();
    expect(listing(join(o, 'dd'))).toEqual(listing(join(fresh, 'dd')));
    expect(readdirSync(o).sort()).toEqual(['dd', 'mine.txt']);
    // dnf reads the repository that replaced the old one
    const d = join(dir, 'rebuild-dnf');
    const q = run('dnf', ['-q', `--installroot=${d}/root`, '--releasever=9', '--setopt=reposdir=/nonexistent', `--setopt=cachedir=${d}/cache`, '--setopt=skip_if_unavailable=False', `--repofrompath=dd,file://${join(o, 'dd/rpms/x86_64')}`, '--repo=dd', 'repoquery', '--qf', '%{name}-%{evr}.%{arch}']);
    expect(q.stdout.trim().split('\n').sort(), q.stderr).toEqual(['acme-acmenet-firmware-2.4.1-3.noarch', 'kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64']);
  });

  for (const [where, file] of [['at the top', 'notes.txt'], ['in a subfolder', 'rpms/x86_64/notes.txt']] as const) {
    it(`a file of the user's ${where}: refused naming it; the folder stays exactly as it was`, async () => {
      const { base, o, manifest } = setup(`foreign-${where.replace(/ /g, '-')}`, target);
      expect(await buildAt(manifest, o)).toBe('');
      writeFileSync(join(o, 'dd', file), 'my notes\n');
      const before = snapshot(base);
      expect(await buildAt(manifest, o)).toBe(`${join(o, 'dd')}: holds ${file}, which dudkit did not write there (it is not part of this build and was added or changed since); dudkit replaces only its own files: move ${file} away (or remove the folder) and build again`);
      expect(snapshot(base)).toEqual(before);
    });
  }

  it('a user folder that happens to be named like the out: is never emptied (the CLI: exit 2, one line)', () => {
    const { base, o, manifest } = setup('user-folder', target);
    mkdirSync(join(o, 'dd', 'photos'), { recursive: true });
    writeFileSync(join(o, 'dd', 'photos', 'cat.jpg'), 'meow');
    const before = snapshot(base);
    const r = dudkit(['build', manifest, '-o', o], { env: EPOCH });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dudkit: .*\/o\/dd: holds photos, which dudkit did not write there .*\n$/);
    expect(snapshot(base)).toEqual(before);
  });

  it('a file in the way: refused, the file stays', async () => {
    const { base, o, manifest } = setup('file-in-way', target);
    writeFileSync(join(o, 'dd'), 'not a folder');
    const before = snapshot(base);
    expect(await buildAt(manifest, o)).toBe(`${join(o, 'dd')}: exists and is not a folder (remove it or choose another out:)`);
    expect(snapshot(base)).toEqual(before);
  });
});

describe('paths the inputs steer', () => {
  for (const dest of ['../../etc/x.bin', '/lib/firmware/x.bin', 'acme/../../x.bin']) {
    it(`firmware dest: ${dest} is refused naming firmware[0].dest, nothing written`, async () => {
      const { base, o, manifest } = setup(`fw-${dest.replace(/\W/g, '_')}`, 'rhdd3: { out: dd, format: directory }', `  - ko: ${FIXTURES}/ko/${K94}/*.ko\nfirmware:\n  - file: ${FIXTURES}/firmware/acmenet.bin\n    dest: ${dest}\n`);
      const before = snapshot(base);
      expect(await buildAt(manifest, o)).toMatch(/^.*dudkit\.yaml: firmware\[0\]\.dest: must be a relative path without `\.\.`/);
      expect(snapshot(base)).toEqual(before);
    });
  }

  it('a scratch path named after an archive member stays in the scratch folder, whatever the name', async () => {
    await Scratch.with(async (s) => {
      for (const hint of ['../../x', '/etc/passwd', '..', 'a/../../b']) expect(dirname(s.path(hint))).toBe(s.dir);
    });
  });

  it('release-zip source: a link out of the source folder is refused naming it (the tar would carry it)', async () => {
    const src = join(dir, 'zip-src');
    mkdirSync(src);
    writeFileSync(join(src, 'acmenet.c'), 'int x;\n');
    symlinkSync('../../etc/passwd', join(src, 'passwd'));
    const { base, o, manifest } = setup(
      'zip-link',
      `xenserver-legacy: { text: ACME acmenet driver, xenserver: 6.5.0 }\n  - release-zip: { source: ${src} }`,
      `  - ko: ${FIXTURES}/ko/6.1.0-56-amd64/*.ko\n    kernel: 3.10.0+2\n`,
    );
    const before = snapshot(base);
    expect(await buildAt(manifest, o, undefined, ['release-zip'])).toBe(`${join(src, 'passwd')}: source: a symbolic link to "../../etc/passwd", outside the source folder; replace it by the file it points to, or remove it`);
    expect(snapshot(base)).toEqual(before);
    // a link within the folder is shipped as a link (GNU tar lists it)
    rmSync(join(src, 'passwd'));
    symlinkSync('acmenet.c', join(src, 'alias.c'));
    expect(await buildAt(manifest, o)).toBe('');
    const x = join(dir, 'zip-x');
    run('unzip', ['-q', join(o, 'acmenet-2.4.1.zip'), '-d', x]);
    expect(run('tar', ['tvzf', join(x, 'acmenet-2.4.1-src.tar.gz')]).stdout).toMatch(/acmenet-2\.4\.1\/alias\.c -> acmenet\.c/);
  });
});

describe('hostile archive members never produce a file outside the output', () => {
  /** base/ with a nested TMPDIR, so a member's `../../x` from a scratch folder would land in base. */
  function hostileBase(name: string): { base: string; tmp: string; o: string } {
    const base = join(dir, name);
    const tmp = join(base, 'tmp/a/b');
    mkdirSync(tmp, { recursive: true });
    mkdirSync(join(base, 'abs'));
    writeFileSync(join(base, 'sentinel.txt'), 'keep\n');
    return { base, tmp, o: join(base, 'o') };
  }

  it('a dkms tarball (GNU tar -P) with ../, absolute, mid-path .. and symlink module members: only its real modules are packaged', () => {
    const { base, tmp, o } = hostileBase('hostile-dkms');
    const K = '5.14.0-427.13.1.el9_4.x86_64';
    const stage = join(base, 'stage');
    const version = join(FIXTURES, 'dkms/acmenet/2.4.1');
    mkdirSync(join(stage, 'dkms_main_tree'), { recursive: true });
    run('cp', ['-r', join(version, K), join(stage, 'dkms_main_tree', K)]);
    run('cp', ['-r', join(version, 'source'), join(stage, 'dkms_source_tree')]);
    const ko = join(version, K, 'x86_64/module/acmenet.ko.xz');
    const module = join(stage, 'dkms_main_tree', K, 'x86_64/module');
    symlinkSync(join(base, 'abs'), join(module, 'link.ko'));
    mkdirSync(join(stage, 'a/b'), { recursive: true });
    run('cp', [ko, join(base, 'evil-rel.ko.xz')]);
    run('cp', [ko, join(base, 'abs/evil-abs.ko.xz')]);
    run('cp', [ko, join(base, 'evil-mid.ko.xz')]);
    const tarball = join(base, `acmenet-2.4.1-kernel${K}-x86_64.dkms.tar.gz`);
    const made = run('tar', ['-P', '--format=gnu', '-czf', tarball, '-C', stage, 'dkms_main_tree', 'dkms_source_tree', `dkms_main_tree/${K}/x86_64/module/../../../../../evil-mid.ko.xz`, '-C', join(stage, 'a/b'), '../../../evil-rel.ko.xz', join(base, 'abs/evil-abs.ko.xz')]);
    expect(made.status, made.stderr).toBe(0);
    const names = run('tar', ['-tzf', tarball]).stdout;
    for (const n of ['../../../evil-rel.ko.xz', join(base, 'abs/evil-abs.ko.xz'), `module/../../../../../evil-mid.ko.xz`, 'module/link.ko']) expect(names).toContain(n);
    const manifest = join(base, 'dudkit.yaml');
    writeFileSync(manifest, `${ACME}sources:\n  - dkms: ${tarball}\ntargets:\n  - rhdd3: { out: dd, format: directory }\n`);
    const before = snapshot(base);
    const r = dudkit(['build', manifest, '-o', o], { env: { ...EPOCH, TMPDIR: tmp } });
    expect(r.status, r.stderr).toBe(0);
    // everything new is inside -o
    expect(snapshot(base).filter((l) => !l.includes(o))).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
    const rpm = readdirSync(join(o, 'dd/rpms/x86_64')).find((f) => f.endsWith('.rpm'))!;
    expect(run('rpm', ['-qpl', join(o, 'dd/rpms/x86_64', rpm)]).stdout.trim().split('\n')).toEqual([
      '/etc/depmod.d/acmenet.conf',
      `/lib/modules/${K}/extra/acmenet`,
      `/lib/modules/${K}/extra/acmenet/acmenet.ko`,
      `/lib/modules/${K}/extra/acmenet/acmestor.ko`,
    ]);
  });

  it('a PXE cpio (GNU cpio) with ../../dd.iso, an absolute dd.iso and a dd2.iso symlink out: inspect and verify write nothing outside their scratch folder', () => {
    const { base, tmp } = hostileBase('hostile-cpio');
    const work = join(base, 'w/x');
    mkdirSync(work, { recursive: true });
    const iso = join(base, 'dd.iso');
    expect(run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'OEMDRV', '-o', iso, join(FIXTURES, 'firmware')]).status).toBe(0);
    symlinkSync(join(base, 'abs'), join(work, 'dd2.iso'));
    run('cp', [iso, join(work, 'dd.iso')]);
    const cpio = join(base, 'hostile.cpio');
    const made = run('sh', ['-c', `printf '../../dd.iso\\n%s\\ndd2.iso\\ndd.iso\\n' "$1" | cpio -o -H newc > "$2"`, 'sh', iso, cpio], { cwd: work });
    expect(made.status, made.stderr).toBe(0);
    expect(run('sh', ['-c', 'cpio -it < "$1"', 'sh', cpio]).stdout.split('\n')).toEqual(expect.arrayContaining(['../../dd.iso', iso, 'dd2.iso', 'dd.iso']));
    const before = snapshot(base);
    for (const command of ['inspect', 'verify']) {
      const r = dudkit([command, cpio], { env: { TMPDIR: tmp } });
      expect(r.status, r.stderr).toBeLessThanOrEqual(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(snapshot(base)).toEqual(before);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('an installer ISO (xorriso, Rock Ridge names patched to ".." and "/b", as bsdtar lists them): attach and inspect refuse it in one line, writing nothing', () => {
    const { base, tmp, o } = hostileBase('hostile-iso');
    const src = join(base, 'isrc');
    mkdirSync(src);
    writeFileSync(join(src, 'aa'), 'a\n');
    writeFileSync(join(src, 'bb'), 'b\n');
    const iso = join(base, 'hostile.iso');
    expect(run('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'HOSTILE', '-o', iso, src]).status).toBe(0);
    const bytes = readFileSync(iso);
    for (const [from, to] of [['aa', '..'], ['bb', '/b']]) {
      const at = bytes.indexOf(Buffer.from(`NM\x07\x01\x00${from}`, 'latin1'));
      expect(at).toBeGreaterThan(0);
      bytes.write(to, at + 5, 'latin1');
    }
    writeFileSync(iso, bytes);
    expect(run('bsdtar', ['-tf', iso]).stdout.split('\n')).toEqual(expect.arrayContaining(['..', '/b']));
    const manifest = join(base, 'dudkit.yaml');
    writeFileSync(manifest, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/${K94}/*.ko\ntargets:\n  - attach: { installer: hostile.iso, out: x.iso }\n`);
    const before = snapshot(base);
    const attach = dudkit(['build', manifest, '-o', o], { env: { ...EPOCH, TMPDIR: tmp } });
    expect(attach.status).toBe(2);
    expect(attach.stderr).toBe(`dudkit: ${iso}: bad file name ".." in /\n`);
    const inspect = dudkit(['inspect', iso], { env: { TMPDIR: tmp } });
    expect(inspect.status).toBe(2);
    expect(inspect.stderr).toBe(`dudkit: ${iso}: bad file name ".." in /\n`);
    expect(snapshot(base).filter((l) => !l.includes(o))).toEqual(before);
    expect(readdirSync(o)).toEqual([]);
  });
});
