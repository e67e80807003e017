// `dudkit verify` on installer ISOs with a driver disk attached: dudkit's own output passes; media
// made with xorriso's replay (the mkksiso way) but with the wrong or no argument, or with a stale
// media-check MD5, fail with the reason.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import type { AttachDetails } from '../src/verify/attach.js';
import { verify as verifyMedium } from '../src/readers/index.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, ROOT } from './helpers/run.js';

const dir = tempDir('dudkit-attach-verify-');
const EPOCH = 1700000000;
const LABEL = 'Test-9.4 x86_64';
const ARG = 'inst.dd=hd:LABEL=Test-9.4\\x20x86_64';
const installer = join(dir, 'installer.iso');
const attached = join(dir, 'out', 'attached.iso');
const disk = join(dir, 'out', 'dd.iso');

/** The mkksiso way: xorriso replays the boot setup, maps dd.iso in, updates the given configs. */
function replay(out: string, updates: [string, string][], md5 = true): void {
  const args = ['-indev', installer, '-outdev', out, '-map', disk, '/dd.iso'];
  for (const [file, path] of updates) args.push('-update', file, `/${path}`);
  execFileSync('xorriso', [...args, '-boot_image', 'any', 'replay'], { stdio: 'ignore', env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) } });
  if (md5) execFileSync('implantisomd5', ['--force', out], { stdio: 'ignore' });
}

beforeAll(async () => {
  execFileSync('bash', [join(ROOT, 'fixtures/scripts/installer-iso.sh'), installer, LABEL], { stdio: 'ignore' });
  const m = join(dir, 'm.yaml');
  writeFileSync(
    m,
    `name: acmenet
version: 2.4.1
vendor: acme
summary: ACME 25GbE network driver
sources:
  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko
targets:
  - rhdd3: { out: dd.iso }
  - attach: { installer: installer.iso, out: attached.iso }
`,
  );
  await build(m, { outDir: join(dir, 'out'), ctx: createContext({ epoch: EPOCH }) });
});

describe('the attached installer, read by the real tools', () => {
  it('checkisomd5 passes, xorriso reports both boot images, the disk extracts byte-equal, every kernel line carries the argument', () => {
    const sh = (script: string) => execFileSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' });
    expect(sh(`checkisomd5 ${attached} 2>&1`)).toMatch(/PASS/);
    const eltorito = sh(`xorriso -indev ${attached} -report_el_torito plain 2>/dev/null`);
    expect(eltorito).toMatch(/El Torito boot img : +1 +BIOS +y/);
    expect(eltorito).toMatch(/El Torito boot img : +2 +UEFI +y/);
    const x = join(dir, 'extracted');
    sh(`xorriso -osirrox on -indev ${attached} -extract /dd.iso ${x}/dd.iso -extract /isolinux/isolinux.cfg ${x}/isolinux.cfg -extract /EFI/BOOT/grub.cfg ${x}/grub.cfg 2>/dev/null`);
    expect(readFileSync(join(x, 'dd.iso')).equals(readFileSync(disk))).toBe(true);
    expect(sh(`isoinfo -d -i ${x}/dd.iso`)).toMatch(/^Volume id: OEMDRV$/m);
    expect(sh(`isoinfo -d -i ${attached}`)).toContain(`Volume id: ${LABEL}`);
    const arg = ARG.replace(/\\/g, '\\');
    const kernelLines = (cfg: string, kw: RegExp) => readFileSync(join(x, cfg), 'utf8').split('\n').filter((l) => kw.test(l));
    for (const [cfg, kw] of [['isolinux.cfg', /^\s*append\b/], ['grub.cfg', /^\s*linux(efi)?\b/]] as const) {
      const lines = kernelLines(cfg, kw);
      expect(lines.length, cfg).toBeGreaterThan(0);
      for (const l of lines) expect(l, cfg).toContain(arg);
    }
  });
});

describe('inspect installer ISOs', () => {
  it('dudkit inspect --json lists every kernel line and whether it carries the argument, and the top-level disks', () => {
    type Installer = { argument: string; disks: string[]; configs: { path: string; kernelLines: { line: string; driverDisk: boolean }[] }[] };
    const look = (p: string) => (JSON.parse(dudkit(['inspect', p, '--json']).stdout) as { installer: Installer }).installer;
    const after = look(attached);
    expect(after.argument).toBe(ARG);
    expect(after.disks).toEqual(['dd.iso']);
    expect(after.configs.map((c) => c.path)).toEqual(['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg', 'boot/grub2/grub.cfg']);
    expect(after.configs.flatMap((c) => c.kernelLines).every((l) => l.driverDisk)).toBe(true);
    const before = look(installer);
    expect(before.disks).toEqual([]);
    expect(before.configs.flatMap((c) => c.kernelLines).some((l) => l.driverDisk)).toBe(false);
    expect(dudkit(['inspect', attached]).stdout).toContain(`    + append initrd=initrd.img inst.stage2=hd:LABEL=Test-9.4\\x20x86_64 quiet ${ARG}`);
  });
});

describe('verify attached installer ISOs', () => {
  it('dudkit verify passes its own output: every kernel line, the efiboot.img grub.cfg, MD5 and the nested disk', async () => {
    const r = await verifyMedium(attached);
    expect(r.kind).toBe('attach');
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.ok).toBe(true);
    const d = r.details as AttachDetails;
    expect(d.argument).toBe(ARG);
    expect(d.configs.map((c) => [c.path, c.withArgument, c.kernelLines])).toEqual([
      ['isolinux/isolinux.cfg', 3, 3],
      ['EFI/BOOT/grub.cfg', 2, 2],
      ['boot/grub2/grub.cfg', 2, 2],
    ]);
    expect(d.efiImage?.configs.map((c) => [c.path, c.withArgument])).toEqual([['images/efiboot.img:EFI/BOOT/grub.cfg', 2]]);
    expect(d.mediaCheck).toBe('pass');
    expect(d.nested.map((n) => [n.member, n.kind, n.ok])).toEqual([['dd.iso', 'rhdd3', true]]);
    expect(d.boot.map((b) => [b.platform, b.path])).toEqual([['bios', 'isolinux/isolinux.bin'], ['uefi', 'images/efiboot.img']]);
  });

  it('says the nested dd.iso is found through the outer medium\'s inst.dd=hd:LABEL=…, not as OEMDRV (issue 12 item 7)', async () => {
    // anaconda (dracut/driver_updates.py, process_driver_disk -> find_repos/find_isos): the device
    // inst.dd=hd:LABEL=<volume id> names is this ISO; with no rhdd3 at its root, the top-level
    // *.iso files are loop-mounted and read; the nested image's own label (OEMDRV) plays no part.
    const r = await verifyMedium(attached);
    const codes = r.findings.map((f) => f.code);
    expect(codes).not.toContain('LABEL_OEMDRV');
    expect(r.findings).toContainEqual(expect.objectContaining({ code: 'FOUND_THROUGH_OUTER', subject: expect.stringContaining('dd.iso') }));
    expect(r.text).not.toMatch(/finds the disk by itself|found automatically/);
    expect(r.text).toContain(`found through ${ARG} on the installer ISO's kernel lines`);
  });

  it('the mkksiso way with the same edits (xorriso -update … -boot_image any replay + implantisomd5) verifies too', async () => {
    const files: [string, string][] = ['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg', 'boot/grub2/grub.cfg', 'images/efiboot.img'].map((p, i) => {
      const to = join(dir, `edited-${i}`);
      execFileSync('xorriso', ['-osirrox', 'on', '-indev', attached, '-extract', `/${p}`, to], { stdio: 'ignore' });
      return [to, p];
    });
    const out = join(dir, 'reference.iso');
    replay(out, files);
    const r = await verifyMedium(out);
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    // xorriso 1.5.4's replay moves an updated UEFI image out of the tree (no GPT afterwards); the
    // BIOS side is what both keep alike
    const bios = (iso: string) =>
      execFileSync('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .filter((l) => /^El Torito (boot img|img path|img opts) :\s+1 /.test(l))
        .map((l) => l.replace(/\s+\d+$/, ''));
    expect(bios(out)).toHaveLength(3);
    expect(bios(attached)).toEqual(bios(out));
  });

  it('xorriso replay with dd.iso but no argument (mkksiso --add without --cmdline): every kernel line is an error', async () => {
    const out = join(dir, 'no-arg.iso');
    replay(out, []);
    const r = await verifyMedium(out);
    expect(r.ok).toBe(false);
    const errors = r.findings.filter((f) => f.severity === 'error');
    expect(errors.filter((e) => e.message.startsWith(`kernel line without ${ARG}`))).toHaveLength(3 + 2 + 2 + 2);
    expect((r.details as AttachDetails).mediaCheck).toBe('pass');
  });

  it('inst.dd=hd:LABEL=…:/dd.iso is reported as never found; dudkit verify exits 1', () => {
    const cfg = join(dir, 'isolinux.cfg');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', installer, '-extract', '/isolinux/isolinux.cfg', cfg], { stdio: 'ignore' });
    const text = readFileSync(cfg, 'utf8').replace(/^(\s*append .*)$/gm, `$1 ${ARG}:/dd.iso`);
    writeFileSync(cfg, text);
    const out = join(dir, 'path-arg.iso');
    replay(out, [[cfg, 'isolinux/isolinux.cfg']]);
    const r = dudkit(['verify', out, '--json']);
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { severity: string; subject: string; message: string }[] };
    const never = report.findings.filter((f) => f.subject === 'isolinux/isolinux.cfg' && /never finds/.test(f.message));
    expect(never).toHaveLength(3);
  });

  it('a stale media-check MD5 (changed after implanting) fails like checkisomd5 does', async () => {
    const out = join(dir, 'stale.iso');
    replay(out, [], true);
    const b = readFileSync(out);
    b[100] ^= 0xff; // MBR boot code: hashed
    writeFileSync(out, b);
    const r = await verifyMedium(out);
    expect((r.details as AttachDetails).mediaCheck).toBe('fail');
    expect(r.findings.some((f) => f.severity === 'error' && /media-check MD5 does not match/.test(f.message))).toBe(true);
  });
});
