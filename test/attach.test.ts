// Attaching a driver disk to an installer ISO (delivery.md §6.2, checks 10–15), against an
// installer-like ISO made by xorriso with Debian's isolinux, checked with xorriso, isoinfo, fdisk,
// mtools, fsck.fat, diff, checkisomd5/implantisomd5 and cmp.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { FIXTURES, ROOT, run } from './helpers/run.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';

const dir = tempDir('dudkit-attach-');
const EPOCH = 1700000000;
const K94 = '5.14.0-427.13.1.el9_4.x86_64';
const LABEL = 'Test-9.4 x86_64';
const ARG = 'inst.dd=hd:LABEL=Test-9.4\\x20x86_64';
const KS_ARG = 'inst.ks=hd:LABEL=Test-9.4\\x20x86_64:/ks.cfg';
const installer = join(dir, 'installer.iso');
const CONFIGS = ['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg', 'boot/grub2/grub.cfg'];

function manifest(name: string, targets: string): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `${ACME}${ACME_FIRMWARE}sources:
  - ko: ${FIXTURES}/ko/${K94}/*.ko
targets:
${targets}`,
  );
  return p;
}

async function buildQuiet(path: string, outDir: string) {
  const warnings: string[] = [];
  const ctx = createContext({ epoch: EPOCH, onWarn: (m) => warnings.push(m) });
  const result = await build(path, { outDir, ctx });
  return { result, warnings };
}

/** Extract one file with xorriso's osirrox. */
function extract(iso: string, path: string, to: string): string {
  execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/${path}`, to], { stdio: 'ignore' });
  return to;
}

function report(iso: string): string {
  return run('xorriso', ['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']).stdout;
}

/** The report lines that describe the boot layout, without block addresses (files move). */
function bootLayout(iso: string): string[] {
  return report(iso)
    .split('\n')
    .filter((l) => /^(El Torito (boot img|img path|img opts|cat path)|System area summary|MBR partition( |path)|GPT (partname local|type GUID|partition flags|partition path|entry array))/.test(l))
    .map((l) => (l.startsWith('El Torito boot img') ? l.replace(/\s+\d+$/, '') : l))
    .map((l) => (l.startsWith('MBR partition  ') ? l.split(/\s+/).slice(0, 6).join(' ') : l))
    .map((l) => (l.startsWith('GPT entry array') ? l.split(/\s+/).slice(0, 5).join(' ') : l));
}

/** `diff` of two files: the changed lines only, `<`/`>` prefixed. */
function diffLines(a: string, b: string): string[] {
  const r = run('diff', [a, b]);
  return r.stdout.split('\n').filter((l) => /^[<>]/.test(l));
}

describe('attach: rhdd3 disk onto an RHEL 9-style installer ISO (isolinux + efiboot.img, isohybrid GPT)', () => {
  const out = join(dir, 'out');
  let warnings: string[] = [];
  let notes: string[] = [];
  const iso = join(out, 'installer-dd.iso');
  const x = join(dir, 'x');

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'fixtures/scripts/installer-iso.sh'), installer, LABEL], { stdio: 'ignore' });
    writeFileSync(join(dir, 'ks.cfg'), 'text\nreboot\n');
    const m = manifest('attach.yaml', `  - rhdd3: { out: dd.iso }\n  - attach: { installer: installer.iso, ks: ks.cfg }\n`);
    const built = await buildQuiet(m, out);
    warnings = built.warnings;
    notes = built.result.targets.find((t) => t.target === 'attach')!.notes;
    mkdirSync(x, { recursive: true });
  });

  it('builds without warnings and names the argument in its notes', () => {
    expect(warnings).toEqual([]);
    expect(notes.join('\n')).toContain(ARG);
    expect(notes.join('\n')).not.toMatch(/inst\.dd=\S*:\//);
  });

  it('xorriso -report_el_torito/-report_system_area: same boot entries and hybrid MBR/GPT layout as the input', () => {
    const before = bootLayout(installer);
    expect(before.some((l) => /BIOS\s+y\s+none/.test(l))).toBe(true);
    expect(before.some((l) => /UEFI\s+y\s+none/.test(l))).toBe(true);
    expect(before).toContain('El Torito img opts :   1  boot-info-table isohybrid-suitable');
    expect(bootLayout(iso)).toEqual(before);
  });

  it('fdisk -l shows the same partition layout kind (dos label, 0x00 + 0xEF)', () => {
    const kind = (f: string) => {
      const t = run('fdisk', ['-l', f]).stdout;
      return [/Disklabel type: (\S+)/.exec(t)?.[1], ...t.split('\n').filter((l) => l.startsWith(f)).map((l) => l.slice(f.length).replace(/\s+\d+\s+\d+\s+\d+\s+\S+\s+/, ' '))];
    };
    expect(kind(iso)).toEqual(kind(installer).map((l) => l?.replace(installer, iso)));
    expect(kind(iso)[0]).toBe('dos');
  });

  it('isoinfo -d: same volume id', () => {
    expect(run('isoinfo', ['-d', '-i', iso]).stdout).toContain(`Volume id: ${LABEL}`);
  });

  it('every kernel line of every config has the argument once; diff against the input shows nothing else', () => {
    for (const c of CONFIGS) {
      const a = extract(installer, c, join(x, `${c.replace(/\//g, '_')}.in`));
      const b = extract(iso, c, join(x, `${c.replace(/\//g, '_')}.out`));
      const kernel = readFileSync(b, 'utf8').split('\n').filter((l) => /^\s*(append|linux|linuxefi)\s/.test(l));
      expect(kernel.length).toBeGreaterThan(1);
      for (const l of kernel) {
        expect(l.split(/\s+/).filter((w) => w === ARG)).toHaveLength(1);
        expect(l.endsWith(` ${ARG} ${KS_ARG}`)).toBe(true);
      }
      const d = diffLines(a, b);
      expect(d.filter((l) => l.startsWith('<'))).toHaveLength(kernel.length);
      for (const l of d.filter((k) => k.startsWith('>'))) expect(d).toContain(`<${l.slice(1, -` ${ARG} ${KS_ARG}`.length)}`);
    }
  });

  it('mtype -i: the grub.cfg inside images/efiboot.img has the argument on every linuxefi line; fsck.fat -n is clean', () => {
    const img = extract(iso, 'images/efiboot.img', join(x, 'efiboot.img'));
    const cfg = run('mtype', ['-i', img, '::/EFI/BOOT/grub.cfg']).stdout;
    const lines = cfg.split('\n').filter((l) => /^\s*linuxefi\s/.test(l));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l.endsWith(` ${ARG} ${KS_ARG}`)).toBe(true);
    expect(run('fsck.fat', ['-n', img]).status).toBe(0);
    expect(run('mtype', ['-i', img, '::/EFI/BOOT/BOOTX64.EFI']).stdout).toBe('placeholder EFI binary\n');
  });

  it('checkisomd5 passes, and implantisomd5 --force on a copy changes no byte', () => {
    const r = run('checkisomd5', [iso]);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/PASS/);
    const ref = join(x, 'ref.iso');
    copyFileSync(iso, ref);
    execFileSync('implantisomd5', ['--force', ref], { stdio: 'ignore' });
    expect(run('cmp', [iso, ref]).status).toBe(0);
  });

  it('/dd.iso extracts byte-equal to the separately built rhdd3 disk; /ks.cfg is the kickstart', () => {
    expect(run('xorriso', ['-indev', iso, '-find', '/', '-name', 'dd.iso']).stdout).toContain("'/dd.iso'");
    expect(run('cmp', [extract(iso, 'dd.iso', join(x, 'dd.iso')), join(out, 'dd.iso')]).status).toBe(0);
    expect(readFileSync(extract(iso, 'ks.cfg', join(x, 'ks.cfg')), 'utf8')).toBe('text\nreboot\n');
  });

  it('bsdtar: every other file is byte-equal to the input (isolinux.bin but for its boot-info table)', () => {
    const a = join(x, 'tree-in');
    const b = join(x, 'tree-out');
    mkdirSync(a);
    mkdirSync(b);
    execFileSync('bsdtar', ['-xf', installer, '-C', a]);
    execFileSync('bsdtar', ['-xf', iso, '-C', b]);
    const r = run('diff', ['-rq', a, b]);
    const differ = r.stdout.trim().split('\n').sort();
    expect(differ).toEqual(
      [
        ...CONFIGS.map((c) => `Files ${a}/${c} and ${b}/${c} differ`),
        `Files ${a}/images/efiboot.img and ${b}/images/efiboot.img differ`,
        `Files ${a}/isolinux/boot.cat and ${b}/isolinux/boot.cat differ`,
        `Files ${a}/isolinux/isolinux.bin and ${b}/isolinux/isolinux.bin differ`,
        `Only in ${b}: dd.iso`,
        `Only in ${b}: ks.cfg`,
      ].sort(),
    );
    // the boot-info table (bytes 8–63) is all that differs in isolinux.bin
    const i = readFileSync(`${a}/isolinux/isolinux.bin`);
    const o = readFileSync(`${b}/isolinux/isolinux.bin`);
    expect(o.subarray(64).equals(i.subarray(64))).toBe(true);
    expect(o.subarray(0, 8).equals(i.subarray(0, 8))).toBe(true);
  });

  it('xorriso -exec report_lba: hard-linked names (isolinux/vmlinuz = images/pxeboot/vmlinuz) still share one extent', () => {
    const lba = (f: string) => {
      const out = run('xorriso', ['-indev', f, '-find', '/', '-type', 'f', '-exec', 'report_lba']).stdout;
      return new Map([...out.matchAll(/^File data lba:\s+\d+\s*,\s*(\d+)\s*,.*'\/(.+)'$/gm)].map((m) => [m[2]!, Number(m[1])]));
    };
    for (const f of [installer, iso]) {
      const l = lba(f);
      expect(l.get('isolinux/vmlinuz')).toBe(l.get('images/pxeboot/vmlinuz'));
      expect(l.get('isolinux/initrd.img')).toBe(l.get('images/pxeboot/initrd.img'));
      expect(l.get('isolinux/vmlinuz')).not.toBe(l.get('isolinux/initrd.img'));
    }
  });

  it('is deterministic: a second build is byte-identical (sha256sum)', async () => {
    const again = join(dir, 'again');
    await buildQuiet(join(dir, 'attach.yaml'), again);
    const sum = (f: string) => run('sha256sum', [f]).stdout.split(' ')[0];
    expect(sum(join(again, 'installer-dd.iso'))).toBe(sum(iso));
    expect(existsSync(`${iso}.sha256`)).toBe(true);
  });
});

/** The fixture's tree re-mastered by xorriso with other boot options (`extra` replaces -e/-isohybrid-gpt-basdat). */
function remaster(name: string, extra: string[]): string {
  const tree = join(dir, 'tree');
  if (!existsSync(tree)) {
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', installer, '-extract', '/', tree], { stdio: 'ignore' });
    execFileSync('chmod', ['-R', 'u+w', tree]);
  }
  const out = join(dir, name);
  const boot = ['-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '-eltorito-alt-boot'];
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', out, '-R', '-J', '-V', LABEL, ...boot, ...extra, '-isohybrid-mbr', '/usr/lib/ISOLINUX/isohdpfx.bin', tree], {
    stdio: 'ignore',
    env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) },
  });
  return out;
}

describe('attach: other system areas', () => {
  it('MBR-only isohybrid (-isohybrid-mbr, no GPT): fdisk and xorriso show the same single 0x17 partition after attaching', async () => {
    const input = remaster('mbr-only.iso', ['-e', 'images/efiboot.img', '-no-emul-boot']);
    const m = manifest('mbr.yaml', `  - attach: { installer: mbr-only.iso, out: mbr-dd.iso }\n`);
    await buildQuiet(m, join(dir, 'mbr'));
    const iso = join(dir, 'mbr', 'mbr-dd.iso');
    expect(bootLayout(iso)).toEqual(bootLayout(input));
    expect(bootLayout(iso)).toContain('System area summary: MBR isohybrid cyl-align-on');
    const parts = run('fdisk', ['-l', iso]).stdout.split('\n').filter((l) => l.startsWith(iso));
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatch(/\s\*\s+0\s.*\s17\s+Hidden HPFS\/NTFS$/);
    expect(run('checkisomd5', [iso]).status).toBe(0);
  });

  it('a UEFI image appended beside an isohdpfx MBR + isohybrid GPT (not RHEL 10\'s GRUB2 form) is refused, not guessed', async () => {
    const efi = join(dir, 'efiboot.img');
    extract(installer, 'images/efiboot.img', efi);
    remaster('appended.iso', ['-e', '--interval:appended_partition_2:all::', '-no-emul-boot', '-append_partition', '2', 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', efi, '-isohybrid-gpt-basdat']);
    const m = manifest('appended.yaml', `  - attach: { installer: appended.iso, out: appended-dd.iso }\n`);
    await expect(buildQuiet(m, join(dir, 'appended'))).rejects.toThrow(/appended\.iso: El Torito entry 2 \(uefi, block \d+\) is not a file of the ISO/);
    expect(existsSync(join(dir, 'appended', 'appended-dd.iso'))).toBe(false);
  });
});

describe('attach: included configurations (Debian-style isolinux menus, GRUB configfile)', () => {
  it('include / menu include files are followed and edited (diff shows only the argument, help text untouched); an unresolvable GRUB configfile is named and "every kernel line" is not claimed', async () => {
    const tree = join(dir, 'incl-tree');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', installer, '-extract', '/', tree], { stdio: 'ignore' });
    execFileSync('chmod', ['-R', 'u+w', tree]);
    const cfg = join(tree, 'isolinux/isolinux.cfg');
    writeFileSync(cfg, `${readFileSync(cfg, 'utf8')}include menu.cfg\n`);
    writeFileSync(join(tree, 'isolinux/menu.cfg'), 'menu include /isolinux/txt.cfg\nlabel menu\n  kernel vmlinuz\n  APPEND initrd=initrd.img quiet\n');
    writeFileSync(join(tree, 'isolinux/txt.cfg'), 'label txt\n  kernel vmlinuz\n  append initrd=initrd.img text\ntext help\n  append is a word of this help text\nendtext\n');
    const grub = join(tree, 'EFI/BOOT/grub.cfg');
    writeFileSync(grub, `${readFileSync(grub, 'utf8')}configfile $prefix/extra.cfg\n`);
    const input = join(dir, 'incl.iso');
    const boot = ['-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table', '-eltorito-alt-boot', '-e', 'images/efiboot.img', '-no-emul-boot'];
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', input, '-R', '-J', '-V', LABEL, ...boot, '-isohybrid-mbr', '/usr/lib/ISOLINUX/isohdpfx.bin', '-isohybrid-gpt-basdat', tree], { stdio: 'ignore' });
    const m = manifest('incl.yaml', `  - attach: { installer: incl.iso, out: incl-dd.iso }\n`);
    const { result } = await buildQuiet(m, join(dir, 'incl'));
    const out = join(dir, 'incl', 'incl-dd.iso');
    for (const [file, kernel] of [['isolinux/menu.cfg', '  APPEND initrd=initrd.img quiet'], ['isolinux/txt.cfg', '  append initrd=initrd.img text']] as const) {
      const a = extract(input, file, join(x0(), `${file.replace('/', '_')}.in`));
      const b = extract(out, file, join(x0(), `${file.replace('/', '_')}.out`));
      expect(diffLines(a, b), file).toEqual([`< ${kernel}`, `> ${kernel} ${ARG}`]);
    }
    const notes = result.targets.find((t) => t.target === 'attach')!.notes.join('\n');
    expect(notes).toContain('EFI/BOOT/grub.cfg:13: configfile $prefix/extra.cfg not followed (not a literal path on the medium); kernel lines there do not get the argument');
    expect(notes).not.toContain('every kernel line');
    expect(notes).toMatch(/the kernel lines of isolinux\/isolinux\.cfg, .*isolinux\/menu\.cfg, isolinux\/txt\.cfg now carry/);
  });
});

/** A scratch folder for extracted files. */
function x0(): string {
  const d = join(dir, 'x0');
  mkdirSync(d, { recursive: true });
  return d;
}

describe('attach: refusals', () => {
  it('an installer ISO that has /dd.iso already is refused', async () => {
    const input = join(dir, 'has-dd.iso');
    writeFileSync(join(dir, 'dd-placeholder.iso'), 'x');
    execFileSync('xorriso', ['-indev', installer, '-outdev', input, '-map', join(dir, 'dd-placeholder.iso'), '/dd.iso', '-boot_image', 'any', 'replay'], { stdio: 'ignore' });
    const m = manifest('has-dd.yaml', `  - attach: { installer: has-dd.iso }\n`);
    await expect(buildQuiet(m, join(dir, 'has-dd'))).rejects.toThrow(/has-dd\.iso: \/dd\.iso exists already on the installer ISO/);
  });

  it('an installer of another architecture (.discinfo) is refused with exit 2 and no output', async () => {
    const other = join(dir, 'aarch64');
    mkdirSync(other);
    const m = manifest('wrong-arch.yaml', `  - attach: { installer: ${installer}, out: x.iso }\n`);
    // the same ISO, but the disk has only x86_64 packages: refuse an aarch64 installer
    const patched = join(other, 'aa.iso');
    copyFileSync(installer, patched);
    const buf = readFileSync(patched);
    const at = buf.indexOf('Test Linux 9.4\nx86_64\n');
    buf.write('Test Linux 9.4\naarch64', at, 'latin1');
    writeFileSync(patched, buf);
    writeFileSync(m, readFileSync(m, 'utf8').replace(installer, patched));
    await expect(buildQuiet(m, other)).rejects.toThrow(/installer is aarch64, the driver disk has no rpms\/aarch64/);
    expect(existsSync(join(other, 'x.iso'))).toBe(false);
  });

  it('a RHEL 6 installer (.discinfo product) is refused: it takes no inst.dd=', async () => {
    const patched = join(dir, 'el6.iso');
    const buf = readFileSync(installer);
    buf.write('CentOS Linux 6', buf.indexOf('Test Linux 9.4\nx86_64\n'), 'latin1');
    writeFileSync(patched, buf);
    const m = manifest('el6.yaml', `  - attach: { installer: el6.iso }\n`);
    await expect(buildQuiet(m, join(dir, 'el6'))).rejects.toThrow(/el6\.iso: CentOS Linux 6: RHEL 5\/6 installers take no inst\.dd=/);
  });

  it('a GPT of a shape neither xorriso nor isohybrid --uefi writes (200 entries) is refused, saying what it found', async () => {
    const patched = join(dir, 'gpt200.iso');
    const buf = readFileSync(installer);
    expect(buf.toString('latin1', 512, 520)).toBe('EFI PART');
    buf.writeUInt32LE(200, 512 + 80);
    writeFileSync(patched, buf);
    const m = manifest('gpt200.yaml', `  - attach: { installer: gpt200.iso }\n`);
    await expect(buildQuiet(m, join(dir, 'gpt200'))).rejects.toThrow(
      /gpt200\.iso: the GPT is neither xorriso's -isohybrid-gpt-basdat .* \(found MBR boot code pointing to sector \d+, partitions 1: active type 0x00 from sector 0, 2: type 0xef from sector \d+, a GPT of 200 entries at sector 2 \(first usable 64\)\); dudkit rebuilds/,
    );
  });

  it('a file that is not an ISO is a one-line user error naming it', async () => {
    writeFileSync(join(dir, 'not.iso'), 'hello');
    const m = manifest('not.yaml', `  - attach: { installer: not.iso }\n`);
    await expect(buildQuiet(m, join(dir, 'not-out'))).rejects.toThrow(new RegExp(`${join(dir, 'not.iso')}: `));
  });
});
