export { checkRom, type EfiReport, type PcirReport, type RomImageReport, type RomReport, type SubHeaderReport } from './check.js';
export { describeRom } from './describe.js';
export { isElf, romBytesFromElf } from './elf.js';
export { fixRom, type FixOptions, type FixResult } from './fix.js';
export { isRomSignature } from './layout.js';
