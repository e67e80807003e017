/**
 * USB delivery (`delivery.md` §5): a disk image with an MBR and one FAT32 partition labelled
 * OEMDRV holding the driver disk's tree (default), or the disk's ISO image for writing raw.
 */
import { z } from 'zod';
import { checksumFiles } from '../src/emit/derived.js';
import { Tree } from '../src/tree/tree.js';
import { defineLayout } from './types.js';

export const usbOptions = z.strictObject({
  out: z.string().min(1).optional(),
  of: z.enum(['rhdd3', 'rhel5']).default('rhdd3'),
  /** fat: partitioned image with a FAT32 OEMDRV partition; iso: the ISO image, for `dd` to a stick. */
  form: z.enum(['fat', 'iso']).default('fat'),
  label: z
    .string()
    .regex(/^[A-Z0-9_-]{1,11}$/, 'must be 1–11 of A–Z 0–9 _ - (a FAT label); OEMDRV enables automatic detection')
    .default('OEMDRV'),
  checksums: z.array(z.enum(['md5', 'sha256'])).default(['sha256']),
});

export const usb = defineLayout({
  kind: 'usb',
  options: usbOptions,
  defaultOut: (set) => `dd-${set.meta.name}-usb.img`,
  plan(_set, o, env) {
    const inner = env.inner(o.of);
    const tree = new Tree().graft('', inner.tree);
    return {
      tree,
      // the packages are the inner disk's: its rules decided them
      decisions: (inner.decisions ?? []).map((d) => `the ${o.of} disk it holds: ${d}`),
      medium: o.form === 'fat' ? { kind: 'fat', label: o.label } : { kind: 'iso', volumeId: o.label.replace(/-/g, '_'), joliet: false, implantMd5: false },
      derived: checksumFiles(o.checksums),
      notes: [`write it to a stick: dd if=${env.outName} of=/dev/sdX bs=4M conv=fsync (the installer finds the ${o.label} label by itself)`],
    };
  },
});
