/**
 * What `modinfo` knows of a kernel module, read from its (decompressed) bytes: `.modinfo`
 * key=value strings, the name in `.gnu.linkonce.this_module`, `__versions` CRCs and the
 * signature trailer (elf-modinfo.md). Pure: bytes in, facts out.
 */
import { FormatError } from '../../errors.js';
import { cString, parseElf, rpmArch, sectionData, type Elf } from './elf.js';
import { findSignature, type ModuleSignature } from './signature.js';
import { moduleSymbols, type ExportedSymbol } from './symbols.js';

export interface ModuleParm {
  name: string;
  description?: string;
  type?: string;
}

export interface ModuleVersionCrc {
  name: string;
  crc: number;
}

export interface ModuleInfo {
  name: string;
  vermagic: string;
  /** First token of vermagic: the `uname -r` the module was built for. */
  kernelRelease: string;
  /** RPM architecture from the ELF header. */
  arch: string;
  elf: { bits: 32 | 64; littleEndian: boolean; machine: number; length: number };
  aliases: string[];
  depends: string[];
  firmware: string[];
  /** The first `license=` entry: what a single-licence consumer (an RPM's License tag) takes. */
  license?: string;
  /** Every `license=` entry in file order (modinfo prints each; linked objects can add more). */
  licenses: string[];
  version?: string;
  /** `description=` strings joined by newlines (usually one). */
  description?: string;
  authors: string[];
  srcversion?: string;
  /** Keys set to `Y`: intree, retpoline, staging, livepatch. */
  flags: string[];
  parms: ModuleParm[];
  softdeps: string[];
  importNs: string[];
  /** `__versions` (or extended modversions): the kernel symbols it binds to, with CRCs. */
  versions: ModuleVersionCrc[];
  /** Kernel symbols it exports for other modules (modpost's view), sorted by name. */
  exports: ExportedSymbol[];
  /** Undefined symbols it needs from the kernel or other modules, sorted. */
  imports: string[];
  signed: boolean;
  signature?: ModuleSignature;
  /** Every `.modinfo` pair in file order. */
  modinfo: [string, string][];
}

const FLAG_KEYS = ['intree', 'retpoline', 'staging', 'livepatch'];

/**
 * Parse a decompressed module. `fileName` supplies the last-resort module name (file name
 * without extensions, `-` → `_`) when neither `.modinfo` nor `struct module` carries one.
 */
export function parseModule(bytes: Uint8Array, fileName?: string): ModuleInfo {
  const { elfLength, signature } = findSignature(bytes);
  const data = bytes.subarray(0, elfLength);
  const elf = parseElf(data);
  const arch = rpmArch(elf.machine, elf.bits, elf.littleEndian);
  const modinfoSection = sectionData(elf, data, '.modinfo');
  if (modinfoSection === undefined) throw new FormatError('no .modinfo section: not a kernel module');
  const modinfo = parseModinfo(modinfoSection);
  const all = (key: string) => modinfo.filter(([k]) => k === key).map(([, v]) => v);
  const one = (key: string) => all(key)[0];

  const vermagic = one('vermagic');
  if (vermagic === undefined) throw new FormatError('no vermagic in .modinfo: not a finished kernel module (an object before modpost?)');
  const kernelRelease = vermagic.split(' ')[0] ?? '';
  if (!kernelRelease) throw new FormatError(`vermagic ${JSON.stringify(vermagic)} does not start with a kernel release`);

  const name = one('name') ?? thisModuleName(elf, data) ?? nameFromFile(fileName);
  if (!name) throw new FormatError('module has no name (no name= in .modinfo, no struct module, no file name)');
  const depends = one('depends');
  const descriptions = all('description');
  const info: ModuleInfo = {
    name,
    vermagic,
    kernelRelease,
    arch,
    elf: { bits: elf.bits, littleEndian: elf.littleEndian, machine: elf.machine, length: elfLength },
    aliases: all('alias'),
    depends: depends ? depends.split(',').filter((d) => d !== '') : [],
    firmware: all('firmware'),
    licenses: all('license'),
    authors: all('author'),
    flags: FLAG_KEYS.filter((k) => one(k) === 'Y'),
    parms: parms(modinfo),
    softdeps: all('softdep'),
    importNs: all('import_ns'),
    versions: modversions(elf, data),
    ...moduleSymbols(elf, data),
    signed: signature !== undefined,
    modinfo,
  };
  const license = one('license');
  const version = one('version');
  const srcversion = one('srcversion');
  if (license !== undefined) info.license = license;
  if (version !== undefined) info.version = version;
  if (srcversion !== undefined) info.srcversion = srcversion;
  if (descriptions.length) info.description = descriptions.join('\n');
  if (signature) info.signature = signature;
  return info;
}

/** NUL-separated `key=value` strings; empty ones are alignment padding. */
export function parseModinfo(section: Uint8Array): [string, string][] {
  const text = new TextDecoder('utf-8').decode(section);
  const out: [string, string][] = [];
  for (const s of text.split('\0')) {
    if (!s) continue;
    const eq = s.indexOf('=');
    out.push(eq < 0 ? [s, ''] : [s.slice(0, eq), s.slice(eq + 1)]);
  }
  return out;
}

/** `parm=name:description` and `parmtype=name:type`, merged by name in first-seen order. */
function parms(modinfo: [string, string][]): ModuleParm[] {
  const byName = new Map<string, ModuleParm>();
  for (const [key, value] of modinfo) {
    if (key !== 'parm' && key !== 'parmtype') continue;
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    const rest = colon < 0 ? '' : value.slice(colon + 1);
    let p = byName.get(name);
    if (!p) byName.set(name, (p = { name }));
    if (key === 'parm') p.description = rest;
    else p.type = rest;
  }
  return [...byName.values()];
}

/** `char name[]` of struct module: after a 4-byte state and a two-pointer list_head. */
function thisModuleName(elf: Elf, data: Uint8Array): string | undefined {
  const section = sectionData(elf, data, '.gnu.linkonce.this_module');
  const offset = elf.bits === 64 ? 24 : 12;
  if (!section || section.length <= offset) return undefined;
  const field = section.subarray(offset, Math.min(section.length, offset + 64 - elf.bits / 8));
  const end = field.indexOf(0);
  const name = new TextDecoder('utf-8').decode(end < 0 ? field : field.subarray(0, end));
  return name || undefined;
}

function nameFromFile(fileName: string | undefined): string | undefined {
  const base = fileName?.split('/').pop()?.replace(/\.ko(\.(xz|gz|zst|bz2))?$/, '');
  return base ? base.replace(/-/g, '_') : undefined;
}

/** Basic `__versions` ({long crc; char name[64 - sizeof(long)]}) or the extended pair of sections. */
function modversions(elf: Elf, data: Uint8Array): ModuleVersionCrc[] {
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const extCrcs = sectionData(elf, data, '__version_ext_crcs');
  const extNames = sectionData(elf, data, '__version_ext_names');
  if (extCrcs && extNames) {
    const names = parseStrings(extNames);
    if (names.length * 4 !== extCrcs.length) {
      throw new FormatError(`__version_ext_crcs holds ${extCrcs.length / 4} CRCs for ${names.length} names`);
    }
    const v = view(extCrcs);
    return names.map((name, i) => ({ name, crc: v.getUint32(i * 4, elf.littleEndian) }));
  }
  const versions = sectionData(elf, data, '__versions');
  if (!versions) return [];
  if (versions.length % 64 !== 0) throw new FormatError(`__versions size ${versions.length} is not a multiple of 64`);
  const v = view(versions);
  const out: ModuleVersionCrc[] = [];
  const nameAt = elf.bits / 8;
  for (let at = 0; at < versions.length; at += 64) {
    // only the low 32 bits of the long are the CRC
    const crc = elf.bits === 64 ? v.getUint32(at + (elf.littleEndian ? 0 : 4), elf.littleEndian) : v.getUint32(at, elf.littleEndian);
    const entry = versions.subarray(at + nameAt, at + 64);
    out.push({ name: entry.includes(0) ? cString(entry, 0, '__versions entry') : new TextDecoder().decode(entry), crc });
  }
  return out;
}

function parseStrings(section: Uint8Array): string[] {
  return new TextDecoder('utf-8').decode(section).split('\0').filter((s) => s !== '');
}
