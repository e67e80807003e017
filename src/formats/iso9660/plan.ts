/**
 * The planner: maps a resolved tree to ECMA-119 + Rock Ridge + Joliet + El Torito structures and
 * assigns every block address before a byte is written (spec "Planning algorithm"). Everything that
 * depends on LBAs but not on file contents is encoded later by the streamer from this plan.
 */
import { UserError } from '../../errors.js';
import { readSource, type Source } from '../../tree/source.js';
import type { ResolvedEntry } from '../../tree/tree.js';
import { PLATFORM_BIOS, PLATFORM_EFI, patchBootInfo, type CatalogEntry } from './eltorito.js';
import { geometry, type HybridLayout } from './hybrid.js';
import { ecmaIdentifiers, ecmaSortKey, jolietIdentifiers, NameTooLong, ucs2be, type JolietPolicy } from './names.js';
import { BLOCK, blocks, isPrintableAscii } from './numbers.js';
import { pathTableSize } from './pathtable.js';
import { layoutRecords, recordLength, systemUseRoom } from './records.js';
import { CE_LENGTH, er, nm, px, sl, sp, splitInline, tf } from './susp.js';

export interface BootOptions {
  /** No-emulation BIOS image (isolinux.bin, GRUB2 eltorito.img): a file path in the tree. */
  readonly bios?: {
    readonly path: string;
    /** 512-byte sectors the firmware loads (default 4, as isolinux wants). */
    readonly loadSectors?: number;
    /** Patch the boot-info table into the image's copy (mkisofs `-boot-info-table`). */
    readonly bootInfoTable?: boolean;
    /** Also GRUB2's boot info at byte 2548 (`--grub2-boot-info`). */
    readonly grub2BootInfo?: boolean;
  };
  /** UEFI image (a FAT image such as efiboot.img): a file path in the tree. */
  readonly efi?: { readonly path: string };
  /** Where the catalog also appears as a file (`isolinux/boot.cat`); hidden when absent. */
  readonly catalogPath?: string;
}

export interface HybridOptions {
  /** 432 bytes of MBR boot code (syslinux isohdpfx.bin); zeros when absent (not bootable from USB). */
  readonly bootCode?: Uint8Array;
  /** Add the GPT (xorriso `-isohybrid-gpt-basdat` form) for UEFI boot from USB. */
  readonly gpt?: boolean;
}

export interface IsoOptions {
  /** Volume label (printable ASCII, ≤ 32 bytes), e.g. `OEMDRV` for driver disks. */
  readonly volumeId: string;
  readonly systemId?: string;
  readonly volumeSetId?: string;
  readonly publisher?: string;
  readonly preparer?: string;
  readonly application?: string;
  /** Joliet tree: on by default with 64-character names and refusal of longer ones. */
  readonly joliet?: false | Partial<JolietPolicy>;
  readonly boot?: BootOptions;
  readonly hybrid?: HybridOptions;
  /** Permission bits of the root directory (default 0755; driver media use 0555). */
  readonly rootMode?: number;
  /** ISO level 3: files of 4 GiB and more become multi-extent sections (refused otherwise). */
  readonly level3?: boolean;
  /** Reserve what the media-check MD5 needs: ≥ 336 sectors and ≥ 15 blocks of tail padding. */
  readonly mediaCheck?: boolean;
  /** Every timestamp (SOURCE_DATE_EPOCH). */
  readonly epoch: number;
}

/** Where a record's continuation area lies: block inside the continuation region, offset, length. */
export interface CeRef {
  readonly block: number;
  readonly offset: number;
  readonly length: number;
}
export type SystemUsePart = Uint8Array | CeRef;

export interface CeArea extends CeRef {
  readonly parts: SystemUsePart[];
}

export interface PlannedRecord {
  readonly node: PlanNode;
  readonly id: Uint8Array;
  readonly offset: number;
  readonly systemUse: SystemUsePart[];
  /** Which section of a multi-extent file (level 3) this record describes. */
  readonly section?: number;
}

/** Size of every section of a multi-extent file but the last: 4 GiB − 2 KiB, block-aligned. */
export const SECTION_BYTES = 0xfffff800;

export interface DirExtent {
  lba: number;
  size: number;
  records: PlannedRecord[];
  /** 1-based number in this tree's path table, and the parent's. */
  number: number;
}

interface NodeBase {
  readonly path: string;
  readonly name: string;
  readonly parent: PlanDir;
  readonly mode: number;
  ecmaId: Uint8Array;
  jolietId: Uint8Array;
}

export interface PlanFile extends NodeBase {
  readonly kind: 'file' | 'symlink' | 'catalog';
  readonly size: number;
  lba: number;
  readonly source?: Source;
  readonly target?: string;
  /** Replacement bytes (a BIOS image with its boot-info table). */
  data?: Uint8Array;
}

export interface PlanDir extends NodeBase {
  readonly kind: 'dir';
  readonly depth: number;
  readonly children: PlanNode[];
  ecma: DirExtent;
  joliet: DirExtent;
}

export type PlanNode = PlanFile | PlanDir;

export interface IsoPlan {
  readonly ids: { volumeId: string; systemId: string; volumeSetId: string; publisher: string; preparer: string; application: string };
  readonly epoch: number;
  readonly root: PlanDir;
  /** Directories in path-table order: ECMA, Joliet (empty without Joliet). */
  readonly dirs: PlanDir[];
  readonly jolietDirs: PlanDir[];
  readonly pathTableSize: number;
  readonly jolietPathTableSize: number;
  readonly lba: {
    bootRecord?: number;
    svd?: number;
    terminator: number;
    catalog?: number;
    lPath: number;
    mPath: number;
    jlPath?: number;
    jmPath?: number;
    continuation: number;
    empty?: number;
    data: number;
  };
  readonly continuationAreas: CeArea[];
  readonly continuationBlocks: number;
  /** Files with data, in emission order (boot images first). */
  readonly files: PlanFile[];
  readonly boot: CatalogEntry[];
  readonly hybrid?: HybridLayout;
  /** Total blocks, tail padding included (the PVD volume space size). */
  readonly volumeBlocks: number;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Linux garbles Rock Ridge names of 254 and 255 bytes. */
const MAX_NAME_BYTES = 253;
const MAX_FILE_SIZE = 0xffffffff;

function checkIdField(what: string, text: string, max: number): void {
  if (!isPrintableAscii(text)) throw new UserError(`${what} must be printable ASCII: ${JSON.stringify(text)}`);
  if (text.length > max) throw new UserError(`${what} longer than ${max} characters: ${JSON.stringify(text)}`);
  if (text.startsWith('_')) throw new UserError(`${what} must not start with "_" (that means "file name follows"): ${JSON.stringify(text)}`);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Build the plan. Async only because a BIOS image with a boot-info table is read (≤ 1 MiB). */
export async function planIso(entries: readonly ResolvedEntry[], options: IsoOptions): Promise<IsoPlan> {
  const ids = {
    volumeId: options.volumeId,
    systemId: options.systemId ?? '',
    volumeSetId: options.volumeSetId ?? '',
    publisher: options.publisher ?? '',
    preparer: options.preparer ?? '',
    application: options.application ?? '',
  };
  if (ids.volumeId === '') throw new UserError('volume id must not be empty');
  checkIdField('volume id', ids.volumeId, 32);
  checkIdField('system id', ids.systemId, 32);
  checkIdField('volume set id', ids.volumeSetId, 128);
  checkIdField('publisher id', ids.publisher, 128);
  checkIdField('data preparer id', ids.preparer, 128);
  checkIdField('application id', ids.application, 128);
  const joliet = options.joliet === false ? undefined : { limit: options.joliet?.limit ?? 64, overflow: options.joliet?.overflow ?? 'refuse' };
  const epoch = options.epoch;

  // 1. the tree
  const empty = new Uint8Array(0);
  const root = { kind: 'dir', path: '', name: '', mode: S_IFDIR | ((options.rootMode ?? 0o755) & 0o7777), depth: 1, children: [], ecmaId: Uint8Array.of(0), jolietId: Uint8Array.of(0) } as unknown as PlanDir;
  (root as { parent: PlanDir }).parent = root;
  const nodes = new Map<string, PlanNode>([['', root]]);
  const dirAt = (path: string): PlanDir => {
    const hit = nodes.get(path);
    if (hit) {
      if (hit.kind !== 'dir') throw new UserError(`${path} is not a directory but has entries below it`);
      return hit;
    }
    return addNode({ type: 'dir', path, mode: 0o755 }) as PlanDir;
  };
  function addNode(e: ResolvedEntry | { type: 'catalog'; path: string }): PlanNode {
    const slash = e.path.lastIndexOf('/');
    const parent = dirAt(slash < 0 ? '' : e.path.slice(0, slash));
    const name = baseName(e.path);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new UserError(`name longer than ${MAX_NAME_BYTES} bytes (Rock Ridge limit Linux reads correctly): ${e.path}`);
    const base = { path: e.path, name, parent, ecmaId: empty, jolietId: empty };
    let node: PlanNode;
    if (e.type === 'dir') {
      const depth = parent.depth + 1;
      if (depth > 8) throw new UserError(`directory nested deeper than 8 levels (ISO 9660 limit; dudkit writes no Rock Ridge relocation): ${e.path}`);
      node = { ...base, kind: 'dir', mode: S_IFDIR | (e.mode & 0o7777), depth, children: [] } as unknown as PlanDir;
    } else if (e.type === 'symlink') {
      node = { ...base, kind: 'symlink', mode: S_IFLNK | 0o777, size: 0, lba: 0, target: e.target };
    } else if (e.type === 'catalog') {
      node = { ...base, kind: 'catalog', mode: S_IFREG | 0o444, size: BLOCK, lba: 0 };
    } else {
      if (e.content.size > MAX_FILE_SIZE && !options.level3) {
        throw new UserError(`file of 4 GiB or more needs ISO level 3 (multi-extent records); ask for level 3 to write it`, e.path);
      }
      node = { ...base, kind: 'file', mode: S_IFREG | (e.mode & 0o7777), size: e.content.size, lba: 0, source: e.content };
    }
    if (nodes.has(e.path)) throw new UserError(`two entries for the same path: ${e.path}`);
    nodes.set(e.path, node);
    parent.children.push(node);
    return node;
  }
  for (const e of entries) {
    if (e.type === 'dir' && nodes.get(e.path)?.kind === 'dir') continue;
    addNode(e);
  }
  const boot = options.boot;
  if (boot && !boot.bios && !boot.efi) throw new UserError('boot options given without a BIOS or EFI boot image');
  if (boot?.catalogPath !== undefined) addNode({ type: 'catalog', path: boot.catalogPath });

  // 2. names and sort order per directory (breadth-first = path-table order)
  const dirs: PlanDir[] = [root];
  for (let i = 0; i < dirs.length; i++) {
    const d = dirs[i]!;
    const req = d.children.map((c) => ({ name: c.name, isDir: c.kind === 'dir' }));
    ecmaIdentifiers(req).forEach((id, j) => (d.children[j]!.ecmaId = Buffer.from(id, 'latin1')));
    if (joliet) {
      let jids: string[];
      try {
        jids = jolietIdentifiers(req, joliet);
      } catch (err) {
        if (err instanceof NameTooLong) throw new UserError(`${err.message} (in /${d.path}); use Joliet truncation, -joliet-long names, or no Joliet`);
        throw err;
      }
      jids.forEach((id, j) => (d.children[j]!.jolietId = ucs2be(id)));
    }
    const key = new Map(d.children.map((c) => [c, Buffer.from(ecmaSortKey(Buffer.from(c.ecmaId).toString('latin1')), 'latin1')]));
    d.children.sort((a, b) => Buffer.compare(key.get(a)!, key.get(b)!));
    for (const c of d.children) if (c.kind === 'dir') dirs.push(c);
  }
  if (dirs.length > 65535) throw new UserError(`more than 65535 directories (path table limit)`);
  if (joliet && joliet.overflow === 'refuse') {
    for (const n of nodes.values()) {
      let len = 0;
      for (let p: PlanNode = n; p !== root; p = p.parent) len += p.jolietId.length / 2 + 1;
      if (len > 240) throw new UserError(`Joliet path longer than 240 characters: ${n.path}`);
    }
  }
  const jolietDirs: PlanDir[] = [];
  if (joliet) {
    jolietDirs.push(root);
    for (let i = 0; i < jolietDirs.length; i++) {
      const kids = [...jolietDirs[i]!.children].sort((a, b) => Buffer.compare(a.jolietId, b.jolietId));
      for (const c of kids) if (c.kind === 'dir') jolietDirs.push(c);
    }
  }

  // 3. directory records, inline system use and continuation areas
  const areas: CeArea[] = [];
  let ceBlock = 0;
  let ceOffset = 0;
  const placeContinuation = (parts: Uint8Array[]): CeRef => {
    const total = parts.reduce((n, e) => n + e.length, 0);
    let take = parts.length;
    let used = total;
    if (total > BLOCK - ceOffset) {
      take = 0;
      used = 0;
      while (take < parts.length && used + parts[take]!.length + CE_LENGTH <= BLOCK - ceOffset) used += parts[take++]!.length;
      if (take === 0) {
        ceBlock++;
        ceOffset = 0;
        return placeContinuation(parts);
      }
    }
    const area: CeArea = { block: ceBlock, offset: ceOffset, length: used + (take < parts.length ? CE_LENGTH : 0), parts: parts.slice(0, take) };
    ceOffset += area.length;
    areas.push(area);
    if (take < parts.length) area.parts.push(placeContinuation(parts.slice(take)));
    return area;
  };
  const links = (d: PlanDir) => 2 + d.children.filter((c) => c.kind === 'dir').length;
  // identical entries are shared: every TF is the same, and PX depends only on mode and links
  const tfEntry = tf(epoch);
  const pxCache = new Map<number, Uint8Array>();
  const pxEntry = (mode: number, nlinks: number) => {
    const key = mode * 0x100000 + nlinks;
    let e = pxCache.get(key);
    if (!e) pxCache.set(key, (e = px(mode, nlinks)));
    return e;
  };
  const rrEntries = (n: PlanNode): Uint8Array[] => [pxEntry(n.mode, n.kind === 'dir' ? links(n) : 1), tfEntry];
  const extent = (records: { node: PlanNode; id: Uint8Array; su: Uint8Array[] }[]): DirExtent => {
    // a file over 4 GiB − 1 gets one record per section, each with the same identifier and entries
    const expanded = records.flatMap((r): { node: PlanNode; id: Uint8Array; su: Uint8Array[]; section?: number }[] => {
      const size = r.node.kind === 'dir' ? 0 : r.node.size;
      if (size <= MAX_FILE_SIZE) return [r];
      return Array.from({ length: Math.ceil(size / SECTION_BYTES) }, (_, section) => ({ ...r, section }));
    });
    const planned = expanded.map((r) => {
      const { inline, spill } = splitInline(r.su, systemUseRoom(r.id.length));
      const systemUse: SystemUsePart[] = [...inline];
      if (spill.length > 0) systemUse.push(placeContinuation(spill));
      return { node: r.node, id: r.id, systemUse, ...(r.section !== undefined ? { section: r.section } : {}) };
    });
    const lengths = planned.map((r) => recordLength(r.id.length, r.systemUse.reduce((n, e) => n + (e instanceof Uint8Array ? e.length : CE_LENGTH), 0)));
    const { offsets, size } = layoutRecords(lengths);
    return { lba: 0, size, number: 0, records: planned.map((r, i) => ({ ...r, offset: offsets[i]! })) };
  };
  dirs.forEach((d, i) => {
    const self = d === root ? [sp(), ...rrEntries(d), er()] : rrEntries(d);
    d.ecma = extent([
      { node: d, id: Uint8Array.of(0), su: self },
      { node: d.parent, id: Uint8Array.of(1), su: rrEntries(d.parent) },
      ...d.children.map((c) => ({
        node: c,
        id: c.ecmaId,
        su: [...rrEntries(c), ...nm(Buffer.from(c.name)), ...(c.kind === 'symlink' ? sl(c.target!) : [])],
      })),
    ]);
    d.ecma.number = i + 1;
  });
  jolietDirs.forEach((d, i) => {
    const kids = [...d.children].sort((a, b) => Buffer.compare(a.jolietId, b.jolietId));
    d.joliet = extent([
      { node: d, id: Uint8Array.of(0), su: [] },
      { node: d.parent, id: Uint8Array.of(1), su: [] },
      ...kids.map((c) => ({ node: c, id: c.jolietId, su: [] })),
    ]);
    d.joliet.number = i + 1;
  });
  const continuationBlocks = areas.length > 0 ? ceBlock + 1 : 0;

  // 4. block addresses in emission order
  const ptSize = pathTableSize(dirs.map((d) => ({ id: d.ecmaId })));
  const jptSize = pathTableSize(jolietDirs.map((d) => ({ id: d.jolietId })));
  let lba = 17;
  const bootRecord = boot ? lba++ : undefined;
  const svd = joliet ? lba++ : undefined;
  const terminator = lba++;
  const catalog = boot ? lba++ : undefined;
  const lPath = lba;
  lba += blocks(ptSize);
  const mPath = lba;
  lba += blocks(ptSize);
  let jlPath: number | undefined;
  let jmPath: number | undefined;
  if (joliet) {
    jlPath = lba;
    lba += blocks(jptSize);
    jmPath = lba;
    lba += blocks(jptSize);
  }
  for (const d of dirs) {
    d.ecma.lba = lba;
    lba += d.ecma.size / BLOCK;
  }
  const continuation = lba;
  lba += continuationBlocks;
  for (const d of jolietDirs) {
    d.joliet.lba = lba;
    lba += d.joliet.size / BLOCK;
  }
  const all = [...nodes.values()];
  const needsEmpty = all.some((n) => n.kind === 'symlink' || (n.kind === 'file' && n.size === 0));
  const emptyLba = needsEmpty ? lba++ : undefined;
  const bootFile = (path: string, what: string): PlanFile => {
    const n = nodes.get(path);
    if (!n || n.kind !== 'file') throw new UserError(`${what} boot image is not a file in the tree: ${path}`);
    if (n.size === 0) throw new UserError(`${what} boot image is empty: ${path}`);
    return n;
  };
  const bios = boot?.bios ? bootFile(boot.bios.path, 'BIOS') : undefined;
  const efi = boot?.efi ? bootFile(boot.efi.path, 'EFI') : undefined;
  const files: PlanFile[] = [];
  for (const f of [bios, efi]) if (f && !files.includes(f)) files.push(f);
  // names given the very same Source share one extent (hard links kept when an image is rebuilt)
  const extentOf = new Map<Source, PlanFile>(files.map((f) => [f.source!, f]));
  const sharing: [PlanFile, PlanFile][] = [];
  for (const n of all) {
    if (n.kind !== 'file' || n.size === 0 || files.includes(n)) continue;
    const first = extentOf.get(n.source!);
    if (first) sharing.push([n, first]);
    else {
      extentOf.set(n.source!, n);
      files.push(n);
    }
  }
  const data = lba;
  for (const f of files) {
    f.lba = lba;
    lba += blocks(f.size);
  }
  for (const [n, first] of sharing) n.lba = first.lba;
  for (const n of all) {
    if (n.kind === 'symlink' || (n.kind === 'file' && n.size === 0)) n.lba = emptyLba!;
    if (n.kind === 'catalog') n.lba = catalog!;
  }

  // 5. boot entries, tail padding and the system area
  const bootEntries: CatalogEntry[] = [];
  if (bios) {
    const loadSectors = boot?.bios?.loadSectors ?? 4;
    if (!Number.isInteger(loadSectors) || loadSectors < 1 || loadSectors > 65535) throw new UserError(`BIOS boot load size must be 1–65535 sectors, got ${loadSectors}`);
    bootEntries.push({ platform: PLATFORM_BIOS, lba: bios.lba, sectors: loadSectors });
    if (boot?.bios?.bootInfoTable) {
      if (bios.size > 1 << 20) throw new UserError(`BIOS boot image larger than 1 MiB cannot carry a boot-info table: ${bios.path}`);
      if (bios.size < 64) throw new UserError(`BIOS boot image shorter than 64 bytes cannot carry a boot-info table: ${bios.path}`);
      bios.data = patchBootInfo(await readSource(bios.source!), bios.lba, Boolean(boot.bios.grub2BootInfo));
    }
  }
  if (efi) {
    const sectors = Math.ceil(efi.size / 512);
    if (sectors > 65535) throw new UserError(`EFI boot image larger than 32 MiB − 512 bytes (El Torito sector count limit): ${efi.path}`);
    bootEntries.push({ platform: PLATFORM_EFI, lba: efi.lba, sectors });
  }
  const fileEnd = lba;
  // the media check never hashes the last 15 blocks, and needs ≥ 336 sectors to pass checkisomd5
  if (options.mediaCheck) lba = Math.max(fileEnd + 15, 336);
  // the backup GPT (63 sectors) lies in the tail, after every file
  if (options.hybrid?.gpt) lba = Math.max(lba, fileEnd + 16);
  let hybrid: HybridLayout | undefined;
  if (options.hybrid) {
    const bootCode = options.hybrid.bootCode ?? new Uint8Array(432);
    if (bootCode.length !== 432) throw new UserError(`isohybrid MBR boot code must be 432 bytes, got ${bootCode.length}`);
    const cyl = geometry(lba * BLOCK).cylinderBytes / BLOCK;
    lba = Math.ceil(lba / cyl) * cyl;
    hybrid = {
      bootCode,
      imageBytes: lba * BLOCK,
      biosLba: bios?.lba ?? 0,
      gpt: Boolean(options.hybrid.gpt),
      volumeId: ids.volumeId,
      epoch,
      ...(efi ? { efi: { lba: efi.lba, size: efi.size } } : {}),
    };
  }

  return {
    ids,
    epoch,
    root,
    dirs,
    jolietDirs,
    pathTableSize: ptSize,
    jolietPathTableSize: jptSize,
    lba: { bootRecord, svd, terminator, catalog, lPath, mPath, jlPath, jmPath, continuation, empty: emptyLba, data },
    continuationAreas: areas,
    continuationBlocks,
    files,
    boot: bootEntries,
    ...(hybrid ? { hybrid } : {}),
    volumeBlocks: lba,
  };
}
