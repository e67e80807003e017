/**
 * A package recipe as a tree entry: the RPM is written when the tree is resolved, keyed by the
 * recipe and the writer's options, so that a build writes each package once however many media
 * carry it (an `rhdd3` disk, the same disk inside `pxe`, `usb` and `attach`).
 */
import { writeRpm, type RpmPackage, type WriteRpmOptions } from '../formats/rpm/write.js';
import { identityOf } from '../tree/identity.js';
import type { Generated } from '../tree/tree.js';

export function generatedRpm(spec: RpmPackage, options: Omit<WriteRpmOptions, 'progress'> = {}): Generated {
  // a signing callback makes the key undefined: such packages are written each time
  const key = identityOf(['rpm', spec, options]);
  return {
    kind: 'generated',
    deps: [],
    ...(key !== undefined ? { key } : {}),
    build: (_deps, scratch, run) => writeRpm(spec, scratch, { ...options, progress: run.progress }),
  };
}
