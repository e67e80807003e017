/**
 * A module's symbol table as modpost reads it: the kernel symbols it exports (`__ksymtab_<sym>`
 * markers, their `__crc_<sym>` CRCs and `__kstrtabns_<sym>` namespaces) and the ones it leaves
 * undefined (what it imports). Pure: the parsed ELF and its bytes in, names out.
 */
import { FormatError } from '../../errors.js';
import { cString, ElfReader, SHT_NOBITS, type Elf } from './elf.js';

const SHT_SYMTAB = 2;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const SHN_LORESERVE = 0xff00;

export interface ElfSymbol {
  name: string;
  value: number;
  /** Section index (`SHN_UNDEF` 0, `SHN_ABS` 0xfff1, …). */
  shndx: number;
}

/** A symbol the module exports, as its `Module.symvers` line would show it. */
export interface ExportedSymbol {
  name: string;
  /** From `__crc_<name>`; absent when the module was built without CONFIG_MODVERSIONS. */
  crc?: number;
  /** `EXPORT_SYMBOL` or `EXPORT_SYMBOL_GPL`, from the `__ksymtab*` section the marker is in. */
  type: string;
  namespace?: string;
}

export interface ModuleSymbols {
  exports: ExportedSymbol[];
  /** Undefined symbols: what the kernel or other modules must provide, sorted. */
  imports: string[];
}

/** Every entry of `.symtab` (none when the module was stripped of it). */
export function symbolTable(elf: Elf, bytes: Uint8Array): ElfSymbol[] {
  const table = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (!table) return [];
  const strings = elf.sections[table.link];
  if (!strings || strings.type === SHT_NOBITS) throw new FormatError(`.symtab links to section ${table.link}, which holds no strings`);
  const names = bytes.subarray(strings.offset, strings.offset + strings.size);
  const r = new ElfReader(bytes, elf.littleEndian, elf.bits);
  const size = elf.bits === 64 ? 24 : 16;
  const out: ElfSymbol[] = [];
  for (let at = table.offset + size; at + size <= table.offset + table.size; at += size) {
    // Elf64_Sym: name u32, info u8, other u8, shndx u16, value u64; Elf32_Sym: name, value, size, info, other, shndx
    const nameOffset = r.u32(at, 'st_name');
    const value = elf.bits === 64 ? r.u64(at + 8, 'st_value') : r.u32(at + 4, 'st_value');
    const shndx = r.u16(at + (elf.bits === 64 ? 6 : 14), 'st_shndx');
    out.push({ name: nameOffset === 0 ? '' : cString(names, nameOffset, 'symbol name'), value, shndx });
  }
  return out;
}

/** Exports with CRCs and namespaces, and imports, the way modpost finds them. */
export function moduleSymbols(elf: Elf, bytes: Uint8Array): ModuleSymbols {
  const symbols = symbolTable(elf, bytes);
  const byName = new Map(symbols.map((s) => [s.name, s]));
  const r = new ElfReader(bytes, elf.littleEndian, elf.bits);
  const inSection = (s: ElfSymbol, what: string): number => {
    const section = elf.sections[s.shndx];
    if (!section || section.type === SHT_NOBITS) throw new FormatError(`${what} ${s.name} points into section ${s.shndx}, which holds no data`);
    return section.offset + s.value;
  };
  const exports: ExportedSymbol[] = [];
  for (const s of symbols) {
    if (!s.name.startsWith('__ksymtab_') || s.shndx === SHN_UNDEF || s.shndx >= SHN_LORESERVE) continue;
    const name = s.name.slice('__ksymtab_'.length);
    const section = elf.sections[s.shndx]!.name;
    // `__ksymtab_strings` holds names; its own marker-like symbols are not exports
    if (!section.startsWith('__ksymtab') || section === '__ksymtab_strings') continue;
    const e: ExportedSymbol = { name, type: section.endsWith('_gpl') ? 'EXPORT_SYMBOL_GPL' : 'EXPORT_SYMBOL' };
    const crc = byName.get(`__crc_${name}`);
    // before Linux 5.19 a CRC is the absolute value of `__crc_<sym>`; since, a u32 in `__kcrctab*`
    if (crc) e.crc = crc.shndx === SHN_ABS ? crc.value >>> 0 : r.u32(inSection(crc, 'CRC symbol'), `CRC of ${name}`);
    const ns = byName.get(`__kstrtabns_${name}`);
    if (ns && ns.shndx !== SHN_UNDEF && ns.shndx < SHN_LORESERVE) {
      const namespace = cString(bytes, inSection(ns, 'namespace symbol'), `namespace of ${name}`);
      if (namespace) e.namespace = namespace;
    }
    exports.push(e);
  }
  const imports = [...new Set(symbols.filter((s) => s.shndx === SHN_UNDEF && s.name !== '').map((s) => s.name))].sort();
  return { exports: exports.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), imports };
}
