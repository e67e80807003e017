export { planFat, MIN_CLUSTERS, PARTITION_START, type FatOptions, type FatPlan, type FatItem, type FatChild } from './plan.js';
export { writeFatImage } from './write.js';
export { lfnChecksum } from './names.js';
