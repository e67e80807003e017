// `dudkit iso` and `dudkit inspect X.iso` through the built CLI (node dist/src/cli.js).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const CLI = resolve('dist/src/cli.js');
const dir = tempDir('dudkit-isocli-');
const src = join(dir, 'tree');
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

function dudkit(...args: string[]) {
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // scripts/test.sh builds first; build here too when run on its own
  if (!existsSync(CLI)) spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'ignore' });
  mkdirSync(join(src, 'rpms/x86_64'), { recursive: true });
  mkdirSync(join(src, 'isolinux'));
  writeFileSync(join(src, 'rhdd3'), 'Driver Update Disk version 3');
  writeFileSync(join(src, 'rpms/x86_64/kmod-acme.rpm'), Buffer.alloc(70000, 7));
  const bios = Buffer.alloc(2048, 0x90);
  bios.writeUInt32LE(0x7078c0fb, 64);
  writeFileSync(join(src, 'isolinux/isolinux.bin'), bios);
  symlinkSync('rpms', join(src, 'link'));
});

describe('dudkit iso', () => {
  it('writes an image with sidecars and prints one JSON document', () => {
    const out = join(dir, 'dd.iso');
    const r = dudkit('iso', src, '-o', out, '-V', 'OEMDRV', '--md5', '--sha256', '--json');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { size: number; checksums: { md5: string; sha256: string }; sidecars: string[] };
    expect(j.sidecars).toEqual([`${out}.md5`, `${out}.sha256`]);
    expect(execFileSync('md5sum', ['-c', 'dd.iso.md5'], { cwd: dir, encoding: 'utf8' })).toBe('dd.iso: OK\n');
    expect(execFileSync('sha256sum', ['-c', 'dd.iso.sha256'], { cwd: dir, encoding: 'utf8' })).toBe('dd.iso: OK\n');
    expect(execFileSync('blkid', ['-p', '-s', 'LABEL', '-s', 'TYPE', out], { encoding: 'utf8' })).toMatch(/LABEL="OEMDRV" TYPE="iso9660"/);
  });

  it('boot, hybrid and implanted MD5 options reach the image (xorriso, checkisomd5)', () => {
    const out = join(dir, 'boot.iso');
    const r = dudkit('iso', src, '-o', out, '-V', 'OEMDRV', '--boot-bios', 'isolinux/isolinux.bin', '--boot-info-table', '--boot-catalog', 'isolinux/boot.cat', '--hybrid', '--implant-md5', '--publisher', 'ACME');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: --hybrid without --isohybrid-mbr/);
    const rep = execFileSync('xorriso', ['-indev', out, '-report_el_torito', 'plain', '-report_system_area', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(rep).toMatch(/El Torito boot img\s*:\s*1\s+BIOS\s+y\s+none/);
    expect(rep).toMatch(/MBR partition\s*:\s*1\s+0x80\s+0x17/);
    expect(spawnSync('checkisomd5', [out]).status).toBe(0);
  });

  it('dudkit inspect lists the Rock Ridge tree, volume id, boot entries and media-check state', () => {
    const r = dudkit('inspect', join(dir, 'boot.iso'), '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as {
      kind: string;
      volume: { volumeId: string; rockRidge: boolean; joliet: boolean; publisher: string };
      boot: { platform: string; path?: string; loadSectors: number }[];
      mediaCheck: { state: string };
      systemArea: { mbr: { type: number }[] };
      entries: { path: string; type: string; target?: string; size: number }[];
    };
    expect(j.kind).toBe('iso9660');
    expect(j.volume).toMatchObject({ volumeId: 'OEMDRV', rockRidge: true, joliet: true, publisher: 'ACME' });
    expect(j.boot).toEqual([expect.objectContaining({ platform: 'bios', loadSectors: 4, path: 'isolinux/isolinux.bin' })]);
    expect(j.mediaCheck.state).toBe('pass');
    expect(j.systemArea.mbr.map((p) => p.type)).toEqual([0x17]);
    expect(j.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'rpms/x86_64/kmod-acme.rpm', type: 'file', size: 70000 }),
        expect.objectContaining({ path: 'link', type: 'symlink', target: 'rpms' }),
        expect.objectContaining({ path: 'isolinux/boot.cat', type: 'file', size: 2048 }),
      ]),
    );
    const text = dudkit('inspect', join(dir, 'dd.iso'));
    expect(text.stdout).toMatch(/volume id "OEMDRV"/);
    expect(text.stdout).toMatch(/media check: absent/);
    expect(text.stdout).toMatch(/lrwxrwxrwx +0 \/link -> rpms/);
  });

  it('takes the mkisofs spellings -R -J -l -r and says so in --help (isoinfo, xorriso)', () => {
    const out = join(dir, 'mkisofs.iso');
    const r = dudkit('iso', '-R', '-J', '-l', '-r', '-V', 'OEMDRV', '-o', out, src);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const d = execFileSync('isoinfo', ['-d', '-i', out], { encoding: 'utf8' });
    expect(d).toContain('Rock Ridge signatures version 1 found');
    expect(d).toContain('Joliet with UCS level 3 found');
    expect(execFileSync('isoinfo', ['-R', '-l', '-i', out], { encoding: 'utf8' })).toMatch(/-rw-r--r-- .* kmod-acme\.rpm /);
    const found = execFileSync('xorriso', ['-indev', out, '-find', '/', '-exec', 'lsdl'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(found).toContain("'/rpms/x86_64/kmod-acme.rpm'");
    expect(found).toContain("'/link' -> 'rpms'");
    const help = dudkit('iso', '--help').stdout;
    for (const flag of ['-R, --rock', '-r, --rational-rock', '-l, --full-iso9660-filenames', '-J, --joliet']) expect(help).toContain(flag);
  });

  it('bad input exits 2 with one line and nothing at the output path', () => {
    mkdirSync(join(dir, 'bad'));
    const fifoDir = join(dir, 'withfifo');
    mkdirSync(fifoDir);
    execFileSync('mkfifo', [join(fifoDir, 'pipe')]);
    const cases: [string[], RegExp][] = [
      [['iso', join(dir, 'missing'), '-o', join(dir, 'bad/a.iso')], /missing: no such file or directory/],
      [['iso', src, '-o', join(dir, 'bad/b.iso'), '-V', 'X'.repeat(33)], /volume id longer than 32 characters/],
      [['iso', src, '-o', join(dir, 'bad/c.iso'), '-V', 'BAD\tLABEL'], /volume id must be printable ASCII/],
      [['iso', src, '-o', join(dir, 'bad/d.iso'), '--boot-bios', 'isolinux/nothere.bin'], /BIOS boot image is not a file in the tree: isolinux\/nothere.bin/],
      [['iso', src, '-o', join(dir, 'bad/e.iso'), '--hybrid=apm'], /invalid/],
      [['iso', fifoDir, '-o', join(dir, 'bad/f.iso')], /pipe: not a regular file, folder or symbolic link/],
      [['iso', src, '-o', join(src, 'inside.iso')], /output lies inside the input folder/],
      [['iso', src, '-o', join(dir, 'bad/nofolder/h.iso')], /nofolder: output folder does not exist/],
      [['iso', src, '-o', join(dir, 'bad')], /bad: is a folder; the output must be a file/],
      [['iso', src, '-o', join(dir, 'bad/g.iso'), '--isohybrid-mbr', join(src, 'rhdd3'), '--hybrid'], /must be exactly 432 bytes/],
    ];
    for (const [args, message] of cases) {
      const r = dudkit(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(join(dir, 'bad'))).toEqual([]);
    // a damaged image: one line naming the file, exit 2
    writeFileSync(join(dir, 'truncated.iso'), readFileSync(join(dir, 'dd.iso')).subarray(0, 36000));
    const r = dudkit('inspect', join(dir, 'truncated.iso'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/truncated\.iso: image ends before block \d+\n$/);
    expect(existsSync(join(src, 'inside.iso'))).toBe(false);
  });
});
