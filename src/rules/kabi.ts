/**
 * kABI: whether a module binds only to kernel symbols the kernel vendor keeps (a
 * `kernel-abi-stablelist` section) or that a given kernel exports with the CRCs the module was
 * built against (its `Module.symvers`), as the kernel's loader and modpost see them
 * (elf-modinfo.md "`__versions`", redhat-dud.md "vermagic"). Pure: texts and module facts in,
 * problems out. Symbols another module of the same medium exports count as provided, as modpost
 * counts them with KBUILD_EXTRA_SYMBOLS; their CRCs are checked against that module's own.
 */
import { FormatError } from '../errors.js';
import type { ExportedSymbol, ModuleVersionCrc } from '../formats/elf/index.js';

/** One kernel's exported symbols (`Module.symvers`) or a vendor's kept list (stablelist). */
export type KabiReference =
  | { form: 'symvers'; name: string; symbols: Map<string, { crc: number; namespace?: string }> }
  | { form: 'stablelist'; name: string; /** the arch its section headers name, when they agree */ arch?: string; symbols: Set<string> };

/** What the check needs of a module. */
export interface KabiModule {
  name: string;
  arch: string;
  /** Undefined symbols. */
  imports: readonly string[];
  versions: readonly ModuleVersionCrc[];
  exports: readonly ExportedSymbol[];
  importNs: readonly string[];
}

export interface KabiProblem {
  module: string;
  symbol: string;
  kind: 'missing' | 'crc' | 'namespace';
  message: string;
}

const SYMVERS_LINE = /^0x([0-9a-fA-F]{1,16})\t([^\t]+)\t([^\t]*)\t([^\t]*)(?:\t([^\t]*))?$/;
const SECTION = /^\[(\w+)\]$/;

/**
 * Parse a `Module.symvers` (`0xCRC<TAB>symbol<TAB>module<TAB>export type[<TAB>namespace]`) or a
 * stablelist (`[rhel9_x86_64_stablelist]` headers, one TAB-indented symbol per line), told
 * apart by their first meaningful line. `name` names the file in messages.
 */
export function parseKabiReference(text: string, name: string): KabiReference {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const first = lines.find((l) => l.trim() !== '' && !l.startsWith('#'));
  if (first === undefined) throw new FormatError(`${name}: empty: expected a Module.symvers or a kernel-abi-stablelist file`);
  if (SYMVERS_LINE.test(first)) {
    const symbols = new Map<string, { crc: number; namespace?: string }>();
    lines.forEach((line, i) => {
      if (line === '') return;
      const m = SYMVERS_LINE.exec(line);
      if (!m) throw new FormatError(`${name}: line ${i + 1} is not a Module.symvers line (0xCRC, symbol, module, export type, [namespace], TAB-separated)`);
      symbols.set(m[2]!, { crc: Number.parseInt(m[1]!, 16) >>> 0, ...(m[5] ? { namespace: m[5] } : {}) });
    });
    return { form: 'symvers', name, symbols };
  }
  if (SECTION.test(first.trim())) {
    const symbols = new Set<string>();
    const arches = new Set<string>();
    lines.forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const section = SECTION.exec(line.trim());
      if (section) {
        // rhel9_x86_64_stablelist, rhel8_ppc64le_whitelist
        const arch = /^[a-z]+\d*_(.+)_(?:stablelist|whitelist)$/.exec(section[1]!)?.[1];
        if (arch) arches.add(arch);
        return;
      }
      if (!/^\s/.test(line)) throw new FormatError(`${name}: line ${i + 1} is neither a [section] header nor a TAB-indented symbol`);
      symbols.add(line.trim());
    });
    return { form: 'stablelist', name, ...(arches.size === 1 ? { arch: [...arches][0]! } : {}), symbols };
  }
  throw new FormatError(`${name}: line 1 is neither a Module.symvers line (0xCRC<TAB>symbol<TAB>…) nor a stablelist [section] header`);
}

const hex = (crc: number) => `0x${crc.toString(16).padStart(8, '0')}`;

/**
 * What the module needs that the reference lacks or has with another CRC. `medium` is every
 * module shipped beside it for the same kernel (the module itself may be among them).
 */
function checkKabi(module: KabiModule, ref: KabiReference, medium: readonly KabiModule[]): KabiProblem[] {
  const problems: KabiProblem[] = [];
  const wanted = new Map(module.versions.map((v) => [v.name, v.crc]));
  const own = new Set(module.exports.map((e) => e.name));
  const exporters = new Map<string, { module: string; symbol: ExportedSymbol }>();
  for (const m of medium) if (m.name !== module.name) for (const e of m.exports) exporters.set(e.name, { module: m.name, symbol: e });
  const add = (symbol: string, kind: KabiProblem['kind'], message: string) => problems.push({ module: module.name, symbol, kind, message });

  for (const symbol of module.imports) {
    if (own.has(symbol)) continue;
    const crc = wanted.get(symbol);
    const fromMedium = exporters.get(symbol);
    if (fromMedium) {
      const theirs = fromMedium.symbol.crc;
      if (crc !== undefined && theirs !== undefined && crc !== theirs) {
        add(symbol, 'crc', `${module.name} needs ${symbol} with CRC ${hex(crc)}, but ${fromMedium.module} on the same medium exports it with ${hex(theirs)}: the kernel refuses to load it ("disagrees about version of symbol")`);
      }
      const ns = fromMedium.symbol.namespace;
      if (ns && !module.importNs.includes(ns)) add(symbol, 'namespace', `${module.name} uses ${symbol} from namespace ${ns} without MODULE_IMPORT_NS(${ns})`);
      continue;
    }
    if (ref.form === 'stablelist') {
      if (!ref.symbols.has(symbol)) add(symbol, 'missing', `${module.name} needs ${symbol}, which is not in the kABI stablelist ${ref.name}: it may change in a later minor release`);
      continue;
    }
    const theirs = ref.symbols.get(symbol);
    if (!theirs) {
      add(symbol, 'missing', `${module.name} needs ${symbol}, which the kernel of ${ref.name} does not export: the module cannot load ("Unknown symbol")`);
      continue;
    }
    if (crc !== undefined && crc !== theirs.crc) {
      add(symbol, 'crc', `${module.name} needs ${symbol} with CRC ${hex(crc)}, but ${ref.name} has ${hex(theirs.crc)}: the kernel refuses to load it ("disagrees about version of symbol")`);
    }
    if (theirs.namespace && !module.importNs.includes(theirs.namespace)) {
      add(symbol, 'namespace', `${module.name} uses ${symbol} from namespace ${theirs.namespace} without MODULE_IMPORT_NS(${theirs.namespace})`);
    }
  }
  // modversions entries that are no undefined symbol (module_layout before Linux 6.4): the loader checks their CRC too
  if (ref.form === 'symvers') {
    for (const v of module.versions) {
      if (module.imports.includes(v.name)) continue;
      const theirs = ref.symbols.get(v.name);
      if (theirs && theirs.crc !== v.crc) add(v.name, 'crc', `${module.name} was built against ${v.name} ${hex(v.crc)}, but ${ref.name} has ${hex(theirs.crc)}: the kernel refuses to load it`);
    }
  }
  return problems;
}

/** The references of a build or verification, each about every kernel or about one (`uname -r`). */
export interface KabiSet {
  refs: { ref: KabiReference; kernel?: string }[];
}

/** Whether a reference speaks about modules of this arch (a stablelist names its arch; a Module.symvers is taken as given). */
function referenceApplies(ref: KabiReference, arch: string): boolean {
  return ref.form === 'symvers' || ref.arch === undefined || ref.arch === arch;
}

/** Whether `kabiProblems` checks the CRCs of modules for `kernel`: a Module.symvers speaks about it (a stablelist has no CRCs). */
export function checksCrcsFor(set: KabiSet, kernel: string): boolean {
  return set.refs.some((r) => (r.kernel === undefined || r.kernel === kernel) && r.ref.form === 'symvers');
}

/** Every problem of `module` (loaded on `kernel` beside `medium`) against the references that speak about it. */
export function kabiProblems(set: KabiSet, kernel: string, module: KabiModule, medium: readonly KabiModule[]): KabiProblem[] {
  return set.refs.filter((r) => (r.kernel === undefined || r.kernel === kernel) && referenceApplies(r.ref, module.arch)).flatMap((r) => checkKabi(module, r.ref, medium));
}
