/**
 * The part of ELF a kernel-module reader needs: the header and the section table of a
 * relocatable object, 32- or 64-bit, either byte order (elf-modinfo.md "ELF header", "Section
 * headers"). Every offset is checked against the buffer before it is read.
 */
import { FormatError } from '../../errors.js';

export const ET_REL = 1;
export const SHT_NOBITS = 8;
const SHN_XINDEX = 0xffff;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface Elf {
  bits: 32 | 64;
  littleEndian: boolean;
  type: number;
  machine: number;
  sections: ElfSection[];
  /** Bytes the ELF covers (what readers were given; a signature trailer is not part of it). */
  length: number;
}

/** Field reads in the file's byte order, each checked against the buffer. */
export class ElfReader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
    readonly bits: 32 | 64,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(offset: number, size: number, what: string): void {
    if (offset < 0 || offset + size > this.bytes.length) {
      throw new FormatError(`truncated ELF: ${what} at offset ${offset} (${size} bytes) lies beyond the end (${this.bytes.length} bytes)`);
    }
  }

  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, this.littleEndian);
  }

  u64(offset: number, what: string): number {
    this.check(offset, 8, what);
    const v = this.view.getBigUint64(offset, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`${what} is too large (${v})`);
    return Number(v);
  }

  /** An address-sized field: 4 bytes on ELF32, 8 on ELF64. */
  word(offset: number, what: string): number {
    return this.bits === 64 ? this.u64(offset, what) : this.u32(offset, what);
  }
}

/** Section header field offsets (ELF32, ELF64). */
const SH = {
  32: { name: 0, type: 4, flags: 8, offset: 16, size: 20, link: 24, info: 28, entsize: 36, min: 40 },
  64: { name: 0, type: 4, flags: 8, offset: 24, size: 32, link: 40, info: 44, entsize: 56, min: 64 },
} as const;

/** Parse the header and section table; section data is checked to lie inside `bytes`. */
export function parseElf(bytes: Uint8Array): Elf {
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new FormatError('not an ELF file (bad magic)');
  }
  const cls = bytes[4];
  const data = bytes[5];
  if (cls !== 1 && cls !== 2) throw new FormatError(`bad ELF class ${cls} (expected 1 = 32-bit or 2 = 64-bit)`);
  if (data !== 1 && data !== 2) throw new FormatError(`bad ELF data encoding ${data} (expected 1 = little- or 2 = big-endian)`);
  if (bytes[6] !== 1) throw new FormatError(`bad ELF version ${bytes[6]} in e_ident`);
  const bits = cls === 2 ? 64 : 32;
  const r = new ElfReader(bytes, data === 1, bits);
  const ehsize = bits === 64 ? 64 : 52;
  if (bytes.length < ehsize) throw new FormatError(`truncated ELF: ${bytes.length} bytes, the ELF${bits} header needs ${ehsize}`);

  const type = r.u16(16, 'e_type');
  if (type !== ET_REL) throw new FormatError(`ELF type ${type} is not a relocatable object (kernel modules are ET_REL = 1)`);
  const machine = r.u16(18, 'e_machine');
  const shoff = bits === 64 ? r.u64(40, 'e_shoff') : r.u32(32, 'e_shoff');
  const shentsize = r.u16(bits === 64 ? 58 : 46, 'e_shentsize');
  let shnum = r.u16(bits === 64 ? 60 : 48, 'e_shnum');
  let shstrndx = r.u16(bits === 64 ? 62 : 50, 'e_shstrndx');
  const f = SH[bits];

  if (shoff === 0) throw new FormatError('ELF has no section header table (e_shoff = 0)');
  if (shentsize < f.min) throw new FormatError(`e_shentsize ${shentsize} is smaller than an ELF${bits} section header (${f.min})`);
  if (shoff + shentsize > bytes.length) {
    throw new FormatError(`section header table at e_shoff ${shoff} lies beyond the end of the file (${bytes.length} bytes)`);
  }
  // Escapes for more than 0xff00 sections: the real values live in section 0.
  if (shnum === 0) shnum = r.word(shoff + f.size, 'section 0 sh_size (e_shnum escape)');
  if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + f.link, 'section 0 sh_link (e_shstrndx escape)');
  if (shnum === 0) throw new FormatError('ELF has no sections');
  if (shoff + shnum * shentsize > bytes.length) {
    throw new FormatError(`section header table (${shnum} × ${shentsize} bytes at ${shoff}) runs past the end of the file (${bytes.length} bytes)`);
  }
  if (shstrndx >= shnum) throw new FormatError(`e_shstrndx ${shstrndx} is not a section (there are ${shnum})`);

  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    const s = {
      index: i,
      nameOffset: r.u32(at + f.name, `section ${i} sh_name`),
      type: r.u32(at + f.type, `section ${i} sh_type`),
      flags: r.word(at + f.flags, `section ${i} sh_flags`),
      offset: r.word(at + f.offset, `section ${i} sh_offset`),
      size: r.word(at + f.size, `section ${i} sh_size`),
      link: r.u32(at + f.link, `section ${i} sh_link`),
      info: r.u32(at + f.info, `section ${i} sh_info`),
      entsize: r.word(at + f.entsize, `section ${i} sh_entsize`),
    };
    // Section 0 is the null section; with the escapes its size field holds a count, not bytes.
    if (i > 0 && s.type !== SHT_NOBITS && s.offset + s.size > bytes.length) {
      throw new FormatError(`section ${i} (offset ${s.offset}, size ${s.size}) lies beyond the end of the file (${bytes.length} bytes)`);
    }
    raw.push(s);
  }
  const strtab = raw[shstrndx]!;
  if (strtab.type === SHT_NOBITS || shstrndx === 0) throw new FormatError(`section ${shstrndx} (e_shstrndx) holds no section names`);
  const names = bytes.subarray(strtab.offset, strtab.offset + strtab.size);
  const sections = raw.map(({ nameOffset, ...s }) => ({ ...s, name: cString(names, nameOffset, `name of section ${s.index}`) }));
  return { bits, littleEndian: data === 1, type, machine, sections, length: bytes.length };
}

/** A NUL-terminated string at `offset` inside `table`. */
export function cString(table: Uint8Array, offset: number, what: string): string {
  if (offset >= table.length) throw new FormatError(`${what}: string offset ${offset} is outside its table (${table.length} bytes)`);
  const end = table.indexOf(0, offset);
  if (end < 0) throw new FormatError(`${what}: string at ${offset} is not NUL-terminated`);
  return utf8.decode(table.subarray(offset, end));
}

const utf8 = new TextDecoder('utf-8');

/** The file bytes of a section (empty for SHT_NOBITS), or undefined if there is none by that name. */
export function sectionData(elf: Elf, bytes: Uint8Array, name: string): Uint8Array | undefined {
  const s = elf.sections.find((x) => x.name === name);
  if (!s) return undefined;
  if (s.type === SHT_NOBITS) return new Uint8Array(0);
  return bytes.subarray(s.offset, s.offset + s.size);
}

/** RPM architecture from e_machine, class and byte order (elf-modinfo.md table). */
export function rpmArch(machine: number, bits: 32 | 64, littleEndian: boolean): string {
  const key = `${machine}/${bits}/${littleEndian ? 'le' : 'be'}`;
  const arch = ARCHES[key];
  if (!arch) throw new FormatError(`unsupported ELF machine ${machine} (${bits}-bit ${littleEndian ? 'little' : 'big'}-endian)`);
  return arch;
}

const ARCHES: Record<string, string> = {
  '62/64/le': 'x86_64',
  '183/64/le': 'aarch64',
  '21/64/le': 'ppc64le',
  '21/64/be': 'ppc64',
  '20/32/be': 'ppc',
  '22/64/be': 's390x',
  '22/32/be': 's390',
  '3/32/le': 'i686',
  '40/32/le': 'armv7hl',
  '243/64/le': 'riscv64',
  '258/64/le': 'loongarch64',
  '43/64/be': 'sparc64',
  '8/32/le': 'mipsel',
  '8/32/be': 'mips',
  '8/64/le': 'mips64el',
  '8/64/be': 'mips64',
};
