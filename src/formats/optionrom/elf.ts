/**
 * The bytes of an option ROM built as an ELF file (option-rom.md §9.1), what `objcopy -O binary`
 * would write: a 32-bit x86 relocatable object with exactly one allocatable section (its REL
 * relocations against that section applied, as if linked at 0), or a linked executable (its
 * `PT_LOAD` segments laid out from the lowest physical address).
 */
import { FormatError } from '../../errors.js';
import { cString, ElfReader, ET_REL, parseElf, SHT_NOBITS, type ElfSection } from '../elf/elf.js';

const ET_EXEC = 2;
const EM_386 = 3;
const SHF_ALLOC = 0x2;
const SHT_RELA = 4;
const SHT_REL = 9;
const PT_LOAD = 1;
const R_386_32 = 1;
const R_386_16 = 20;
/** More than any PCI ROM can hold (PCIR image length is 16 bits of 512-byte blocks). */
const MAX_IMAGE = 0xffff * 512;

export const isElf = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;

/** The ROM bytes an ELF file holds; any other input is returned as it is. */
export function romBytesFromElf(b: Uint8Array): Uint8Array {
  if (!isElf(b)) return b;
  if (b.length < 52 || b[4] !== 1 || b[5] !== 1) throw new FormatError('an ELF file that is not 32-bit little-endian: option ROMs are built for 32-bit x86 (gcc -m32 -c, as --32, ld -m elf_i386)');
  const r = new ElfReader(b, true, 32);
  const type = r.u16(16, 'e_type');
  const machine = r.u16(18, 'e_machine');
  if (machine !== EM_386) throw new FormatError(`an ELF file for machine ${machine}, not i386 (3): build the ROM with gcc -m32, as --32 or ld -m elf_i386`);
  if (type === ET_REL) return relocatable(b, r);
  if (type === ET_EXEC) return executable(b, r);
  throw new FormatError(`ELF type ${type} is neither a relocatable object (1) nor an executable (2)`);
}

function relocatable(b: Uint8Array, r: ElfReader): Uint8Array {
  const elf = parseElf(b);
  const loaded = elf.sections.filter((s) => s.index > 0 && (s.flags & SHF_ALLOC) !== 0 && s.type !== SHT_NOBITS && s.size > 0);
  if (loaded.length !== 1) {
    const names = loaded.map((s) => s.name).join(', ') || 'none';
    throw new FormatError(`a relocatable ELF object needs exactly one allocatable section with contents to be an option ROM (it has: ${names}): link it first (ld -m elf_i386 -Ttext 0) or use objcopy -O binary -j .text`);
  }
  const text = loaded[0]!;
  const out = b.slice(text.offset, text.offset + text.size);
  for (const rel of elf.sections.filter((s) => (s.type === SHT_REL || s.type === SHT_RELA) && s.info === text.index)) {
    if (rel.type === SHT_RELA) throw new FormatError(`section ${rel.name} holds RELA relocations; i386 objects use REL: link the ROM first`);
    applyRelocations(b, r, elf.sections, rel, text, out);
  }
  return out;
}

function applyRelocations(b: Uint8Array, r: ElfReader, sections: ElfSection[], rel: ElfSection, text: ElfSection, out: Uint8Array): void {
  const symtab = sections[rel.link];
  if (!symtab) throw new FormatError(`relocation section ${rel.name} names symbol table ${rel.link}, which is not a section`);
  const strtab = sections[symtab.link];
  const names = strtab ? b.subarray(strtab.offset, strtab.offset + strtab.size) : new Uint8Array(0);
  const count = Math.floor(rel.size / 8);
  for (let i = 0; i < count; i++) {
    const at = rel.offset + i * 8;
    const offset = r.u32(at, `${rel.name} r_offset`);
    const info = r.u32(at + 4, `${rel.name} r_info`);
    const kind = info & 0xff;
    const sym = info >>> 8;
    const symAt = symtab.offset + sym * 16;
    if (sym === 0 || symAt + 16 > symtab.offset + symtab.size) throw new FormatError(`${rel.name}: relocation ${i} names symbol ${sym}, which is not in the symbol table`);
    const value = r.u32(symAt + 4, 'st_value');
    const shndx = r.u16(symAt + 14, 'st_shndx');
    if (shndx !== text.index) {
      const nameOffset = r.u32(symAt, 'st_name');
      const name = nameOffset > 0 && strtab ? cString(names, nameOffset, 'symbol name') : `symbol ${sym}`;
      throw new FormatError(`${rel.name}: relocation at ${text.name}+0x${offset.toString(16)} refers to ${name}, which is not in ${text.name}: link the ROM first`);
    }
    const width = kind === R_386_32 ? 4 : kind === R_386_16 ? 2 : 0;
    if (width === 0) throw new FormatError(`${rel.name}: relocation type ${kind} at ${text.name}+0x${offset.toString(16)} is not R_386_16 or R_386_32: link the ROM first`);
    if (offset + width > out.length) throw new FormatError(`${rel.name}: relocation at 0x${offset.toString(16)} lies outside ${text.name} (${out.length} bytes)`);
    // REL: the addend is the field's own value; the section is placed at 0, so S is the symbol's section offset
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    if (width === 4) view.setUint32(offset, (view.getUint32(offset, true) + value) >>> 0, true);
    else view.setUint16(offset, (view.getUint16(offset, true) + value) & 0xffff, true);
  }
}

function executable(b: Uint8Array, r: ElfReader): Uint8Array {
  const phoff = r.u32(28, 'e_phoff');
  const phentsize = r.u16(42, 'e_phentsize');
  const phnum = r.u16(44, 'e_phnum');
  if (phentsize < 32) throw new FormatError(`e_phentsize ${phentsize} is smaller than an ELF32 program header (32)`);
  const segments = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (r.u32(at, 'p_type') !== PT_LOAD) continue;
    const offset = r.u32(at + 4, 'p_offset');
    const paddr = r.u32(at + 12, 'p_paddr');
    const filesz = r.u32(at + 16, 'p_filesz');
    if (filesz === 0) continue;
    if (offset + filesz > b.length) throw new FormatError(`program header ${i}: its ${filesz} bytes at offset ${offset} lie past the end of the file (${b.length} bytes)`);
    segments.push({ offset, paddr, filesz });
  }
  if (segments.length === 0) throw new FormatError('an ELF executable without a PT_LOAD segment with contents: nothing to make a ROM of');
  const base = Math.min(...segments.map((s) => s.paddr));
  const length = Math.max(...segments.map((s) => s.paddr + s.filesz)) - base;
  if (length > MAX_IMAGE) throw new FormatError(`the loaded segments span ${length} bytes, more than a PCI option ROM can hold (${MAX_IMAGE})`);
  const out = new Uint8Array(length);
  for (const s of segments) out.set(b.subarray(s.offset, s.offset + s.filesz), s.paddr - base);
  return out;
}
