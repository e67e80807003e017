/**
 * PXE delivery (`delivery.md` §4): a newc cpio(.gz) holding the driver disk image at its root, to
 * list beside the installer's initrd (or append to it); prints the kernel arguments to use.
 */
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { UserError } from '../src/errors.js';
import { nestedMedium } from '../src/emit/nested.js';
import { Tree } from '../src/tree/tree.js';
import { defineLayout, type Plan } from './types.js';

export const pxeOptions = z.strictObject({
  out: z.string().min(1).optional(),
  /** The medium to carry: a RHEL 6–10 disk (rhdd3) or a RHEL 4/5 disk (rhel5). */
  of: z.enum(['rhdd3', 'rhel5']).default('rhdd3'),
  /** Member name at the archive root: dd.iso for RHEL 7–10 (default); RHEL 5/6 load exactly /dd.img (default for rhel5). */
  member: z
    .string()
    .regex(/^dd[A-Za-z0-9_-]*\.(iso|img|rpm)$/, 'must be a bare name like dd.iso, dd2.iso or dd.img')
    .optional(),
  compression: z.enum(['gzip', 'none']).default('gzip'),
  checksums: z.array(z.enum(['md5', 'sha256'])).default(['sha256']),
});

/** The disk as an image, whatever the inner target's own output format is. */
function asImage(inner: Plan): Plan {
  if (inner.medium.kind === 'iso') return inner;
  if (inner.medium.kind !== 'directory') throw new UserError(`of: the inner medium is a ${inner.medium.kind}, not a disk image`);
  return { ...inner, medium: { kind: 'iso', volumeId: 'OEMDRV', joliet: false, implantMd5: false } };
}

export const pxe = defineLayout({
  kind: 'pxe',
  options: pxeOptions,
  defaultOut: () => 'dd.cpio.gz',
  plan(_set, o, env) {
    const inner = asImage(env.inner(o.of));
    const member = o.member ?? (o.of === 'rhel5' ? 'dd.img' : 'dd.iso');
    if (o.of === 'rhel5' && member !== 'dd.img') throw new UserError(`member: RHEL 4/5 load exactly /dd.img from the initrd, not /${member}`);
    const tree = new Tree().file(member, nestedMedium(inner, member, env));
    const legacy = member === 'dd.img';
    return {
      tree,
      // the packages are the inner disk's: its rules decided them
      decisions: (inner.decisions ?? []).map((d) => `the ${o.of} disk in ${member}: ${d}`),
      medium: { kind: 'cpio', compression: o.compression },
      derived: checksumFiles(o.checksums),
      notes: [
        legacy
          ? 'RHEL 5/6: no kernel argument needed, the installer loads /dd.img from the initrd by itself (do not add dd=path:/dd.img: RHEL 6 would load it twice); RHEL 7–10: add inst.dd=/dd.img'
          : `kernel argument: inst.dd=/${member}`,
        `PXELINUX: APPEND initrd=initrd.img,${env.outName} … inst.dd=/${member}`,
        `GRUB 2:   linux vmlinuz … inst.dd=/${member}`,
        `          initrd initrd.img ${env.outName}   (initrdefi on older RHEL UEFI configs)`,
        `or append it to the initrd: pad initrd.img with NULs to a multiple of 4 bytes, then cat initrd.img ${env.outName} > initrd-dd.img`,
      ],
    };
  },
});
