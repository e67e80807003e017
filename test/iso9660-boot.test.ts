// El Torito, isohybrid and the media-check MD5, checked with xorriso, isoinfo, fdisk and isomd5sum; the
// system-area and boot-info decoders checked against images xorriso wrote and its own reports.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { emitIso, type EmitIsoOptions } from '../src/emit/iso.js';
import { bootInfoOf } from '../src/formats/iso9660/eltorito.js';
import { decodeSystemArea } from '../src/formats/iso9660/hybrid.js';
import { IsoReader } from '../src/formats/iso9660/read.js';
import { checkMediaCheck, FIELD_OFFSET, implantMediaCheck, MediaCheckTap } from '../src/formats/isomd5.js';
import { bytesSource } from '../src/tree/source.js';
import { Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { tempDir } from './helpers/tmp.js';

const EPOCH = 1700000000;
const dir = tempDir('dudkit-isoboot-');
const REAL_MBR = '/usr/lib/ISOLINUX/isohdpfx.bin';

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** checkisomd5's verdict (it prints the result on stderr) and exit status. */
function checkisomd5(file: string): { status: number | null; out: string } {
  const r = spawnSync('checkisomd5', [file], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

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

/** A stand-in for isolinux.bin: arbitrary code with the isohybrid magic at byte 64. */
const biosImage = pattern(4096 + 100, 11);
biosImage.writeUInt32LE(0x7078c0fb, 64);
const efiPath = join(dir, 'efiboot.img');
let efiImage: Buffer;

function bootTree(): ResolvedEntry[] {
  return new Tree()
    .file('isolinux/isolinux.bin', bytesSource(biosImage))
    .file('isolinux/isolinux.cfg', bytesSource('default linux\n'))
    .file('images/efiboot.img', bytesSource(efiImage))
    .file('rhdd3', bytesSource('Driver Update Disk version 3'))
    .entries() as ResolvedEntry[];
}

const boot: EmitIsoOptions['boot'] = {
  bios: { path: 'isolinux/isolinux.bin', bootInfoTable: true },
  efi: { path: 'images/efiboot.img' },
  catalogPath: 'isolinux/boot.cat',
};

async function build(out: string, options: Partial<EmitIsoOptions>, notes: string[] = []) {
  const ctx = createContext({ epoch: EPOCH, progress: { phase() {}, advance() {}, note: (m) => notes.push(m) } });
  return emitIso(bootTree(), out, { volumeId: 'OEMDRV', ...options }, ctx);
}

beforeAll(() => {
  execFileSync('mkfs.fat', ['-C', '-n', 'EFIBOOT', '-i', '12345678', efiPath, '1440'], { stdio: 'ignore' });
  efiImage = readFileSync(efiPath);
});

describe('El Torito', () => {
  const iso = join(dir, 'boot.iso');
  beforeAll(() => build(iso, { boot }));

  it('xorriso -report_el_torito plain shows the BIOS and UEFI entries and the catalog', () => {
    const r = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
    expect(r).toMatch(/El Torito catalog\s*:\s*\d+\s+1/);
    expect(r).toMatch(/El Torito cat path\s*:\s*\/isolinux\/boot\.cat/);
    expect(r).toMatch(/El Torito boot img\s*:\s*1\s+BIOS\s+y\s+none\s+0x0000\s+0x00\s+4\s+\d+/);
    expect(r).toMatch(/El Torito boot img\s*:\s*2\s+UEFI\s+y\s+none\s+0x0000\s+0x00\s+2880\s+\d+/);
    expect(r).toMatch(/El Torito img path\s*:\s*1\s+\/isolinux\/isolinux\.bin/);
    expect(r).toMatch(/El Torito img opts\s*:\s*1\s+boot-info-table isohybrid-suitable/);
    expect(r).toMatch(/El Torito img path\s*:\s*2\s+\/images\/efiboot\.img/);
  });

  it('isoinfo -d shows the validation entry and the default entry', () => {
    const d = run('isoinfo', ['-d', '-i', iso]);
    expect(d).toMatch(/El Torito VD version 1 found, boot catalog is in sector \d+/);
    expect(d).toContain('Key 55 AA');
    expect(d).toMatch(/Nsect 4/);
  });

  it('patches the boot-info table into the image copy only', () => {
    const img = readFileSync(iso);
    const lba = Number(/Bootoff [0-9a-f]+ (\d+)/.exec(run('isoinfo', ['-d', '-i', iso]))![1]!);
    const copy = img.subarray(lba * 2048, lba * 2048 + biosImage.length);
    expect(copy.readUInt32LE(8)).toBe(16);
    expect(copy.readUInt32LE(12)).toBe(lba);
    expect(copy.readUInt32LE(16)).toBe(biosImage.length);
    const padded = Buffer.concat([biosImage, Buffer.alloc(4 - (biosImage.length % 4 || 4))]);
    let sum = 0;
    for (let i = 64; i < padded.length; i += 4) sum = (sum + padded.readUInt32LE(i)) >>> 0;
    expect(copy.readUInt32LE(20)).toBe(sum);
    expect(copy.subarray(24, 64).every((b) => b === 0)).toBe(true);
    expect(copy.subarray(64)).toEqual(biosImage.subarray(64));
  });
});

describe.skipIf(!existsSync('/usr/lib/ISOLINUX/isolinux.bin'))('with Debian isolinux.bin and isohdpfx.bin', () => {
  it('xorriso calls the real isolinux.bin boot-info-table isohybrid-suitable and fdisk sees the hybrid partition', async () => {
    const iso = join(dir, 'isolinux.iso');
    const entries = new Tree()
      .file('isolinux/isolinux.bin', bytesSource(readFileSync('/usr/lib/ISOLINUX/isolinux.bin')))
      .file('rhdd3', bytesSource('Driver Update Disk version 3'))
      .entries() as ResolvedEntry[];
    await emitIso(
      entries,
      iso,
      { volumeId: 'OEMDRV', boot: { bios: { path: 'isolinux/isolinux.bin', bootInfoTable: true }, catalogPath: 'isolinux/boot.cat' }, hybrid: { bootCode: readFileSync(REAL_MBR) } },
      createContext({ epoch: EPOCH }),
    );
    const r = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
    expect(r).toMatch(/El Torito img opts\s*:\s*1\s+boot-info-table isohybrid-suitable/);
    expect(r).toMatch(/MBR partition\s*:\s*1\s+0x80\s+0x17/);
    expect(run('fdisk', ['-l', iso])).toMatch(/isolinux\.iso1 +\* +0 +\d+ +\d+ +\S+ +17 Hidden HPFS\/NTFS/);
  });
});

describe('isohybrid', () => {
  const bootCode = existsSync(REAL_MBR) ? readFileSync(REAL_MBR) : pattern(432, 5);

  it('fdisk -l shows the MBR partition 0x17 covering the cylinder-padded image', async () => {
    const iso = join(dir, 'hybrid.iso');
    const res = await build(iso, { boot, hybrid: { bootCode } });
    const img = readFileSync(iso);
    expect(img.length % (1 << 20)).toBe(0);
    expect(res.size).toBe(img.length);
    expect(img.subarray(0, 432)).toEqual(bootCode);
    const sectors = img.length / 512;
    const f = run('fdisk', ['-l', iso]);
    expect(f).toContain('Disklabel type: dos');
    expect(f).toMatch(new RegExp(`hybrid\\.iso1 +\\* +0 +${sectors - 1} +${sectors} +\\S+ +17 Hidden HPFS/NTFS`));
    const s = run('xorriso', ['-indev', iso, '-report_system_area', 'plain']);
    expect(s).toMatch(/System area summary: MBR isohybrid cyl-align-on/);
    expect(s).toMatch(new RegExp(`MBR partition\\s*:\\s*1\\s+0x80\\s+0x17\\s+0\\s+${sectors}`));
    expect(run('isoinfo', ['-d', '-i', iso])).toMatch(/^Volume id: OEMDRV$/m);
  });

  it('the GPT form has the 0xEF MBR partition and GPT entries xorriso recognises', async () => {
    const iso = join(dir, 'gpt.iso');
    await build(iso, { boot, hybrid: { bootCode, gpt: true } });
    const sectors = readFileSync(iso).length / 512;
    const s = run('xorriso', ['-indev', iso, '-report_system_area', 'plain']);
    expect(s).toMatch(/System area summary: MBR isohybrid cyl-align-on GPT/);
    expect(s).toMatch(/MBR partition\s*:\s*2\s+0x00\s+0xef\s+\d+\s+2880/);
    expect(s).toMatch(/GPT partname local :\s*1\s+ISOHybrid\n/);
    expect(s).toMatch(/GPT partname local :\s*2\s+ISOHybrid1/);
    expect(s).toMatch(/GPT partition path :\s*2\s+\/images\/efiboot\.img/);
    expect(s).toMatch(new RegExp(`GPT lba range\\s*:\\s*64\\s+${sectors - 64}\\s+${sectors - 1}`));
    expect(s).not.toMatch(/GPT CRC.*wrong|damaged/i);
    expect(run('fdisk', ['-l', iso])).toMatch(/gpt\.iso2 +\d+ +\d+ +2880 +\S+ +ef EFI/);
    // disk signature and GUIDs come from the volume id and SOURCE_DATE_EPOCH: a rebuild is identical
    const again = join(dir, 'gpt-again.iso');
    await build(again, { boot, hybrid: { bootCode, gpt: true } });
    expect(readFileSync(again).equals(readFileSync(iso))).toBe(true);
  });
});

describe.skipIf(!existsSync('/usr/lib/ISOLINUX/isolinux.bin'))('decoders of images xorriso wrote (what attach reads from an installer)', () => {
  /** xorriso -as mkisofs over a tree with the real isolinux.bin and a FAT efiboot.img. */
  function xorrisoImage(name: string, extra: string[]): string {
    const tree = join(dir, `${name}-tree`);
    mkdirSync(join(tree, 'isolinux'), { recursive: true });
    mkdirSync(join(tree, 'images'), { recursive: true });
    copyFileSync('/usr/lib/ISOLINUX/isolinux.bin', join(tree, 'isolinux/isolinux.bin'));
    copyFileSync(efiPath, join(tree, 'images/efiboot.img'));
    const out = join(dir, `${name}.iso`);
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', out, '-R', '-V', 'XT', '-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', ...extra, tree], { stdio: 'ignore' });
    return out;
  }

  /** Everything the decoders see of an image, and xorriso's report of the same image. */
  async function both(iso: string) {
    const report = run('xorriso', ['-indev', iso, '-report_el_torito', 'plain', '-report_system_area', 'plain']);
    const r = await IsoReader.open(iso);
    try {
      const bios = (await r.entries()).find((e) => e.path === 'isolinux/isolinux.bin')!;
      const lba = bios.extents[0]!.lba;
      return { report, lba, area: decodeSystemArea(await r.systemAreaBytes()), info: bootInfoOf(await r.bootImageHead(lba, bios.size), lba, bios.size), catalogLba: r.catalogLba };
    } finally {
      await r.close();
    }
  }

  it('-isohybrid-gpt-basdat: MBR partitions, boot-code pointer, GPT entry array and boot-info table as xorriso reports them', async () => {
    const iso = xorrisoImage('xgpt', ['-boot-info-table', '-eltorito-alt-boot', '-e', 'images/efiboot.img', '-no-emul-boot', '-isohybrid-gpt-basdat', '-isohybrid-mbr', REAL_MBR]);
    const { report, lba, area, info } = await both(iso);
    expect(report).toMatch(new RegExp(`El Torito boot img :\\s+1\\s+BIOS\\s+y\\s+none\\s+\\S+\\s+\\S+\\s+4\\s+${lba}\\n`));
    expect(area.kind).toBe('mbr');
    if (area.kind !== 'mbr') return;
    const reported = [...report.matchAll(/^MBR partition\s*:\s*(\d+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\d+)\s+(\d+)$/gm)].map((m) => ({
      index: Number(m[1]), active: m[2] === '80', type: parseInt(m[3]!, 16), start: Number(m[4]), sectors: Number(m[5]),
    }));
    expect(reported.length).toBe(2);
    expect(area.partitions).toEqual(reported);
    const [, entriesLba, entries] = /^GPT entry array\s*:\s*(\d+)\s+(\d+)/m.exec(report)!;
    expect(area.gpt).toMatchObject({ entriesLba: Number(entriesLba), entries: Number(entries) });
    const [, firstUsable] = /^GPT lba range\s*:\s*(\d+)/m.exec(report)!;
    expect(area.gpt?.firstUsable).toBe(Number(firstUsable));
    expect(Buffer.from(area.gpt!.diskGuid).toString('hex')).toBe(/^GPT disk GUID\s*:\s*([0-9a-f]{32})$/m.exec(report)![1]);
    const names = [...report.matchAll(/^GPT partname local :\s+(\d+)\s+(.+)$/gm)].map((m) => ({ index: Number(m[1]), name: m[2] }));
    const starts = [...report.matchAll(/^GPT start and size :\s+\d+\s+(\d+)\s+(\d+)$/gm)].map((m) => ({ first: Number(m[1]), last: Number(m[1]) + Number(m[2]) - 1 }));
    expect(area.gpt?.partitions.map((p) => ({ index: p.index, name: p.name }))).toEqual(names);
    expect(area.gpt?.partitions.map((p) => ({ first: p.first, last: p.last }))).toEqual(starts);
    expect(area.bootCode).toEqual(readFileSync(REAL_MBR).subarray(0, 432));
    expect(area.bootImageSector).toBe(lba * 4);
    expect(report).toMatch(/El Torito img opts :\s+1\s+boot-info-table isohybrid-suitable\n/);
    expect(info).toEqual({ bootInfoTable: true, grub2BootInfo: false });
  });

  it('--grub2-boot-info is seen; without -boot-info-table or a hybrid MBR, neither table and a blank system area', async () => {
    const grub = await both(xorrisoImage('xgrub', ['-boot-info-table', '--grub2-boot-info']));
    expect(grub.report).toMatch(/El Torito img opts :\s+1\s+boot-info-table isohybrid-suitable grub2-boot-info/);
    expect(grub.info).toEqual({ bootInfoTable: true, grub2BootInfo: true });
    const plain = await both(xorrisoImage('xplain', []));
    expect(plain.report).not.toMatch(/boot-info-table/);
    expect(plain.report).not.toMatch(/System area summary|MBR partition/);
    expect(plain.info).toEqual({ bootInfoTable: false, grub2BootInfo: false });
    expect(plain.area).toEqual({ kind: 'blank' });
    // the catalog block the boot record names
    expect(plain.report).toMatch(new RegExp(`El Torito catalog\\s*:\\s*${plain.catalogLba}\\s+1\\n`));
  });
});

describe('media-check MD5', () => {
  it('checkisomd5 passes, equals implantisomd5 --force byte for byte, and fails after a flipped byte', async () => {
    const iso = join(dir, 'md5.iso');
    const notes: string[] = [];
    const res = await build(iso, { boot, hybrid: { bootCode: pattern(432, 9) }, implantMd5: true, digests: ['md5', 'sha256'] });
    expect(res.implantedMd5).toMatch(/^[0-9a-f]{32}$/);
    expect(checkisomd5(iso)).toMatchObject({ status: 0, out: expect.stringContaining('PASS') });
    const field = readFileSync(iso).subarray(FIELD_OFFSET, FIELD_OFFSET + 512).toString('latin1');
    expect(field).toMatch(/^ISO MD5SUM = [0-9a-f]{32};SKIPSECTORS = 15;RHLISOSTATUS=0;FRAGMENT SUMS = [0-9a-f]{60};FRAGMENT COUNT = 20;THIS IS NOT THE SAME AS RUNNING MD5SUM ON THIS ISO!! {285}$/);
    const ref = join(dir, 'md5-ref.iso');
    copyFileSync(iso, ref);
    run('implantisomd5', ['--force', ref]);
    expect(readFileSync(ref).equals(readFileSync(iso))).toBe(true);
    // the sidecars cover the implanted bytes (one re-read, announced)
    expect(run('md5sum', [iso]).split(' ')[0]).toBe(res.md5);
    expect(run('sha256sum', [iso]).split(' ')[0]).toBe(res.sha256);
    await build(join(dir, 'md5-2.iso'), { implantMd5: true, digests: ['md5'] }, notes);
    expect(notes.join('\n')).toMatch(/re-reading .* once for md5/);
    expect(await checkMediaCheck(iso)).toMatchObject({ state: 'pass' });

    const flip = (file: string, offset: number) => {
      const fd = openSync(file, 'r+');
      const b = Buffer.alloc(1);
      b[0] = readFileSync(file)[offset]! ^ 0xff;
      writeSync(fd, b, 0, 1, offset);
      closeSync(fd);
    };
    const tail = join(dir, 'md5-tail.iso');
    copyFileSync(iso, tail);
    flip(tail, readFileSync(tail).length - 100);
    expect(checkisomd5(tail).status).toBe(0);
    flip(iso, 100); // the MBR is covered too
    const bad = checkisomd5(iso);
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain('FAIL');
    expect(await checkMediaCheck(iso)).toMatchObject({ state: 'fail' });
  });

  it('grows a tiny image to 336 sectors so checkisomd5 accepts it', async () => {
    const iso = join(dir, 'tiny.iso');
    const res = await emitIso(new Tree().file('a', bytesSource('a')).entries() as ResolvedEntry[], iso, { volumeId: 'OEMDRV', implantMd5: true }, createContext({ epoch: EPOCH }));
    expect(res.size).toBe(336 * 2048);
    expect(run('isoinfo', ['-d', '-i', iso])).toMatch(/^Volume size is: 336$/m);
    expect(checkisomd5(iso)).toMatchObject({ status: 0, out: expect.stringContaining('PASS') });
  });

  it('the tap, fed in uneven pieces or 1 MiB buffers, equals implantisomd5 --force from 334 to 5000 sectors; the file implanter too, refusing under 336', async () => {
    for (const sectors of [334, 335, 336, 351, 1000, 5000]) {
      const img = pattern(sectors * 2048, sectors);
      img.fill(0, 32768, 34816);
      img[32768] = 1;
      img.write('CD001', 32769, 'latin1');
      img[32774] = 1;
      img.writeUInt32LE(sectors, 32768 + 80);
      img.writeUInt32BE(sectors, 32768 + 84);
      img.fill(0x20, FIELD_OFFSET, FIELD_OFFSET + 512);
      const ref = join(dir, `raw-${sectors}-ref.img`);
      const ours = join(dir, `raw-${sectors}.img`);
      writeFileSync(ref, img);
      writeFileSync(ours, img);
      run('implantisomd5', ['--force', ref]);
      const want = readFileSync(ref);
      // uneven pieces and whole buffers of the emitter's pool, across chunk and fragment boundaries
      for (const piece of [7777, 1 << 20]) {
        const tap = new MediaCheckTap(img.length);
        for (let off = 0; off < img.length; off += piece) tap.update(img.subarray(off, off + piece));
        expect(Buffer.from(tap.field()).equals(want.subarray(FIELD_OFFSET, FIELD_OFFSET + 512)), `tap ${sectors} in pieces of ${piece}`).toBe(true);
      }
      if (sectors < 336) {
        // below 336 sectors the file implanter refuses (emitIso grows its images instead)
        await expect(implantMediaCheck(ours)).rejects.toThrow(new RegExp(`image has ${sectors} sectors; checkisomd5 rejects`));
        continue;
      }
      await implantMediaCheck(ours);
      expect(readFileSync(ours).equals(want), `${sectors} sectors`).toBe(true);
    }
  });
});
