// Attaching a driver disk to installer ISOs of each RHEL generation's boot layout (delivery.md §6.2
// step 7, §6.3, checks 10–15): inputs made by fixtures/scripts/installer-iso.sh with lorax's writer
// options per branch (genisoimage + syslinux isohybrid --uefi for RHEL 7/8), checked with xorriso
// -report_el_torito/-report_system_area, sgdisk -v, sfdisk -d, isohybrid --uefi as reference writer,
// isoinfo, checkisomd5/implantisomd5, diff, mtype/mdir/fsck.fat and cmp.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { FIXTURES, ROOT, run } from './helpers/run.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';

const dir = tempDir('dudkit-attach-gen-');
const EPOCH = 1700000000;

interface Generation {
  readonly rhel: 7 | 8 | 9 | 10;
  readonly label: string;
  /** The label as the kernel argument spells it (udev escaping). */
  readonly escaped: string;
  /** Configs in the ISO tree that carry kernel lines. */
  readonly configs: readonly string[];
  /** Configs inside the UEFI image. */
  readonly efiConfigs: readonly string[];
  /** Where the UEFI image is: the ISO file, or (RHEL 10) GPT partition 2 only. */
  readonly efi: 'images/efiboot.img' | 'partition 2';
}

const GENERATIONS: readonly Generation[] = [
  { rhel: 7, label: 'Test-7.9 Server.x86_64', escaped: 'Test-7.9\\x20Server.x86_64', configs: ['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg'], efiConfigs: ['EFI/BOOT/grub.cfg'], efi: 'images/efiboot.img' },
  {
    rhel: 8,
    label: 'Test-8.10-BaseOS-x86_64',
    escaped: 'Test-8.10-BaseOS-x86_64',
    configs: ['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg', 'EFI/BOOT/BOOT.conf'],
    efiConfigs: ['EFI/BOOT/grub.cfg', 'EFI/BOOT/BOOT.conf'],
    efi: 'images/efiboot.img',
  },
  {
    rhel: 9,
    label: 'Test-9.4 x86_64',
    escaped: 'Test-9.4\\x20x86_64',
    configs: ['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg', 'boot/grub2/grub.cfg'],
    efiConfigs: ['EFI/BOOT/grub.cfg'],
    efi: 'images/efiboot.img',
  },
  { rhel: 10, label: 'Test-10.0-BaseOS-x86_64', escaped: 'Test-10.0-BaseOS-x86_64', configs: ['EFI/BOOT/grub.cfg', 'boot/grub2/grub.cfg'], efiConfigs: ['EFI/BOOT/grub.cfg'], efi: 'partition 2' },
];

/** The partitions `sfdisk -d` lists: start, size and the rest of the line. */
function sfdiskParts(f: string): { start: number; size: number; rest: string }[] {
  return run('sfdisk', ['-d', f])
    .stdout.split('\n')
    .filter((l) => l.startsWith(f))
    .map((l) => {
      const m = /start=\s*(\d+), size=\s*(\d+)(.*)$/.exec(l)!;
      return { start: Number(m[1]), size: Number(m[2]), rest: m[3]! };
    });
}

/** The El Torito images' block addresses, as xorriso reports them. */
function elToritoLbas(iso: string): number[] {
  return [...run('xorriso', ['-indev', iso, '-report_el_torito', 'plain']).stdout.matchAll(/^El Torito boot img :\s+\d+\s+\S+.*\s(\d+)\s*$/gm)].map((m) => Number(m[1]));
}

/** The UEFI image of an installer ISO as a file: extracted, or cut from GPT partition 2. */
function efiImage(g: Generation, iso: string, to: string): string {
  if (g.efi !== 'partition 2') return extract(iso, g.efi, to);
  const p = sfdiskParts(iso)[1]!;
  writeFileSync(to, readFileSync(iso).subarray(p.start * 512, (p.start + p.size) * 512));
  return to;
}

function extract(iso: string, path: string, to: string): string {
  execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/${path}`, to], { stdio: 'ignore' });
  return to;
}

/**
 * xorriso's report of the El Torito entries and the system area, with what moves when blocks move
 * (block addresses, sizes) cut out: entries, platforms, options, MBR types and GPT shape remain.
 */
function bootLayout(iso: string): string[] {
  const r = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']).stdout;
  return r
    .split('\n')
    .filter((l) => /^(El Torito (boot img|img path|img opts|cat path)|System area (options|summary)|Partition offset|MBR (heads|secs|partition( |path))|GPT (disk GUID|partname local|partition GUID|type GUID|partition flags|partition path|entry array))/.test(l))
    .map((l) => (l.startsWith('El Torito boot img') ? l.replace(/\s+\d+$/, '') : l))
    .map((l) => (l.startsWith('MBR partition  ') ? l.split(/\s+/).slice(0, 6).join(' ') : l));
}

/** `sgdisk -v`'s findings, sector counts and names of the file cut out. */
function sgdiskProblems(iso: string): string[] {
  return run('sgdisk', ['-v', iso])
    .stdout.split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/\d+/g, 'N'));
}

function diffLines(a: string, b: string): string[] {
  return run('diff', [a, b]).stdout.split('\n').filter((l) => /^[<>]/.test(l));
}

/** Byte ranges in which two equally long files differ, as [start, end) pairs. */
function differingRanges(a: Buffer, b: Buffer): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const start = i;
    while (i < a.length && a[i] !== b[i]) i++;
    out.push([start, i]);
  }
  return out;
}

describe.each(GENERATIONS)('attach onto an RHEL $rhel-shaped installer ISO', (g) => {
  const installer = join(dir, `rhel${g.rhel}.iso`);
  const out = join(dir, `out${g.rhel}`);
  const iso = join(out, `rhel${g.rhel}-dd.iso`);
  const x = join(dir, `x${g.rhel}`);
  const arg = `inst.dd=hd:LABEL=${g.escaped}`;
  let warnings: string[] = [];
  let notes: string[] = [];

  beforeAll(async () => {
    execFileSync('bash', [join(ROOT, 'fixtures/scripts/installer-iso.sh'), installer], { stdio: 'ignore', env: { ...process.env, RHEL: String(g.rhel) } });
    const m = join(dir, `m${g.rhel}.yaml`);
    writeFileSync(m, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso }\n  - attach: { installer: rhel${g.rhel}.iso }\n`);
    const ctx = createContext({ epoch: EPOCH, onWarn: (w) => warnings.push(w) });
    const result = await build(m, { outDir: out, ctx });
    notes = result.targets.find((t) => t.target === 'attach')!.notes;
    mkdirSync(x, { recursive: true });
  });

  it('builds without warnings; the note names the escaped label', () => {
    expect(warnings).toEqual([]);
    expect(notes.join('\n')).toContain(`every kernel line now carries ${arg}`);
  });

  it('xorriso -report_el_torito/-report_system_area: the same entries, options, system-area kind, MBR types and GPT entries (GUIDs kept)', () => {
    const before = bootLayout(installer);
    if (g.rhel < 9) {
      expect(before).toContain('System area summary: MBR isohybrid cyl-align-on GPT');
      expect(before.some((l) => /^GPT entry array\s*:\s*2\s+128\s/.test(l))).toBe(true);
      expect(before).toContain('GPT partname local :   1  ISOHybrid ISO');
    } else if (g.rhel === 9) {
      expect(before).toContain('System area summary: MBR isohybrid cyl-align-on GPT');
      expect(before.some((l) => /^GPT entry array\s*:\s*2\s+248\s/.test(l))).toBe(true);
      expect(before).toContain('GPT partname local :   2  ISOHybrid1');
    } else {
      expect(before).toContain('System area summary: MBR protective-msdos-label grub2-mbr cyl-align-off GPT');
      expect(before).toContain('Partition offset   : 16');
      expect(before).toContain('El Torito img opts :   1  boot-info-table grub2-boot-info');
      expect(before.some((l) => l.startsWith('El Torito cat path'))).toBe(false);
      expect(before).toContain('GPT partname local :   3  Gap1');
    }
    expect(bootLayout(iso)).toEqual(before);
  });

  it('sgdisk -v reports nothing the input does not; sfdisk -d shows the same partitions, the EFI one at the new UEFI image', () => {
    expect(sgdiskProblems(iso)).toEqual(sgdiskProblems(installer));
    const after = sfdiskParts(iso);
    const before = sfdiskParts(installer);
    expect(after.map((p) => p.rest)).toEqual(before.map((p) => p.rest));
    const efiLba = elToritoLbas(iso)[1]!;
    expect(after[1]).toMatchObject({ start: efiLba * 4, size: before[1]!.size });
    if (g.rhel <= 9) expect(readFileSync(iso).length % (1 << 20)).toBe(0);
    else {
      // partition 1 is the ISO from the offset up to the ESP, Gap1 up to the last usable sector
      expect(after[0]).toMatchObject({ start: 64, size: efiLba * 4 - 64 });
      expect(after[2]!.start).toBe(efiLba * 4 + after[1]!.size);
      expect(after[2]!.start + after[2]!.size).toBe(readFileSync(iso).length / 512 - 64);
    }
  });

  // only RHEL 10 has these pointers and the second volume
  if (g.rhel === 10) it('GRUB2 pointers: MBR 432 LE64 = eltorito.img LBA × 4 + 4, its byte 2548 = LBA × 4 + 5; partition 1 is an ISO 9660 volume of its own listing DD.ISO (isoinfo, osirrox)', () => {
    const img = readFileSync(iso);
    const lba = elToritoLbas(iso)[0]!;
    expect(Number(img.readBigUInt64LE(432))).toBe(lba * 4 + 4);
    expect(Number(img.readBigUInt64LE(lba * 2048 + 2548))).toBe(lba * 4 + 5);
    const p1 = sfdiskParts(iso)[0]!;
    const part = join(x, 'partition1.iso');
    writeFileSync(part, img.subarray(p1.start * 512, (p1.start + p1.size) * 512));
    expect(run('isoinfo', ['-d', '-i', part]).stdout).toContain(`Volume id: ${g.label}\n`);
    expect(run('isoinfo', ['-f', '-i', part]).stdout.split('\n')).toContain('/DD.ISO;1');
    expect(run('cmp', [extract(part, 'dd.iso', join(x, 'p1-dd.iso')), join(out, 'dd.iso')]).status).toBe(0);
    expect(run('cmp', [extract(part, 'boot/grub2/grub.cfg', join(x, 'p1-grub.cfg')), extract(iso, 'boot/grub2/grub.cfg', join(x, 'grub.cfg'))]).status).toBe(0);
  });

  // only the isohybrid --uefi forms have a reference writer to compare with
  if (g.rhel < 9) it('isohybrid --uefi run again on a copy rewrites only its random GUIDs and their CRCs', () => {
    const ref = join(x, 'ref.iso');
    copyFileSync(iso, ref);
    execFileSync('isohybrid', ['--uefi', ref]);
    const a = readFileSync(iso);
    const b = readFileSync(ref);
    expect(b.length).toBe(a.length);
    const sector = (n: number) => n * 512;
    const end = a.length;
    // header CRC, disk GUID, entry-array CRC; entry GUIDs: in both copies of header and array
    const allowed = (s: number, e: number) =>
      [sector(1), sector(2), sector(end / 512 - 33), end - 512].some((base) => {
        const o = s - base;
        const len = e - s;
        const inHeader = base === sector(1) || base === end - 512;
        if (inHeader) return (o >= 16 && o + len <= 20) || (o >= 56 && o + len <= 72) || (o >= 88 && o + len <= 92);
        return o >= 0 && o + len <= 2 * 128 && (o % 128) >= 16 && (o % 128) + len <= 32;
      });
    const ranges = differingRanges(a, b);
    expect(ranges.length).toBeGreaterThan(0);
    for (const [s, e] of ranges) expect(allowed(s, e), `bytes ${s}–${e} differ`).toBe(true);
  });

  it('isoinfo -d keeps the volume id; checkisomd5 passes and implantisomd5 --force changes no byte', () => {
    expect(run('isoinfo', ['-d', '-i', iso]).stdout).toContain(`Volume id: ${g.label}\n`);
    const r = run('checkisomd5', [iso]);
    expect(r.status).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/PASS/);
    const ref = join(x, 'md5.iso');
    copyFileSync(iso, ref);
    execFileSync('implantisomd5', ['--force', ref], { stdio: 'ignore' });
    expect(run('cmp', [iso, ref]).status).toBe(0);
  });

  it('diff of every boot config shows only the added argument on each kernel line', () => {
    for (const c of g.configs) {
      const a = extract(installer, c, join(x, `${c.replace(/\//g, '_')}.in`));
      const b = extract(iso, c, join(x, `${c.replace(/\//g, '_')}.out`));
      const kernel = readFileSync(a, 'utf8').split('\n').filter((l) => /^\s*(append|linux|linuxefi)\s/.test(l));
      expect(kernel.length, c).toBeGreaterThan(1);
      const d = diffLines(a, b);
      expect(d.filter((l) => l.startsWith('<')).map((l) => l.slice(2)), c).toEqual(kernel);
      expect(d.filter((l) => l.startsWith('>')).map((l) => l.slice(2)), c).toEqual(kernel.map((l) => `${l} ${arg}`));
    }
  });

  it('mtype: the configs inside the UEFI image carry it; mdir shows the same sizes and dates otherwise; fsck.fat -n is clean', () => {
    const imgIn = efiImage(g, installer, join(x, 'efiboot.in'));
    const img = efiImage(g, iso, join(x, 'efiboot.img'));
    expect(readFileSync(img).length).toBe(readFileSync(imgIn).length);
    for (const c of g.efiConfigs) {
      const before = run('mtype', ['-i', imgIn, `::/${c}`]).stdout.split('\n');
      const after = run('mtype', ['-i', img, `::/${c}`]).stdout.split('\n');
      const kernel = (l: string) => /^\s*linux(efi)?\s/.test(l);
      expect(after.filter(kernel).length, c).toBe(2);
      expect(after, c).toEqual(before.map((l) => (kernel(l) ? `${l} ${arg}` : l)));
    }
    // the edited configs (grub.cfg; BOOT.conf under its short name BOOT~1 CON) and the totals aside
    const edited = /^(grub\s+cfg|BOOT~1\s+CON)\s|files\s+[\d ]+bytes|bytes free/;
    const listing = (f: string) => run('mdir', ['-/', '-i', f, '::/']).stdout.split('\n').filter((l) => !edited.test(l));
    expect(listing(img)).toEqual(listing(imgIn));
    expect(run('fsck.fat', ['-n', img]).status).toBe(0);
  });

  it('/dd.iso extracts byte-equal to the disk built beside it', () => {
    expect(run('cmp', [extract(iso, 'dd.iso', join(x, 'dd.iso')), join(out, 'dd.iso')]).status).toBe(0);
  });
});
