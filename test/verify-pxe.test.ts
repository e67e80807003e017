import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { ACME } from './helpers/manifest.js';

const dir = tempDir();
let notes: Record<string, string[]> = {};
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const sh = (script: string, cwd = dir) => run('sh', ['-c', script], { cwd });

beforeAll(async () => {
  writeFileSync(
    join(dir, 'm.yaml'),
    `${ACME}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
firmware:
  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }
targets:
  - rhdd3: { out: dd.iso }
  - pxe: { out: dd.cpio.gz }
  - pxe: { out: dd.cpio, compression: none }
  - rhel5: { out: el5.iso, kernels: [${K93}] }
`,
  );
  const built = await build(join(dir, 'm.yaml'), { outDir: dir, ctx: createContext({ epoch: 1700000000, onWarn: () => {} }) });
  notes = Object.fromEntries(built.targets.map((t) => [t.path, t.notes]));
});

/** A cpio made by GNU cpio from files in a folder: `names` fed on stdin, then `post` (e.g. gzip). */
function gnuCpio(name: string, files: Record<string, string>, format: string, post = 'cat'): string {
  const src = join(dir, `${name}.d`);
  for (const [to, from] of Object.entries(files)) {
    mkdirSync(join(src, to, '..'), { recursive: true });
    copyFileSync(from, join(src, to));
  }
  const out = join(dir, name);
  expect(sh(`printf '%s\\n' ${Object.keys(files).join(' ')} | cpio -o --quiet -H ${format} | ${post} > ${out}`, src).status).toBe(0);
  return out;
}

describe('dudkit verify (PXE overlay)', () => {
  it('gzip -t, cpio -t and cpio -itv accept the built overlay; verify passes and prints the kernel argument', () => {
    const gz = join(dir, 'dd.cpio.gz');
    expect(run('gzip', ['-t', gz]).status).toBe(0);
    expect(sh(`zcat ${gz} | head -c 6`).stdout).toBe('070701');
    expect(sh(`zcat ${gz} | cpio -it --quiet`).stdout).toBe('dd.iso\n');
    const size = statSync(join(dir, 'dd.iso')).size;
    expect(sh(`zcat ${gz} | cpio -itv --quiet`).stdout).toMatch(new RegExp(`^-rw-r--r-- +1 root +root +${size} `));
    expect(sh(`zcat ${gz} | cpio -i --quiet --to-stdout dd.iso | cmp - dd.iso`).status).toBe(0);
    const r = dudkit(['verify', gz]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${gz}: PXE initrd overlay, gzip, newc cpio of ${statSync(join(dir, 'dd.cpio')).size} bytes`);
    expect(r.stdout).toContain('kernel arguments (RHEL 7–10): inst.dd=/dd.iso');
    expect(r.stdout).toContain('dd.iso: rhdd3 disk, OK');
    expect(r.stdout).toMatch(/OK: 0 errors, 0 warnings$/m);
  });

  it('an uncompressed overlay passes too (GNU cpio -t/-itv/-i agree); its length is a multiple of 4', () => {
    const raw = join(dir, 'dd.cpio');
    const r = dudkit(['verify', raw, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { kind: string; details: { compression: string; archiveSize: number } };
    expect(doc.kind).toBe('pxe');
    expect(doc.details.compression).toBe('none');
    expect(doc.details.archiveSize % 4).toBe(0);
    expect(doc.details.archiveSize).toBe(statSync(raw).size);
    expect(sh(`head -c 6 ${raw}`).stdout).toBe('070701');
    expect(sh(`cpio -it --quiet < ${raw}`)).toMatchObject({ status: 0, stdout: 'dd.iso\n' });
    const size = statSync(join(dir, 'dd.iso')).size;
    expect(sh(`cpio -itv --quiet < ${raw}`).stdout).toMatch(new RegExp(`^-rw-r--r-- +1 root +root +${size} `));
    expect(sh(`cpio -i --quiet --to-stdout dd.iso < ${raw} | cmp - dd.iso`).status).toBe(0);
    // the same archive as the gzip overlay's payload
    expect(sh(`zcat dd.cpio.gz | cmp - ${raw}`).status).toBe(0);
  });

  it('GNU cpio -H newc | gzip -9 (the reference producer) with a RHEL 5 dd.img: no kernel argument for RHEL 5/6', () => {
    const gz = gnuCpio('el5.cpio.gz', { 'dd.img': join(dir, 'el5.iso') }, 'newc', 'gzip -9');
    const r = dudkit(['verify', gz]);
    expect(r.stdout).toContain('kernel arguments (RHEL 5/6): (none: the installer loads /dd.img by itself; do not add dd=path:/dd.img)');
    expect(r.stdout).toContain('dd.img: rhel5 disk, OK');
    expect(r.status).toBe(0);
  });

  it('the nested disk says how the installer finds it: the kernel argument the pxe layout printed, or /dd.img by itself on RHEL 5/6', () => {
    const gz = join(dir, 'dd.cpio.gz');
    // the pxe layout's own note for this overlay names the argument (delivery.md §4.3)
    expect(notes[gz]).toContain('kernel argument: inst.dd=/dd.iso');
    const doc = JSON.parse(dudkit(['verify', gz, '--json']).stdout) as { findings: { code: string; subject: string; message: string }[]; details: { nested: { member: string; details: { foundBy?: string } }[] } };
    // anaconda dracut/parse-anaconda-dd.sh + driver_updates.py main(): inst.dd=/dd.iso names the
    // file in the initramfs ("--disk /dd.iso /dd.iso", mounted and scanned); its label plays no part
    expect(doc.details.nested[0]!.details.foundBy).toBe("inst.dd=/dd.iso on the installer's kernel command line (RHEL 7–10), with the overlay as a second initrd");
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: 'FOUND_THROUGH_OUTER', subject: 'dd.iso' }));
    expect(doc.findings.map((f) => f.code)).not.toContain('LABEL_OEMDRV');
    expect(dudkit(['verify', gz]).stdout).toContain("(label OEMDRV, found through inst.dd=/dd.iso on the installer's kernel command line");
    // RHEL 5 loader: a dd.img in the initrd root is loaded without any argument (rhel5-dud.md, delivery.md §1)
    const el5 = gnuCpio('el5-found.cpio.gz', { 'dd.img': join(dir, 'el5.iso') }, 'newc', 'gzip -9');
    const t = dudkit(['verify', el5]);
    expect(t.stdout).toContain('RHEL 4/5 driver disk "acmenet-2.4.1 driver disk" (label OEMDRV, found through the initrd: RHEL 5/6 load /dd.img from it without an argument (RHEL 7–10 need inst.dd=/dd.img))');
    expect(t.status).toBe(0);
  });

  it('a dd.rpm member is opened as an RPM (RHEL 7–10 only)', () => {
    const gz = gnuCpio('rpm.cpio.gz', { 'dd.rpm': join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm') }, 'newc', 'gzip -9');
    const r = dudkit(['verify', gz, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { findings: { subject: string; message: string }[]; details: { kernelArguments: { release: string; arguments: string }[] } };
    expect(doc.findings).toContainEqual({ code: 'PXE_RPM', severity: 'info', subject: 'dd.rpm', message: 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64: RHEL 7–10 install it with inst.dd=/dd.rpm; RHEL 5/6 take only disk images' });
    expect(doc.details.kernelArguments).toEqual([{ release: 'RHEL 7–10', arguments: 'inst.dd=/dd.rpm' }]);
  });

  it('an odc archive (GNU cpio -H odc) fails with the kernel message', () => {
    const gz = gnuCpio('odc.cpio.gz', { 'dd.iso': join(dir, 'dd.iso') }, 'odc', 'gzip');
    expect(sh(`zcat ${gz} | cpio -it --quiet`).stdout).toBe('dd.iso\n');
    const r = dudkit(['verify', gz]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('error: odc cpio archive (070707): the kernel rejects it ("incorrect cpio method used: use -H newc option")');
  });

  it('a crc archive (GNU cpio -H crc) fails too', () => {
    const r = dudkit(['verify', gnuCpio('crc.cpio', { 'dd.iso': join(dir, 'dd.iso') }, 'crc')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('error: crc cpio archive (070702)');
  });

  it('a member in a subfolder without a directory entry is not unpacked by the kernel', () => {
    const r = dudkit(['verify', gnuCpio('sub.cpio.gz', { 'sub/dd.iso': join(dir, 'dd.iso') }, 'newc', 'gzip')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("error: sub/dd.iso: is in sub/, which has no directory entry before it: the kernel's unpacker does not create missing parents, so it is not unpacked");
    expect(r.stdout).toContain('error: no dd.iso, dd<N>.iso, dd.img or dd.rpm at the archive root');
  });

  it('an xz overlay is a warning naming the kernel option; a broken nested disk is an error', () => {
    const xz = join(dir, 'dd.cpio.xz');
    expect(sh(`zcat dd.cpio.gz | xz -T1 > ${xz}`).status).toBe(0);
    const w = dudkit(['verify', xz]);
    expect(w.status).toBe(0);
    expect(w.stdout).toContain('warning: xz-compressed: every RHEL kernel unpacks gzip initramfs segments, xz only with CONFIG_RD_XZ=y in the installer kernel; use gzip');
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(4096, 0x41));
    const r = dudkit(['verify', gnuCpio('junk.cpio.gz', { 'dd.iso': junk }, 'newc', 'gzip')]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error: dd\.iso: not an ISO 9660 or FAT image/);
  });

  it('a truncated overlay fails with the point where the kernel stops', () => {
    const cut = join(dir, 'cut.cpio');
    writeFileSync(cut, readFileSync(join(dir, 'dd.cpio')).subarray(0, 5000));
    expect(sh(`cpio -it --quiet < ${cut}`).status).not.toBe(0);
    const r = dudkit(['verify', cut]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error: .*truncated|error: .*ends/);
  });
});

describe('dudkit inspect (initrd)', () => {
  it('an initrd with the overlay appended: both segments, members, and the nested disk verified', () => {
    const base = join(dir, 'initrd.img');
    expect(sh(`printf abc > f1 && echo f1 | cpio -o --quiet -H newc > ${base}`).status).toBe(0);
    const both = join(dir, 'initrd-dd.img');
    expect(sh(`cat ${base} dd.cpio.gz > ${both}`).status).toBe(0);
    // the kernel's view, as cpio sees each part
    expect(sh(`tail -c +$(( $(stat -c %s ${base}) + 1 )) ${both} | zcat | cpio -it --quiet`).stdout).toBe('dd.iso\n');
    const r = dudkit(['inspect', both]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('initrd with 2 segment(s)');
    expect(r.stdout).toContain('segment at offset 0: uncompressed, 1 member(s)\n  -rw-r--r-- 0/0            3 f1');
    expect(r.stdout).toContain(`segment at offset 512: gzip, 1 member(s)\n  -rw-r--r-- 0/0 ${String(statSync(join(dir, 'dd.iso')).size).padStart(12)} dd.iso`);
    expect(r.stdout).toContain('dd.iso: rhdd3 driver disk, verify OK');
    expect(r.stdout).toContain('ISO 9660 image, volume id "OEMDRV"');
    const j = JSON.parse(dudkit(['inspect', both, '--json']).stdout) as { kind: string; nested: { member: string; inspect: { kind: string }; verify: { ok: boolean } }[] };
    expect(j.kind).toBe('initrd');
    expect(j.nested).toEqual([expect.objectContaining({ member: 'dd.iso', inspect: expect.objectContaining({ kind: 'iso9660' }), verify: expect.objectContaining({ ok: true }) })]);
  });

  it('an odc archive is listed with the reason the kernel does not unpack it', () => {
    const gz = gnuCpio('odc-inspect.cpio.gz', { 'dd.iso': join(dir, 'dd.iso') }, 'odc', 'gzip');
    const r = dudkit(['inspect', gz]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cpio archive that the kernel does not unpack: odc cpio (070707): the kernel rejects it ("incorrect cpio method used: use -H newc option")');
    expect(r.stdout).toMatch(/-rw-r--r-- 0\/0 +\d+ dd\.iso/);
  });
});
