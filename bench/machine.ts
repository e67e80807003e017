/**
 * What of the machine skews the durable-write cases. On a VM whose balloon reports free memory to
 * the host (virtio-balloon free page reporting, as under Firecracker), memory freed for about two
 * seconds is handed back and the host faults it in again on the next touch: a durable 1 GiB write
 * into the page cache then took 0.5 s or 1.1–3.9 s (cat, dd and dudkit alike) depending only on when
 * the last output was removed. With reporting off, the same runs took 0.53–0.69 s every time.
 */
import { readdirSync, readFileSync } from 'node:fs';

const BALLOON = '/sys/bus/virtio/drivers/virtio_balloon';
const ORDER = '/sys/module/page_reporting/parameters/page_reporting_order';
/** VIRTIO_BALLOON_F_REPORTING, the feature bit (virtio spec 5.5.3). */
const F_REPORTING = 5;
/** Only free blocks of this order or more are reported: above the buddy allocator's largest (10 on x86-64), none are. */
const OFF_ORDER = 11;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A warning when this machine reports free memory to its host, with how to turn that off; else undefined. */
export function memoryReportingWarning(): string | undefined {
  let devices: string[];
  try {
    devices = readdirSync(BALLOON).filter((d) => d.startsWith('virtio'));
  } catch {
    return undefined;
  }
  const reporting = devices.some((d) => read(`${BALLOON}/${d}/features`)?.[F_REPORTING] === '1');
  const order = Number(read(ORDER));
  if (!reporting || !(order < OFF_ORDER)) return undefined;
  return (
    `bench: warning: this VM's balloon reports free memory to the host (${ORDER} = ${order}), so a write into memory freed ` +
    `more than ~2 s before costs a host fault per page, and durable writes of 1 GiB vary 0.5–4 s with the order of the runs. ` +
    `For stable numbers, as root: echo ${OFF_ORDER} > ${ORDER} (and echo ${order} back after).`
  );
}
