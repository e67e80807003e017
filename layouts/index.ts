import { attach } from './attach.js';
import { pxe } from './pxe.js';
import { rhdd3 } from './rhdd3.js';
import { releaseZip } from './release-zip.js';
import { rhel5 } from './rhel5.js';
import type { Layout } from './types.js';
import { usb } from './usb.js';
import { xenserverLegacy } from './xenserver-legacy.js';
import { xenserverUpdate } from './xenserver-update.js';

/** Every target kind dudkit builds. Adding a medium: one module here and one line below. */
export const layouts: Layout[] = [rhdd3, rhel5, pxe, usb, attach, xenserverLegacy, xenserverUpdate, releaseZip];

export function findLayout(kind: string): Layout | undefined {
  return layouts.find((l) => l.kind === kind);
}
