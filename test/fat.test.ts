import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../src/context.js';
import { emitUsbImage } from '../src/emit/usb.js';
import { checksumFiles, writeDerivedOf } from '../src/emit/derived.js';
import { FatReader, lfnChecksum, planFat, replaceFatFiles, writeFatImage, MIN_CLUSTERS } from '../src/formats/fat/index.js';
import { FormatError, UserError } from '../src/errors.js';
import { bytesSource, type Source } from '../src/tree/source.js';
import { Tree, type ResolvedEntry } from '../src/tree/tree.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-fat-');
const EPOCH = 1700000000;
const env = { ...process.env, MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed + (i >> 9)) & 0xff;
  return b;
}

/** Chunked source, so the writer sees several chunks per file. */
function chunkedSource(data: Uint8Array, chunk = 7000): Source {
  return {
    size: data.length,
    origin: 'test',
    async *open() {
      for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
    },
  };
}

const files = new Map<string, Uint8Array>([
  ['rhdd3', new TextEncoder().encode('Driver Update Disk version 3')],
  ['rpms/x86_64/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm', pattern(300_001, 1)],
  ['rpms/x86_64/repodata/repomd.xml', new TextEncoder().encode('<repomd/>\n')],
  ['README.TXT', new TextEncoder().encode('readme\n')],
  ['MixedCase.Txt', new TextEncoder().encode('mixed\n')],
  ['longfilename1.txt', new TextEncoder().encode('1\n')],
  ['longfilename2.txt', new TextEncoder().encode('2\n')],
  ['Ünïcode ñame.txt', new TextEncoder().encode('unicode\n')],
  ['one-cluster.bin', pattern(512, 2)],
  ['empty', new Uint8Array(0)],
  // long names of exactly one LFN entry (no terminator) and of the maximum length
  ['exactly13.chr', new TextEncoder().encode('13\n')],
  [`${'n'.repeat(251)}.bin`, new TextEncoder().encode('255\n')],
]);
for (let i = 0; i < 40; i++) files.set(`many/file-number-${i}.dat`, new TextEncoder().encode(`${i}\n`));

function entries(): ResolvedEntry[] {
  const t = new Tree();
  for (const [path, data] of files) t.file(path, chunkedSource(data));
  t.dir('emptydir');
  // no generated content, so the entries are already resolved
  return t.entries() as ResolvedEntry[];
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
}

const img = join(dir, 'usb.img');
const part = join(dir, 'part.img');

describe('FAT32 USB image', () => {
  beforeAll(async () => {
    const res = await emitUsbImage(entries(), img, { digests: ['md5', 'sha256'] }, createContext({ epoch: EPOCH }));
    await writeDerivedOf(img, checksumFiles(['md5', 'sha256']), res);
    expect(res.size).toBe(statSync(img).size);
    execFileSync('dd', [`if=${img}`, `of=${part}`, 'bs=1M', 'skip=1', 'status=none']);
  });

  it('fdisk -l and sfdisk -d show one FAT32 (LBA) partition at sector 2048', () => {
    const size = statSync(img).size;
    expect(size % (1 << 20)).toBe(0);
    const fdisk = run('fdisk', ['-l', img]);
    expect(fdisk).toMatch(new RegExp(`${img.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}1 +2048 +${size / 512 - 1} +${size / 512 - 2048} .* c W95 FAT32 \\(LBA\\)`));
    const sfdisk = run('sfdisk', ['-d', img]);
    expect(sfdisk).toMatch(/start= +2048, size= +\d+, type=c$/m);
    expect(sfdisk.match(/start=/g)).toHaveLength(1);
  });

  it('blkid -p -O 1MiB reports LABEL="OEMDRV" (root entry and boot sector) and TYPE="vfat" FAT32', () => {
    const out = run('blkid', ['-p', '-O', String(1 << 20), img]);
    expect(out).toMatch(/ LABEL="OEMDRV"/);
    expect(out).toMatch(/ LABEL_FATBOOT="OEMDRV"/);
    expect(out).toMatch(/ TYPE="vfat"/);
    expect(out).toMatch(/ VERSION="FAT32"/);
  });

  it('fsck.fat -n finds the partition clean, with at least 65525 clusters', () => {
    const r = spawnSync('fsck.fat', ['-n', '-v', part], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/differ|corrupt|invalid|free cluster summary wrong|Dirty bit|contains/i);
    const clusters = Number(/(\d+) data clusters/.exec(r.stdout)?.[1]);
    expect(clusters).toBeGreaterThanOrEqual(MIN_CLUSTERS);
    expect(r.stdout).toMatch(/32 bit entries/);
    expect(r.stdout).toMatch(new RegExp(`${files.size + 6} files`)); // + dirs rpms, x86_64, repodata, many, emptydir, label
  });

  it('mdir -i img@@1M lists the tree with long and lower-case names', () => {
    const root = run('mdir', ['-i', `${img}@@1M`, '::/']);
    expect(root).toMatch(/Volume in drive : is OEMDRV/);
    expect(root).toMatch(/^README   TXT +7 /m);
    expect(root).toMatch(/^rhdd3 +28 /m); // an 8.3 name in lower case: NT case flags, no LFN
    for (const name of ['rpms', 'MixedCase.Txt', 'longfilename1.txt', 'longfilename2.txt', 'Ünïcode ñame.txt', 'emptydir', 'many']) {
      expect(root).toContain(name);
    }
    // the short names mtools shows beside the long ones are the generated ~N names
    expect(root).toMatch(/LONGFI~1 TXT +2 2023-11-14 +22:13 +longfilename1\.txt/);
    expect(root).toMatch(/LONGFI~2 TXT +2 2023-11-14 +22:13 +longfilename2\.txt/);
    const bare = run('mdir', ['-/', '-b', '-i', `${img}@@1M`, '::/']).trim().split('\n').map((l) => l.replace(/^::\//, ''));
    for (const path of files.keys()) expect(bare).toContain(path);
    expect(bare).toContain('emptydir/');
  });

  it('mcopy -s extracts every file byte-equal', () => {
    const out = join(dir, 'extracted');
    mkdirSync(out);
    run('mcopy', ['-s', '-n', '-m', '-i', `${img}@@1M`, '::/*', out]);
    for (const [path, data] of files) {
      expect(Buffer.from(readFileSync(join(out, path))).equals(Buffer.from(data)), path).toBe(true);
    }
    expect(readdirSync(join(out, 'emptydir'))).toEqual([]);
    expect(statSync(join(out, 'rhdd3')).mtimeMs / 1000).toBe(EPOCH);
  });

  it('writes md5sum/sha256sum sidecars that verify', () => {
    expect(existsSync(`${img}.md5`)).toBe(true);
    execFileSync('md5sum', ['-c', '--quiet', 'usb.img.md5'], { cwd: dir });
    execFileSync('sha256sum', ['-c', '--quiet', 'usb.img.sha256'], { cwd: dir });
  });

  it('is deterministic (two builds identical) and the size is what the plan says', async () => {
    const again = join(dir, 'again.img');
    await emitUsbImage(entries(), again, {}, createContext({ epoch: EPOCH }));
    expect(readFileSync(again).equals(readFileSync(img))).toBe(true);
    const plan = planFat(entries(), { label: 'OEMDRV', epoch: EPOCH });
    let n = 0;
    for await (const c of writeFatImage(plan)) n += c.length;
    expect(n).toBe(plan.imageSize);
  });

  it('chooses the cluster size as mkfs.fat does for the volume size (plan only, no data written)', () => {
    const big = (size: number, count = 1): ResolvedEntry[] =>
      Array.from({ length: count }, (_, i) => ({ type: 'file', path: `big${i}.iso`, mode: 0o644, content: { size, origin: 'big', open: () => (async function* () {})() } }));
    const small = planFat(entries(), { epoch: EPOCH });
    expect(small.sectorsPerCluster).toBe(1);
    const p300 = planFat(big(300 << 20), { epoch: EPOCH });
    expect(p300.sectorsPerCluster).toBe(8);
    expect(p300.clusterCount).toBeGreaterThanOrEqual(MIN_CLUSTERS);
    // data region starts on a cluster boundary of the partition
    expect((p300.reservedSectors + 2 * p300.fatSectors) % 8).toBe(0);
    expect(planFat(big(3 * 2 ** 30, 3), { epoch: EPOCH }).sectorsPerCluster).toBe(16);
    expect(() => planFat(big(2 ** 32), { epoch: EPOCH })).toThrow(/smaller than 4 GiB/);
  });

  it('fsck.fat -n and blkid accept a volume over 260 MiB, which gets 4 KiB clusters like mkfs.fat', async () => {
    const chunk = new Uint8Array(1 << 20).fill(0x5a);
    const size = 280 << 20;
    const source: Source = {
      size,
      origin: 'big',
      async *open() {
        for (let left = size; left > 0; left -= chunk.length) yield chunk.subarray(0, Math.min(left, chunk.length));
      },
    };
    const big = join(dir, 'big.img');
    const bigPart = join(dir, 'big-part.img');
    try {
      await emitUsbImage([{ type: 'file', path: 'dd.iso', mode: 0o644, content: source }, ...entries()], big, {}, createContext({ epoch: EPOCH }));
      execFileSync('dd', [`if=${big}`, `of=${bigPart}`, 'bs=1M', 'skip=1', 'status=none']);
      const r = spawnSync('fsck.fat', ['-n', '-v', bigPart], { encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/4096 bytes per cluster/);
      expect(run('blkid', ['-p', '-O', String(1 << 20), big])).toMatch(/LABEL="OEMDRV".* VERSION="FAT32".* TYPE="vfat"/);
      expect(run('mdir', ['-i', `${big}@@1M`, '::/'])).toMatch(/^dd +iso +293601280 /m);
    } finally {
      rmSync(big, { force: true });
      rmSync(bigPart, { force: true });
    }
  });

  it('gives thousands of similar long names unique short names that fsck.fat and mdir accept', async () => {
    const many: ResolvedEntry[] = Array.from({ length: 5000 }, (_, i) => ({ type: 'file', path: `d/kmod-acme-driver-${i}.rpm`, mode: 0o644, content: bytesSource('x') }));
    const plan = planFat(many, { epoch: EPOCH });
    // the speed goal lives in the benchmark; here the real tools check the directory it makes
    const manyImg = join(dir, 'many.img');
    const fd = openSync(manyImg, 'w');
    try {
      for await (const c of writeFatImage(plan)) writeSync(fd, c);
    } finally {
      closeSync(fd);
    }
    // the image is a whole disk: its FAT partition starts at 1 MiB
    const manyPart = join(dir, 'many-part.img');
    execFileSync('dd', [`if=${manyImg}`, `of=${manyPart}`, 'bs=1M', 'skip=1', 'status=none']);
    const fsck = spawnSync('fsck.fat', ['-n', manyPart], { encoding: 'utf8' });
    rmSync(manyPart, { force: true });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    expect(fsck.stdout).not.toMatch(/duplicate|differ/i);
    const longNames = run('mdir', ['-b', '-i', `${manyImg}@@1M`, '::/d']).split('\n').filter(Boolean);
    expect(longNames.length).toBe(5000);
    expect(new Set(longNames).size).toBe(5000);
    expect(longNames).toContain('::/d/kmod-acme-driver-4999.rpm');
    expect(run('mtype', ['-i', `${manyImg}@@1M`, '::/d/kmod-acme-driver-1234.rpm'])).toBe('x');
    rmSync(manyImg, { force: true });
    const d = plan.items.find((i) => i.kind === 'dir' && i.path === 'd');
    expect(d?.kind).toBe('dir');
    const shorts = new Set(d!.kind === 'dir' ? d!.children.map((c) => Buffer.from(c.name.short).toString('latin1')) : []);
    expect(shorts.size).toBe(5000);
    expect(shorts).toContain('KMOD~999RPM');
    expect(shorts).toContain('KMO~5000RPM');
  });

  it('computes the LFN checksum of the short name', () => {
    // short entry name bytes of "LONGFI~1TXT"
    const sum = lfnChecksum(new TextEncoder().encode('LONGFI~1TXT'));
    const raw = readFileSync(part);
    const at = raw.indexOf(Buffer.from('LONGFI~1TXT'));
    expect(at).toBeGreaterThan(0);
    expect(raw[at - 32 + 13]).toBe(sum); // the LFN entry just before it carries the checksum
    expect(raw[at - 32 + 11]).toBe(0x0f);
  });

  it('refuses what FAT cannot hold: symlinks, names equal but for case, bad labels and characters', () => {
    const base = entries();
    expect(() => planFat([...base, { type: 'symlink', path: 'zlink', target: 'rhdd3' }], { epoch: EPOCH })).toThrow(/zlink: FAT cannot store symbolic links/);
    expect(() => planFat([...base, { type: 'file', path: 'RHDD3', mode: 0o644, content: bytesSource('x') }], { epoch: EPOCH })).toThrow(/RHDD3: FAT names ignore case/);
    expect(() => planFat([{ type: 'file', path: 'a:b', mode: 0o644, content: bytesSource('x') }], { epoch: EPOCH })).toThrow(/a:b: name contains ":"/);
    expect(() => planFat(base, { label: 'oemdrv', epoch: EPOCH })).toThrow(/volume label/);
    expect(() => planFat(base, { label: 'TWELVE_CHARS', epoch: EPOCH })).toThrow(/volume label/);
  });
});

describe('FAT reader', () => {
  async function listAndRead(path: string): Promise<{ reader: FatReader; files: Map<string, Buffer>; dirs: string[] }> {
    const reader = await FatReader.open(path);
    const out = new Map<string, Buffer>();
    const dirs: string[] = [];
    for await (const f of reader.walk()) {
      if (f.isDir) dirs.push(f.path);
      else {
        const parts: Uint8Array[] = [];
        for await (const c of reader.read(f)) parts.push(c);
        out.set(f.path, Buffer.concat(parts));
      }
    }
    return { reader, files: out, dirs };
  }

  it('reads back the USB image: label, boot label, every file byte-equal', async () => {
    const { reader, files: got, dirs } = await listAndRead(img);
    try {
      expect(reader.info).toMatchObject({ offset: 1 << 20, partitionType: 0x0c, fatType: 32, label: 'OEMDRV', bootLabel: 'OEMDRV' });
      expect(new Set(got.keys())).toEqual(new Set(files.keys()));
      for (const [path, data] of files) expect(got.get(path)!.equals(Buffer.from(data)), path).toBe(true);
      expect(dirs).toContain('emptydir');
      expect((await reader.find('RPMS/X86_64/repodata/REPOMD.XML'))?.path).toBe('rpms/x86_64/repodata/repomd.xml');
    } finally {
      await reader.close();
    }
  });

  for (const bits of [12, 16, 32] as const) {
    it(`reads a FAT${bits} image made by mkfs.fat -F ${bits} and filled by mcopy -s`, async () => {
      const src = join(dir, `mk${bits}-src`);
      mkdirSync(join(src, 'EFI/BOOT'), { recursive: true });
      const grub = Buffer.from('set timeout=60\nmenuentry "Install" {\n  linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=RHEL-9\n}\n');
      const big = Buffer.from(pattern(40_000, bits));
      writeFileSync(join(src, 'EFI/BOOT/grub.cfg'), grub);
      writeFileSync(join(src, 'EFI/BOOT/BOOTX64.EFI'), big);
      writeFileSync(join(src, 'A rather long file name.txt'), 'long\n');
      const image = join(dir, `mk${bits}.img`);
      const kib = bits === 32 ? 40_000 : bits === 16 ? 8_000 : 1_440;
      execFileSync('mkfs.fat', ['-F', String(bits), '-s', '1', '-n', 'ANACONDA', '-C', image, String(kib)], { stdio: 'ignore' });
      run('mcopy', ['-s', '-i', image, join(src, 'EFI'), join(src, 'A rather long file name.txt'), '::/']);
      const { reader, files: got } = await listAndRead(image);
      try {
        expect(reader.info).toMatchObject({ offset: 0, fatType: bits, label: 'ANACONDA', bootLabel: 'ANACONDA' });
        expect(got.get('EFI/BOOT/grub.cfg')!.equals(grub)).toBe(true);
        expect(got.get('EFI/BOOT/BOOTX64.EFI')!.equals(big)).toBe(true);
        expect(got.get('A rather long file name.txt')!.toString()).toBe('long\n');
      } finally {
        await reader.close();
      }
    });
  }

  it('types a small mkfs.fat -F 32 volume (8034 clusters) FAT32 by its BPB, as fsck.fat does', async () => {
    const image = join(dir, 'small32.img');
    execFileSync('mkfs.fat', ['-F', '32', '-s', '1', '-n', 'SMALL32', '-C', image, '4096'], { stdio: 'ignore' });
    const fsck = spawnSync('fsck.fat', ['-n', '-v', image], { encoding: 'utf8' });
    expect(fsck.status).toBe(0);
    expect(fsck.stdout).toMatch(/2 FATs, 32 bit entries/);
    const clusters = Number(/(\d+) data clusters/.exec(fsck.stdout)![1]);
    expect(clusters).toBeLessThan(65525);
    // (mtools cannot write to such a volume: "No directory slots"; the label is read from the
    // root directory, found through the FAT32 root cluster)
    const { reader, files: got } = await listAndRead(image);
    try {
      expect(reader.info).toMatchObject({ fatType: 32, clusterCount: clusters, label: 'SMALL32', bootLabel: 'SMALL32' });
      expect(got.size).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it('gives FormatError for a looping cluster chain and for a file that is no FAT image', async () => {
    const bad = join(dir, 'loop.img');
    copyFileSync(part, bad);
    // the root directory is cluster 2; make its FAT entry point to itself
    const fd = openSync(bad, 'r+');
    const boot = Buffer.alloc(512);
    readSync(fd, boot, 0, 512, 0);
    writeSync(fd, Buffer.from([2, 0, 0, 0]), 0, 4, boot.readUInt16LE(14) * 512 + 8);
    closeSync(fd);
    const reader = FatReader.open(bad);
    await expect(reader).rejects.toThrow(FormatError);
    await expect(reader).rejects.toThrow(/root directory: cluster chain loops/);
    const notFat = join(dir, 'zeros.img');
    writeFileSync(notFat, Buffer.alloc(4096));
    await expect(FatReader.open(notFat)).rejects.toThrow(/neither a FAT file system nor a disk image/);
  });
});

describe('FAT file replacement (the grub.cfg inside efiboot.img)', () => {
  const grubLine = (i: number) => `menuentry 'Install ${i}' --class fedora {\n\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet\n\tinitrdefi /images/pxeboot/initrd.img\n}\n`;
  const grub = Buffer.from(Array.from({ length: 12 }, (_, i) => grubLine(i)).join('')); // under 2 KiB
  const edited = Buffer.from(grub.toString().replace(/quiet\n/g, 'quiet inst.dd=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64\n'));

  for (const bits of [12, 16, 32] as const) {
    it(`fsck.fat -n stays clean and mtype shows the new grub.cfg after growing and shrinking it on FAT${bits}`, async () => {
      expect(grub.length).toBeLessThanOrEqual(2048);
      expect(edited.length).toBeGreaterThan(2048);
      const src = join(dir, `efi${bits}-src`);
      mkdirSync(join(src, 'EFI/BOOT'), { recursive: true });
      const bootx = Buffer.from(pattern(9000, 7));
      writeFileSync(join(src, 'EFI/BOOT/grub.cfg'), grub);
      writeFileSync(join(src, 'EFI/BOOT/BOOTX64.EFI'), bootx);
      const image = join(dir, `efi${bits}.img`);
      const kib = bits === 32 ? 40_000 : bits === 16 ? 8_000 : 2_000;
      execFileSync('mkfs.fat', ['-F', String(bits), '-s', bits === 12 ? '4' : '1', '-n', 'ANACONDA', '-C', image, String(kib)], { stdio: 'ignore' });
      // grub.cfg first, so that growing it must continue its chain after BOOTX64.EFI's clusters
      run('mmd', ['-i', image, '::/EFI', '::/EFI/BOOT']);
      run('mcopy', ['-i', image, join(src, 'EFI/BOOT/grub.cfg'), join(src, 'EFI/BOOT/BOOTX64.EFI'), '::/EFI/BOOT/']);
      const fsck = () => {
        const r = spawnSync('fsck.fat', ['-n', image], { encoding: 'utf8' });
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).not.toMatch(/wrong|differ|corrupt|invalid|truncat|contains/i);
      };
      fsck();
      await replaceFatFiles(image, new Map([['EFI/BOOT/grub.cfg', edited]]));
      fsck();
      expect(Buffer.from(execFileSync('mtype', ['-i', image, '::/EFI/BOOT/grub.cfg'], { env })).equals(edited)).toBe(true);
      expect(Buffer.from(execFileSync('mtype', ['-i', image, '::/EFI/BOOT/BOOTX64.EFI'], { env })).equals(bootx)).toBe(true);
      const reader = await FatReader.open(image);
      const file = (await reader.find('EFI/BOOT/grub.cfg'))!;
      expect([...reader.chain(file.firstCluster, file.path)].length).toBe(2); // kept its cluster(s), continued after BOOTX64.EFI
      await reader.close();
      await replaceFatFiles(image, new Map([['efi/boot/GRUB.CFG', Buffer.from('short\n')]]));
      fsck();
      expect(execFileSync('mtype', ['-i', image, '::/EFI/BOOT/grub.cfg'], { env, encoding: 'utf8' })).toBe('short\n');
      expect(run('mdir', ['-i', image, '::/'])).toMatch(/Volume in drive : is ANACONDA/);
    });
  }

  it('refuses a replacement that does not fit, and a path that is not a file', async () => {
    const image = join(dir, 'tiny.img');
    execFileSync('mkfs.fat', ['-F', '12', '-C', image, '64'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'f.txt'), 'x');
    run('mcopy', ['-i', image, join(dir, 'f.txt'), '::/f.txt']);
    await expect(replaceFatFiles(image, new Map([['f.txt', new Uint8Array(100_000)]]))).rejects.toThrow(/no free space in the FAT image for f\.txt/);
    await expect(replaceFatFiles(image, new Map([['nope.cfg', new Uint8Array(1)]]))).rejects.toThrow(/nope\.cfg: no such file/);
  });
});

describe('emitUsbImage errors', () => {
  it('turns what FAT cannot hold into a one-line UserError naming the medium, and leaves nothing at the output path', async () => {
    const out = join(dir, 'bad.img');
    const bad: ResolvedEntry[] = [{ type: 'symlink', path: 'link', target: 'x' }];
    const err = await emitUsbImage(bad, out, {}, createContext({ epoch: EPOCH })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(`${out}: link: FAT cannot store symbolic links`);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('bad.img'))).toEqual([]);
  });

  it('aborts without output when a source delivers fewer bytes than planned', async () => {
    const out = join(dir, 'short.img');
    const liar: Source = { size: 10, origin: 'changed.rpm', open: async function* () { yield new Uint8Array(4); } };
    await expect(emitUsbImage([{ type: 'file', path: 'a.rpm', mode: 0o644, content: liar }], out, {}, createContext({ epoch: EPOCH }))).rejects.toThrow(/changed\.rpm: shorter \(4 bytes\) than its planned 10 bytes/);
    expect(readdirSync(dir).filter((f) => f.includes('short.img'))).toEqual([]);
  });
});
