/**
 * FAT32 disk images (MBR + one FAT32 partition at 1 MiB, type 0x0C), written in two steps:
 *
 *   const plan = planFat(entries, { label: 'OEMDRV', epoch });   // geometry + every cluster placed
 *   for await (const chunk of writeFatImage(plan)) sink(chunk);   // exactly plan.imageSize bytes
 *
 * `FatReader` reads FAT12/16/32 back (bare, or the first FAT partition of an MBR disk image);
 * `replaceFatFiles` rewrites files inside an existing image (the grub.cfg in efiboot.img).
 *
 * `planFat` throws RangeError for what FAT cannot hold (symlinks, files ≥ 4 GiB, names equal but
 * for case, forbidden characters, bad labels); `asUserError` turns it into a one-line user error.
 */
export { planFat, MIN_CLUSTERS, PARTITION_START, type FatOptions, type FatPlan, type FatItem, type FatChild } from './plan.js';
export { writeFatImage } from './write.js';
export { lfnChecksum } from './names.js';
export { FatReader, parseDirectory, type FatVolumeInfo, type FatFileRead } from './read.js';
export { replaceFatFiles } from './edit.js';
