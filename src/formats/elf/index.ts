export { parseElf, rpmArch, sectionData, type Elf, type ElfSection } from './elf.js';
export { parseModule, parseModinfo, type ModuleInfo, type ModuleParm, type ModuleVersionCrc } from './module.js';
export { findSignature, signatureTrailer, type ModuleSignature } from './signature.js';
export { moduleSymbols, symbolTable, type ElfSymbol, type ExportedSymbol, type ModuleSymbols } from './symbols.js';
