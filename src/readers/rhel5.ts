/** RHEL 4/5 driver disks (`verify/rhel5.ts`): a root `rhdd` file, as loader2 looks for it. */
import { isRhel5Disk, rhel5Text, verifyRhel5 } from '../verify/rhel5.js';
import { diskReader } from './disk.js';

export const rhel5Reader = diskReader({
  kind: 'rhel5',
  // below rhdd3: a medium with both is read by RHEL 6+ as an rhdd3 disk
  bid: 40,
  holds: isRhel5Disk,
  check: (m, { kernels, foundBy }) => verifyRhel5(m, kernels, foundBy),
  text: rhel5Text,
  inspectImage: 'image',
});
