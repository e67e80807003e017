/** RHEL 6–10 driver update disks (`verify/rhdd3.ts`): found the way anaconda's `find_repos()` does. */
import { findDisks, rhdd3Text, verifyRhdd3 } from '../verify/rhdd3.js';
import { diskReader } from './disk.js';

export const rhdd3Reader = diskReader({
  kind: 'rhdd3',
  bid: 50,
  holds: (m) => findDisks(m).length > 0,
  check: (m, { kernels, foundBy, kabi, ctx }) => verifyRhdd3(m, findDisks(m), kernels, { foundBy, kabi, progress: ctx.progress }),
  text: rhdd3Text,
  inspectImage: 'image',
});
