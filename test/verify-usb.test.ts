import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { ACME } from './helpers/manifest.js';

const dir = tempDir();
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const K94 = '5.14.0-427.13.1.el9_4.x86_64';
const MIB = 1048576;

beforeAll(async () => {
  writeFileSync(
    join(dir, 'm.yaml'),
    `${ACME}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
  - ko: ${FIXTURES}/ko/${K94}/*.ko
firmware:
  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }
targets:
  - rhdd3: { out: dd.iso }
  - usb: { out: usb.img }
`,
  );
  writeFileSync(
    join(dir, 'el5.yaml'),
    `${ACME}sources:
  - ko: ${FIXTURES}/elf/modlike-i686.ko
targets:
  - rhel5: { out: el5-usb.img, format: fat }
`,
  );
  for (const m of ['m.yaml', 'el5.yaml']) await build(join(dir, m), { outDir: dir, ctx: createContext({ epoch: 1700000000, onWarn: () => {} }) });
});

/** A copy of the built image to corrupt. */
function copy(name: string): string {
  const p = join(dir, name);
  copyFileSync(join(dir, 'usb.img'), p);
  return p;
}

describe('dudkit verify (USB image)', () => {
  it('blkid -p, fsck.fat -n and mdir agree with what verify reports for the built image', () => {
    const img = join(dir, 'usb.img');
    expect(run('blkid', ['-p', '-O', String(MIB), img]).stdout).toMatch(/LABEL_FATBOOT="OEMDRV" LABEL="OEMDRV" .*TYPE="vfat"/);
    expect(run('sh', ['-c', `dd if=${img} of=${dir}/part.img bs=1M skip=1 status=none && fsck.fat -n ${dir}/part.img`]).status).toBe(0);
    const ls = run('mdir', ['-i', `${img}@@1M`, '-b', '::/']).stdout.split('\n');
    expect(ls).toEqual(expect.arrayContaining(['::/rhdd3', '::/rpms/']));
    const r = dudkit(['verify', img, '--kernel', K94]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${img}: USB image, FAT32 in MBR partition type 0x0c at sector 2048, label OEMDRV, boot sector label OEMDRV`);
    expect(r.stdout).toContain(`installer kernel ${K94}: uses acme-acmenet-firmware-2.4.1-3.noarch.rpm, kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64.rpm`);
    expect(r.stdout).toMatch(/OK: 0 errors, 1 warning$/m);
    const j = JSON.parse(dudkit(['verify', img, '--json']).stdout) as { kind: string; details: { volume: { label: string; partitionType: number }; disk: { kind: string } } };
    expect(j.kind).toBe('usb');
    expect(j.details.volume).toMatchObject({ label: 'OEMDRV', bootLabel: 'OEMDRV', partitionType: 0x0c, fatType: 32 });
    expect(j.details.disk.kind).toBe('rhdd3');
  });

  it('a label changed with mlabel fails: the installer does not find the stick by itself', () => {
    const img = copy('label.img');
    expect(run('mlabel', ['-i', `${img}@@1M`, '::ACME']).status).toBe(0);
    expect(run('blkid', ['-p', '-O', String(MIB), img]).stdout).toMatch(/LABEL="ACME"/);
    const r = dudkit(['verify', img]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('error: label ACME, not OEMDRV: the installer does not find the stick by itself (boot with inst.dd=hd:LABEL=ACME, RHEL 5/6: dd)');
  });

  it('a label cleared with mlabel -c fails; a boot-sector label that differs is reported', () => {
    const none = copy('nolabel.img');
    expect(run('mlabel', ['-i', `${none}@@1M`, '-c']).status).toBe(0);
    expect(run('blkid', ['-p', '-O', String(MIB), none]).stdout).not.toMatch(/LABEL=/);
    const r = dudkit(['verify', none]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('error: no volume label: the installer finds it neither as OEMDRV nor through inst.dd=hd:LABEL=…');
    // BS_VolLab of FAT32 at 0x47 of the boot sector
    const odd = copy('bootlabel.img');
    const b = readFileSync(odd);
    b.write('OTHER      ', MIB + 0x47, 'latin1');
    writeFileSync(odd, b);
    expect(run('blkid', ['-p', '-O', String(MIB), odd]).stdout).toMatch(/LABEL_FATBOOT="OTHER" LABEL="OEMDRV"/);
    const w = dudkit(['verify', odd]);
    expect(w.status).toBe(0);
    expect(w.stdout).toContain("warning: boot sector label OTHER differs from the root directory label OEMDRV; libblkid's LABEL is OEMDRV");
  });

  it('the tree is verified like the ISO: a package replaced with mcopy makes the repodata stale', () => {
    const img = copy('stale.img');
    const kmod = run('mdir', ['-i', `${img}@@1M`, '-b', '::/rpms/x86_64']).stdout.split('\n').find((l) => l.includes('el9_3'))!;
    expect(run('mcopy', ['-o', '-i', `${img}@@1M`, join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'), kmod]).status).toBe(0);
    const r = dudkit(['verify', img]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error: rpms\/x86_64\/kmod-acme-acmenet-2\.4\.1-3\.362\.8\.1\.el9_3\.x86_64\.rpm: sha256 differs from repodata/);
  });

  it('a RHEL 5 disk on a FAT image: mdir shows the long lower-case names; verify checks it as rhel5', () => {
    const img = join(dir, 'el5-usb.img');
    const ls = run('mdir', ['-i', `${img}@@1M`, '-b', '::/']).stdout.split('\n');
    expect(ls).toEqual(expect.arrayContaining(['::/modules.alias', '::/modules.cgz', '::/modinfo', '::/rhdd', '::/pcitable']));
    const r = dudkit(['verify', img, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { kind: string; details: { disk: { kind: string; details: { members: { name: string }[] } } } };
    expect(j.kind).toBe('usb');
    expect(j.details.disk.kind).toBe('rhel5');
    expect(j.details.disk.details.members.map((m) => m.name)).toEqual(['2.6.18-398.el5/i686/modlike32.ko']);
  });
});

describe('dudkit inspect (USB image)', () => {
  it('shows the partition, both labels and the tree with long names', () => {
    const r = dudkit(['inspect', join(dir, 'usb.img')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('disk image: MBR partition type 0x0c at sector 2048');
    expect(r.stdout).toContain('label OEMDRV (root directory), OEMDRV (boot sector): found automatically by the installer');
    const files = readdirSync(dir);
    expect(files).toContain('usb.img');
    expect(r.stdout).toMatch(/^- +\d+ \/rpms\/x86_64\/kmod-acme-acmenet-2\.4\.1-3\.362\.8\.1\.el9_3\.x86_64\.rpm {2}\(KMOD-A~1\.RPM\)$/m);
    const j = JSON.parse(dudkit(['inspect', join(dir, 'usb.img'), '--json']).stdout) as { kind: string; label: string; bootLabel: string; partition: { type: number; startSector: number } };
    expect(j).toMatchObject({ kind: 'fat', label: 'OEMDRV', bootLabel: 'OEMDRV', partition: { type: 12, startSector: 2048 } });
  });
});
