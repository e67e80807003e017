// Boot configuration edits (delivery.md §6.2): minimal, line-preserving, checked with diff(1).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addKernelArgs, driverDiskArg, kernelLines, kickstartArg, udevEscape } from '../src/formats/bootcfg/kernel-args.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-bootcfg-');

/** `diff` output lines that start with < or > (what changed). */
function changed(a: string, b: string): string[] {
  writeFileSync(join(dir, 'a'), a);
  writeFileSync(join(dir, 'b'), b);
  try {
    execFileSync('diff', [join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' });
    return [];
  } catch (err) {
    return String((err as { stdout: string }).stdout).split('\n').filter((l) => /^[<>]/.test(l));
  }
}

const ISOLINUX = `default vesamenu.c32
timeout 600
label linux
  menu label ^Install Red Hat Enterprise Linux 9.4
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet
label check
  kernel vmlinuz
  APPEND initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 rd.live.check quiet
menu separator # insert an empty line
`;

const GRUB = `set default="1"\r
menuentry 'Install Red Hat Enterprise Linux 9.4' --class red --class gnu-linux --class gnu --class os {\r
\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet   \r
\tinitrdefi /images/pxeboot/initrd.img\r
}\r
menuentry 'Rescue' {\r
\tlinux /images/pxeboot/vmlinuz inst.rescue\r
\tinitrd /images/pxeboot/initrd.img\r
}`;

describe('udev label escaping', () => {
  it('escapes what udev escapes, as lorax udev_escape does', () => {
    expect(udevEscape('RHEL 9')).toBe('RHEL\\x209');
    expect(udevEscape('RHEL-9-4-0-BaseOS-x86_64')).toBe('RHEL-9-4-0-BaseOS-x86_64');
    expect(udevEscape('a/b(c)')).toBe('a\\x2fb\\x28c\\x29');
    expect(udevEscape('#+.:=@_-')).toBe('#+.:=@_-');
    expect(udevEscape('Ünïcode')).toBe('Ünïcode');
    expect(driverDiskArg('Fedora-S-dvd-x86_64-40')).toBe('inst.dd=hd:LABEL=Fedora-S-dvd-x86_64-40');
    expect(driverDiskArg('RHEL 9')).not.toContain(':/');
    expect(kickstartArg('RHEL 9', 'ks.cfg')).toBe('inst.ks=hd:LABEL=RHEL\\x209:/ks.cfg');
  });
});

describe('isolinux.cfg', () => {
  const arg = driverDiskArg('RHEL-9-4-0-BaseOS-x86_64');
  const out = addKernelArgs('isolinux', ISOLINUX, [arg]);

  it('adds the argument at the end of every append line (any case) and diff shows nothing else', () => {
    expect(changed(ISOLINUX, out)).toEqual([
      '<   append initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet',
      `>   append initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet ${arg}`,
      '<   APPEND initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 rd.live.check quiet',
      `>   APPEND initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 rd.live.check quiet ${arg}`,
    ]);
    expect(kernelLines('isolinux', out).every((l) => l.split(' ').filter((w) => w === arg).length === 1)).toBe(true);
  });

  it('is idempotent and keeps existing inst.dd values', () => {
    expect(addKernelArgs('isolinux', out, [arg])).toBe(out);
    const other = '  append initrd=initrd.img inst.dd=http://x/dd.iso\n';
    expect(addKernelArgs('isolinux', other, [arg])).toBe(`  append initrd=initrd.img inst.dd=http://x/dd.iso ${arg}\n`);
  });
});

describe('grub.cfg', () => {
  const arg = driverDiskArg('RHEL-9-4-0-BaseOS-x86_64');
  const ks = kickstartArg('RHEL-9-4-0-BaseOS-x86_64', 'ks.cfg');
  const out = addKernelArgs('grub', GRUB, [arg, ks]);

  it('edits linux and linuxefi lines, keeps CRLF endings, trailing blanks and the missing final newline', () => {
    const lines = out.split('\r\n');
    expect(lines[2]).toBe(`\tlinuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-x86_64 quiet ${arg} ${ks}   `);
    expect(lines[6]).toBe(`\tlinux /images/pxeboot/vmlinuz inst.rescue ${arg} ${ks}`);
    expect(out.endsWith('}')).toBe(true);
    expect(changed(GRUB, out)).toHaveLength(4);
    expect(kernelLines('grub', out)).toHaveLength(2);
  });

  it('puts the argument on the last physical line of a kernel line continued with a backslash', () => {
    const cont = 'menuentry x {\n\tlinux /vmlinuz quiet \\\n\t\tinst.stage2=hd:LABEL=X\n\tinitrd /initrd.img\n}\n';
    const out = addKernelArgs('grub', cont, [arg]);
    expect(out).toBe(`menuentry x {\n\tlinux /vmlinuz quiet \\\n\t\tinst.stage2=hd:LABEL=X ${arg}\n\tinitrd /initrd.img\n}\n`);
    expect(kernelLines('grub', out)).toEqual([`\tlinux /vmlinuz quiet  \t\tinst.stage2=hd:LABEL=X ${arg}`]);
    expect(addKernelArgs('grub', out, [arg])).toBe(out);
  });

  it('leaves initrd and menuentry lines alone', () => {
    expect(out).toContain('\tinitrdefi /images/pxeboot/initrd.img\r\n');
    expect(out.split(arg)).toHaveLength(3);
  });
});

describe('s390 generic.prm', () => {
  const arg = driverDiskArg('RHEL-9-4-0-BaseOS-s390x');

  it('appends to the last line while it stays within 80 columns', () => {
    const prm = 'ro ramdisk_size=40000 cio_ignore=all\n';
    expect(addKernelArgs('prm', prm, [arg])).toBe(`ro ramdisk_size=40000 cio_ignore=all ${arg}\n`);
  });

  it('adds a line of its own when the last line would pass 80 columns', () => {
    const prm = 'ro ramdisk_size=40000 cio_ignore=all,!condev\ninst.stage2=hd:LABEL=RHEL-9-4-0-BaseOS-s390x rd.plymouth=0\n';
    const out = addKernelArgs('prm', prm, [arg]);
    expect(out).toBe(`${prm}${arg}\n`);
    expect(out.split('\n').every((l) => l.length <= 80)).toBe(true);
    expect(kernelLines('prm', out)[0]).toContain(` ${arg}`);
    expect(addKernelArgs('prm', out, [arg])).toBe(out);
  });
});
