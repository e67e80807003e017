/**
 * The planner: maps a resolved tree to ECMA-119 + Rock Ridge + Joliet + El Torito structures and
 * assigns every block address before a byte is written (spec "Planning algorithm"), in five phases:
 * the node tree, names and order, directory records, block addresses, then boot entries and the
 * system area. Everything that depends on LBAs is encoded later by the streamer from this plan.
 * Pure: it reads no file (the streamer patches a BIOS image's boot-info table as its bytes pass).
 */
import { UserError } from '../../errors.js';
import { utf8Bytes } from '../utf8.js';
import type { Source } from '../../tree/source.js';
import type { ResolvedEntry } from '../../tree/tree.js';
import { PLATFORM_BIOS, PLATFORM_EFI, type CatalogEntry } from './eltorito.js';
import { geometry, gptBackupSectors, PARTITION_OFFSET, SECTOR, type HybridLayout } from './hybrid.js';
import { ecmaIdentifiers, ecmaSortKey, jolietIdentifiers, jolietLength, NameTooLong, ucs2be, type JolietPolicy } from './names.js';
import { BLOCK, blocks, both32, isPrintableAscii } from './numbers.js';
import { pathTableSize } from './pathtable.js';
import { extentSize, recordLength, recordOffset, systemUseRoom } from './records.js';
import { CE_LENGTH, cl, er, nm, pl, px, re, sl, sp, splitInline, tf } from './susp.js';
import type { BootOptions, HybridOptions } from './boot-options.js';

export type { BootOptions, HybridOptions };

export interface IsoOptions {
  /** Volume label (printable ASCII, ≤ 32 bytes), e.g. `OEMDRV` for driver disks. */
  readonly volumeId: string;
  readonly systemId?: string;
  readonly volumeSetId?: string;
  readonly publisher?: string;
  readonly preparer?: string;
  readonly application?: string;
  /** Joliet tree: on by default with 64-character names, longer ones cut (as xorriso cuts them). */
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


/** The Joliet rules an image gets: none, or the limit (default 64) and what a longer name meets (default: cut). */
export function jolietPolicy(joliet: false | Partial<JolietPolicy> | undefined): JolietPolicy | undefined {
  return joliet === false ? undefined : { limit: joliet?.limit ?? 64, overflow: joliet?.overflow ?? 'truncate' };
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
  /** The empty file record left where a relocated directory was (its `CL` points to it). */
  readonly placeholder?: boolean;
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
  /** Set by the naming phase. */
  ecmaId: Uint8Array;
  jolietId: Uint8Array;
}

/** A regular file; empty files share the one empty extent. */
export interface PlanFile extends NodeBase {
  readonly kind: 'file';
  readonly size: number;
  lba: number;
  readonly source: Source;
  /** A BIOS image whose boot-info table (and GRUB2's, when asked) the streamer patches into its bytes. */
  bootInfo?: { readonly grub2: boolean };
}

export interface PlanSymlink extends NodeBase {
  readonly kind: 'symlink';
  readonly size: 0;
  /** The empty extent, as mkisofs points symlinks. */
  lba: number;
  readonly target: string;
}

/** The El Torito catalog shown as a file (`isolinux/boot.cat`): its extent is the catalog block. */
export interface PlanCatalog extends NodeBase {
  readonly kind: 'catalog';
  readonly size: number;
  lba: number;
}

export interface PlanDir extends NodeBase {
  readonly kind: 'dir';
  readonly children: PlanNode[];
  /** Parent in the ECMA tree: `rr_moved` for a directory relocated for the 8-level limit. */
  ecmaParent: PlanDir;
  /** ECMA identifier of the placeholder left in the original parent (relocated directories). */
  placeholderId?: Uint8Array;
  /** The ECMA records' nodes after `.` and `..`, in order (set by the naming phase). */
  ecmaEntries: { readonly node: PlanNode; readonly id: Uint8Array; readonly placeholder: boolean }[];
  /** The children in Joliet record order, by UCS-2 identifier (set by the naming phase). */
  jolietEntries: PlanNode[];
  /** Set by the records phase (sizes) and the blocks phase (addresses). */
  ecma: DirExtent;
  joliet: DirExtent;
}

export type PlanNode = PlanFile | PlanSymlink | PlanCatalog | PlanDir;

export interface IsoPlan {
  readonly ids: { volumeId: string; systemId: string; volumeSetId: string; publisher: string; preparer: string; application: string };
  readonly epoch: number;
  readonly root: PlanDir;
  /** Directories in path-table order: ECMA, Joliet (empty without Joliet). */
  readonly dirs: PlanDir[];
  readonly jolietDirs: PlanDir[];
  readonly pathTableSize: number;
  readonly jolietPathTableSize: number;
  /** Paths whose Joliet name was cut to the limit (Rock Ridge keeps the full name): the emitter warns. */
  readonly jolietCut: { readonly path: string; readonly joliet: string }[];
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
  /** Blocks of the whole image: the volume, or more when `isohybrid --uefi` pads past it. */
  readonly imageBlocks: number;
  /**
   * `-partition_offset 16`: the second descriptor set (blocks 32…) and a second copy of the path
   * tables, directories and continuation area `metaShift` blocks after the first, every address in
   * it counted from block 16; `volumeBlocks` is that volume's size (up to the appended partition).
   */
  readonly partition?: { readonly pvd: number; readonly svd?: number; readonly terminator: number; readonly metaShift: number; readonly volumeBlocks: number };
  /** The UEFI image written as GPT partition 2 after the ISO data. */
  readonly appended?: { readonly lba: number; readonly source: Source };
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
/** Linux garbles Rock Ridge names of 254 and 255 bytes. */
const MAX_NAME_BYTES = 253;
const MAX_FILE_SIZE = 0xffffffff;

type Joliet = JolietPolicy | undefined;

function checkIdField(what: string, text: string, max: number): void {
  if (!isPrintableAscii(text)) throw new UserError(`${what} must be printable ASCII: ${JSON.stringify(text)}`);
  if (text.length > max) throw new UserError(`${what} longer than ${max} characters: ${JSON.stringify(text)}`);
  if (text.startsWith('_')) throw new UserError(`${what} must not start with "_" (that means "file name follows"): ${JSON.stringify(text)}`);
}

function volumeIds(options: IsoOptions): IsoPlan['ids'] {
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
  return ids;
}

/** Placeholder until the records phase sizes the directory. */
const unplacedExtent = (): DirExtent => ({ lba: 0, size: 0, records: [], number: 0 });

/** Phase 1: the node tree, with implied parents and the ISO limits on names, depth and sizes. */
function nodeTree(entries: readonly ResolvedEntry[], options: IsoOptions): { root: PlanDir; nodes: Map<string, PlanNode>; rrMoved: PlanDir | undefined } {
  const empty = new Uint8Array(0);
  const root: PlanDir = {
    kind: 'dir',
    path: '',
    name: '',
    // the root is its own parent (its ".." record)
    get parent() {
      return root;
    },
    mode: S_IFDIR | ((options.rootMode ?? 0o755) & 0o7777),
    children: [],
    get ecmaParent() {
      return root;
    },
    ecmaEntries: [],
    jolietEntries: [],
    ecmaId: Uint8Array.of(0),
    jolietId: Uint8Array.of(0),
    ecma: unplacedExtent(),
    joliet: unplacedExtent(),
  };
  const nodes = new Map<string, PlanNode>([['', root]]);
  const dirAt = (path: string): PlanDir => {
    const hit = nodes.get(path);
    if (!hit) return dirNode(path, 0o755);
    if (hit.kind !== 'dir') throw new UserError(`${path} is not a directory but has entries below it`);
    return hit;
  };
  // parents first (implied ones as 0755 folders), then this node's own checks
  const baseOf = (path: string) => {
    const slash = path.lastIndexOf('/');
    const parent = dirAt(slash < 0 ? '' : path.slice(0, slash));
    const name = path.slice(slash + 1);
    // a UTF-16 unit takes at most 3 UTF-8 bytes: only a long name needs counting
    if (name.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(name) > MAX_NAME_BYTES) throw new UserError(`name longer than ${MAX_NAME_BYTES} bytes (Rock Ridge limit Linux reads correctly): ${path}`);
    return { path, name, parent, ecmaId: empty, jolietId: empty };
  };
  const attach = <N extends PlanNode>(node: N): N => {
    if (nodes.has(node.path)) throw new UserError(`two entries for the same path: ${node.path}`);
    nodes.set(node.path, node);
    node.parent.children.push(node);
    return node;
  };
  function dirNode(path: string, mode: number): PlanDir {
    const { name, parent } = baseOf(path);
    return attach({ kind: 'dir', path, name, parent, mode: S_IFDIR | (mode & 0o7777), ecmaId: empty, jolietId: empty, ecmaParent: parent, ecmaEntries: [], jolietEntries: [], children: [], ecma: unplacedExtent(), joliet: unplacedExtent() });
  }
  const addNode = (e: ResolvedEntry): PlanNode => {
    if (e.type === 'dir') return dirNode(e.path, e.mode);
    const { path } = e;
    const { name, parent } = baseOf(path);
    if (e.type === 'symlink') return attach({ kind: 'symlink', path, name, parent, mode: S_IFLNK | 0o777, ecmaId: empty, jolietId: empty, size: 0, lba: 0, target: e.target });
    const source = e.content;
    if (source.size > MAX_FILE_SIZE && !options.level3) {
      throw new UserError(`file of 4 GiB or more needs ISO level 3 (multi-extent records); ask for level 3 to write it`, path);
    }
    return attach({ kind: 'file', path, name, parent, mode: S_IFREG | (e.mode & 0o7777), ecmaId: empty, jolietId: empty, size: source.size, lba: 0, source });
  };
  for (const e of entries) {
    if (e.type === 'dir' && nodes.get(e.path)?.kind === 'dir') continue;
    addNode(e);
  }
  const boot = options.boot;
  if (boot && !boot.bios && !boot.efi) throw new UserError('boot options given without a BIOS or EFI boot image');
  if (boot?.catalogPath !== undefined) attach({ ...baseOf(boot.catalogPath), kind: 'catalog', mode: S_IFREG | 0o444, size: BLOCK, lba: 0 });
  return { root, nodes, rrMoved: relocateDeep(root) };
}

const RR_MOVED = 'rr_moved';

/**
 * ECMA-119 allows 8 directory levels (the root is level 1). A directory that would be deeper moves,
 * in the ECMA tree only, to `/rr_moved` (genisoimage's place for it), and Rock Ridge readers put it
 * back through CL/PL/RE; Joliet keeps the real tree. Returns `rr_moved`, when anything moved.
 */
function relocateDeep(root: PlanDir): PlanDir | undefined {
  let rrMoved: PlanDir | undefined;
  const walk = (d: PlanDir, level: number): void => {
    for (const c of d.children) {
      if (c.kind !== 'dir') continue;
      if (level + 1 <= 8) {
        walk(c, level + 1);
        continue;
      }
      if (!rrMoved) {
        if (root.children.some((n) => n.name === RR_MOVED)) throw new UserError(`directory nested deeper than 8 levels needs /${RR_MOVED} for its Rock Ridge relocation, but the tree has its own ${RR_MOVED}: ${c.path}`);
        rrMoved = { kind: 'dir', path: RR_MOVED, name: RR_MOVED, parent: root, ecmaParent: root, mode: root.mode, children: [], ecmaEntries: [], jolietEntries: [], ecmaId: new Uint8Array(0), jolietId: new Uint8Array(0), ecma: unplacedExtent(), joliet: unplacedExtent() };
      }
      c.ecmaParent = rrMoved;
      rrMoved.children.push(c);
      walk(c, 3);
    }
  };
  walk(root, 1);
  return rrMoved;
}

/**
 * Phase 2: identifiers of both trees and each directory's sort order; the directories
 * breadth-first, which is path-table order (ECMA, and Joliet sorted by its own identifiers).
 */
function nameTrees(
  root: PlanDir,
  nodes: ReadonlyMap<string, PlanNode>,
  joliet: Joliet,
  rrMoved: PlanDir | undefined,
): { dirs: PlanDir[]; jolietDirs: PlanDir[]; jolietCut: IsoPlan['jolietCut'] } {
  const jolietCut: { path: string; joliet: string }[] = [];
  const relocated = (n: PlanNode): n is PlanDir => n.kind === 'dir' && n.ecmaParent !== n.parent;
  // the real tree, breadth-first: both trees' names, and each directory's ECMA records
  const tree: PlanDir[] = [root];
  for (let i = 0; i < tree.length; i++) {
    const d = tree[i]!;
    const named = d === root && rrMoved ? [...d.children, rrMoved] : d.children;
    // ECMA identifiers are ASCII: their order as strings is the order of their bytes
    const ecma = ecmaIdentifiers(named.map((c) => ({ name: c.name, isDir: c.kind === 'dir' }))).map((text, j) => {
      const node = named[j]!;
      const id = utf8Bytes(text);
      if (relocated(node)) node.placeholderId = id;
      else node.ecmaId = id;
      return { node, id, key: ecmaSortKey(text) };
    });
    if (joliet) {
      let jids: string[];
      try {
        jids = jolietIdentifiers(d.children.map((c) => ({ name: c.name, isDir: c.kind === 'dir' })), joliet);
      } catch (err) {
        if (err instanceof NameTooLong) throw new UserError(`${err.message} (in /${d.path}); use Joliet truncation, -joliet-long names, or no Joliet`);
        throw err;
      }
      // UCS-2 code units compare as JS strings do
      const order = jids.map((id, j) => {
        const c = d.children[j]!;
        c.jolietId = ucs2be(id);
        if (c.name.length > joliet.limit && jolietLength(c.name) > joliet.limit) jolietCut.push({ path: c.path, joliet: id });
        return { node: c, id };
      });
      d.jolietEntries = order.sort((a, b) => byString(a.id, b.id)).map((o) => o.node);
    }
    ecma.sort((a, b) => byString(a.key, b.key));
    let k = 0;
    for (const e of ecma) if (e.node !== rrMoved) d.children[k++] = e.node;
    d.ecmaEntries = ecma.map(({ node, id }) => ({ node, id, placeholder: relocated(node) }));
    for (const c of d.children) if (c.kind === 'dir') tree.push(c);
  }
  if (rrMoved) {
    const ids = ecmaIdentifiers(rrMoved.children.map((c) => ({ name: c.name, isDir: true })));
    const moved = rrMoved.children.map((node, j) => ({ node, id: utf8Bytes(ids[j]!), key: ecmaSortKey(ids[j]!) })).sort((a, b) => byString(a.key, b.key));
    moved.forEach(({ node }, j) => (rrMoved.children[j] = node));
    rrMoved.ecmaEntries = moved.map(({ node, id }) => ({ node, id, placeholder: false }));
  }
  // the ECMA tree breadth-first: its path-table order
  const dirs: PlanDir[] = [root];
  for (let i = 0; i < dirs.length; i++) {
    for (const e of dirs[i]!.ecmaEntries) if (e.node.kind === 'dir' && !e.placeholder) dirs.push(e.node);
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
      for (const c of jolietDirs[i]!.jolietEntries) if (c.kind === 'dir') jolietDirs.push(c);
    }
  }
  return { dirs, jolietDirs, jolietCut };
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Continuation areas for system-use entries that do not fit inline, packed into consecutive
 * blocks of the continuation region; an area that fills its block chains on with a `CE`.
 */
class ContinuationSpace {
  readonly areas: CeArea[] = [];
  private block = 0;
  private offset = 0;

  place(parts: Uint8Array[]): CeRef {
    const total = parts.reduce((n, e) => n + e.length, 0);
    let take = parts.length;
    let used = total;
    if (total > BLOCK - this.offset) {
      take = 0;
      used = 0;
      while (take < parts.length && used + parts[take]!.length + CE_LENGTH <= BLOCK - this.offset) used += parts[take++]!.length;
      if (take === 0) {
        this.block++;
        this.offset = 0;
        return this.place(parts);
      }
    }
    const area: CeArea = { block: this.block, offset: this.offset, length: used + (take < parts.length ? CE_LENGTH : 0), parts: parts.slice(0, take) };
    this.offset += area.length;
    this.areas.push(area);
    if (take < parts.length) area.parts.push(this.place(parts.slice(take)));
    return area;
  }

  get blocks(): number {
    return this.areas.length > 0 ? this.block + 1 : 0;
  }
}

/**
 * Phase 3: every directory's records (Rock Ridge entries inline, the rest in continuation areas),
 * which fixes each directory extent's size.
 */
function directoryRecords(root: PlanDir, dirs: readonly PlanDir[], jolietDirs: readonly PlanDir[], epoch: number): { space: ContinuationSpace; relocationLinks: { entry: Uint8Array; dir: PlanDir }[] } {
  const space = new ContinuationSpace();
  const relocationLinks: { entry: Uint8Array; dir: PlanDir }[] = [];
  const link = (entry: Uint8Array, dir: PlanDir) => {
    relocationLinks.push({ entry, dir });
    return entry;
  };
  const links = (d: PlanDir) => {
    let n = 2;
    for (const c of d.children) if (c.kind === 'dir') n++;
    return n;
  };
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
  /** One extent's records in order, placed as they come; a file over 4 GiB − 1 gets one record per section, each with the same identifier and entries. */
  const extent = (records: readonly { node: PlanNode; id: Uint8Array; su: Uint8Array[]; placeholder?: boolean }[], number: number): DirExtent => {
    const planned: PlannedRecord[] = [];
    let end = 0;
    for (const { node, id, su, placeholder } of records) {
      const size = node.kind === 'dir' ? 0 : node.size;
      const sections = size > MAX_FILE_SIZE ? Math.ceil(size / SECTION_BYTES) : 1;
      for (let section = 0; section < sections; section++) {
        const { inline, spill } = splitInline(su, systemUseRoom(id.length));
        const systemUse: SystemUsePart[] = inline;
        let suBytes = 0;
        for (const e of inline) suBytes += e.length;
        if (spill.length > 0) {
          systemUse.push(space.place(spill));
          suBytes += CE_LENGTH;
        }
        const length = recordLength(id.length, suBytes);
        const offset = recordOffset(end, length);
        end = offset + length;
        planned.push(sections > 1 ? { node, id, systemUse, offset, section } : placeholder ? { node, id, systemUse, offset, placeholder } : { node, id, systemUse, offset });
      }
    }
    return { lba: 0, size: extentSize(end), number, records: planned };
  };
  dirs.forEach((d, i) => {
    const self = d === root ? [sp(), ...rrEntries(d), er()] : rrEntries(d);
    const moved = d.ecmaParent !== d.parent;
    d.ecma = extent(
      [
        { node: d, id: Uint8Array.of(0), su: self },
        { node: d.ecmaParent, id: Uint8Array.of(1), su: [...rrEntries(d.ecmaParent), ...(moved ? [link(pl(), d.parent)] : [])] },
        ...d.ecmaEntries.map(({ node: c, id, placeholder }) => {
          const su = rrEntries(c);
          su.push(...nm(utf8Bytes(c.name)));
          if (c.kind === 'symlink') su.push(...sl(c.target));
          if (placeholder) su.push(link(cl(), c as PlanDir));
          else if (c.kind === 'dir' && c.ecmaParent !== c.parent) su.push(re());
          return { node: c, id, su, placeholder };
        }),
      ],
      i + 1,
    );
  });
  jolietDirs.forEach((d, i) => {
    d.joliet = extent(
      [
        { node: d, id: Uint8Array.of(0), su: [] },
        { node: d.parent, id: Uint8Array.of(1), su: [] },
        ...d.jolietEntries.map((c) => ({ node: c, id: c.jolietId, su: [] })),
      ],
      i + 1,
    );
  });
  return { space, relocationLinks };
}

interface Allocation {
  readonly lba: IsoPlan['lba'];
  readonly files: PlanFile[];
  readonly bios?: PlanFile;
  readonly efi?: PlanFile;
  /** The partition-offset descriptor set and the shift of the second metadata copy. */
  readonly second?: { readonly pvd: number; readonly svd?: number; readonly terminator: number; readonly metaShift: number };
  /** Where the appended UEFI image starts (the end of partition 1). */
  readonly appendedLba?: number;
  /** First block after the last file. */
  readonly end: number;
}

function bootFile(nodes: ReadonlyMap<string, PlanNode>, path: string, what: string): PlanFile {
  const n = nodes.get(path);
  if (!n || n.kind !== 'file') throw new UserError(`${what} boot image is not a file in the tree: ${path}`);
  if (n.size === 0) throw new UserError(`${what} boot image is empty: ${path}`);
  return n;
}

/**
 * Phase 4: block addresses in emission order: descriptors, catalog, path tables, directories,
 * continuation region, Joliet directories, the empty extent, then file data (boot images first;
 * names given the very same Source share one extent).
 */
function allocateBlocks(
  nodes: ReadonlyMap<string, PlanNode>,
  trees: { dirs: readonly PlanDir[]; jolietDirs: readonly PlanDir[]; ptSize: number; jptSize: number; continuationBlocks: number },
  boot: BootOptions | undefined,
  joliet: Joliet,
  appendedEfi: string | undefined,
): Allocation {
  let lba = 17;
  const bootRecord = boot ? lba++ : undefined;
  const svd = joliet ? lba++ : undefined;
  const terminator = lba++;
  const catalog = boot ? lba++ : undefined;
  let second: { pvd: number; svd?: number; terminator: number } | undefined;
  if (appendedEfi !== undefined) {
    // partition 1 starts at block 16: its own superblock set sits at its block 16
    if (lba > 2 * PARTITION_OFFSET) throw new Error('first descriptor set overruns the partition-offset one');
    lba = 2 * PARTITION_OFFSET;
    const pvd = lba++;
    const svd2 = joliet ? lba++ : undefined;
    second = { pvd, ...(svd2 !== undefined ? { svd: svd2 } : {}), terminator: lba++ };
  }
  const lPath = lba;
  lba += blocks(trees.ptSize);
  const mPath = lba;
  lba += blocks(trees.ptSize);
  let jlPath: number | undefined;
  let jmPath: number | undefined;
  if (joliet) {
    jlPath = lba;
    lba += blocks(trees.jptSize);
    jmPath = lba;
    lba += blocks(trees.jptSize);
  }
  for (const d of trees.dirs) {
    d.ecma.lba = lba;
    lba += d.ecma.size / BLOCK;
  }
  const continuation = lba;
  lba += trees.continuationBlocks;
  for (const d of trees.jolietDirs) {
    d.joliet.lba = lba;
    lba += d.joliet.size / BLOCK;
  }
  // the second copy of the metadata, for the volume of partition 1
  const metaShift = lba - lPath;
  if (second) lba += metaShift;
  const all = [...nodes.values()];
  const isEmptyExtent = (n: PlanNode): n is PlanSymlink | PlanFile => n.kind === 'symlink' || (n.kind === 'file' && n.size === 0);
  // relocation placeholders point at the empty extent, as genisoimage's do
  const placeholders = trees.dirs.some((d) => d.ecmaParent !== d.parent);
  const empty = all.some(isEmptyExtent) || placeholders ? lba++ : undefined;
  const bios = boot?.bios ? bootFile(nodes, boot.bios.path, 'BIOS') : undefined;
  const efi = boot?.efi && boot.efi.path !== appendedEfi ? bootFile(nodes, boot.efi.path, 'EFI') : undefined;
  const files: PlanFile[] = [];
  for (const f of [bios, efi]) if (f && !files.includes(f)) files.push(f);
  // names given the very same Source share one extent (hard links kept when an image is rebuilt)
  const extentOf = new Map<Source, PlanFile>(files.map((f) => [f.source, f]));
  const sharing: [PlanFile, PlanFile][] = [];
  for (const n of all) {
    if (n.kind !== 'file' || n.size === 0 || n === bios || n === efi) continue;
    const first = extentOf.get(n.source);
    if (first) sharing.push([n, first]);
    else {
      extentOf.set(n.source, n);
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
    if (isEmptyExtent(n) && empty !== undefined) n.lba = empty;
    if (n.kind === 'catalog' && catalog !== undefined) n.lba = catalog;
  }
  return {
    lba: { bootRecord, svd, terminator, catalog, lPath, mPath, jlPath, jmPath, continuation, empty, data },
    files,
    ...(bios ? { bios } : {}),
    ...(efi ? { efi } : {}),
    ...(second ? { second: { ...second, metaShift } } : {}),
    // the ESP starts at an odd block: with a start of 4 (mod 8) sectors, sgdisk's partition alignment
    // stays small and the image size is free to avoid whole cylinders (see bootAndSystemArea)
    ...(appendedEfi !== undefined ? { appendedLba: lba % 2 === 1 ? lba : lba + 1 } : {}),
    end: lba,
  };
}

/**
 * Phase 5: the El Torito entries, the tail padding (media check, backup GPT) and the isohybrid
 * system area, whose cylinder rounding fixes the volume size.
 */
function bootAndSystemArea(
  alloc: Allocation,
  options: IsoOptions,
  volumeId: string,
  appended: Source | undefined,
): { boot: CatalogEntry[]; hybrid?: HybridLayout; volumeBlocks: number; imageBlocks: number } {
  const { bios, efi } = alloc;
  const boot = options.boot;
  const entries: CatalogEntry[] = [];
  const fileEnd = alloc.end;
  if (bios) {
    const loadSectors = boot?.bios?.loadSectors ?? 4;
    if (!Number.isInteger(loadSectors) || loadSectors < 1 || loadSectors > 65535) throw new UserError(`BIOS boot load size must be 1–65535 sectors, got ${loadSectors}`);
    entries.push({ platform: PLATFORM_BIOS, lba: bios.lba, sectors: loadSectors });
    if (boot?.bios?.bootInfoTable) {
      if (bios.size > 1 << 20) throw new UserError(`BIOS boot image larger than 1 MiB cannot carry a boot-info table: ${bios.path}`);
      if (bios.size < 64) throw new UserError(`BIOS boot image shorter than 64 bytes cannot carry a boot-info table: ${bios.path}`);
      bios.bootInfo = { grub2: Boolean(boot.bios.grub2BootInfo) };
    }
  }
  // an appended UEFI image starts right after the ISO data; its entry counts the padded partition
  const efiImage = efi ? { lba: efi.lba, size: efi.size, path: efi.path } : appended && boot?.efi ? { lba: alloc.appendedLba!, size: blocks(appended.size) * BLOCK, path: boot.efi.path } : undefined;
  if (efiImage) {
    const sectors = boot?.efi?.loadSectors ?? Math.ceil(efiImage.size / 512);
    if (!Number.isInteger(sectors) || sectors < 1) throw new UserError(`EFI boot load size must be 1–65535 sectors, got ${sectors}`);
    if (sectors > 65535) throw new UserError(`EFI boot image larger than 32 MiB − 512 bytes (El Torito sector count limit): ${efiImage.path}`);
    entries.push({ platform: PLATFORM_EFI, lba: efiImage.lba, sectors });
  }
  const g2 = options.hybrid?.grub2;
  if (g2 && appended) {
    const bootCode = options.hybrid?.bootCode ?? new Uint8Array(432);
    const appendedBlocks = blocks(appended.size);
    const isoEnd = alloc.appendedLba!;
    // As xorriso: the ESP, 300 KiB padding (GPT Gap1), then 16 blocks for the backup GPT; the first
    // descriptor set spans all of it, partition 1's ends at the ESP. Gap1 ends where sgdisk's
    // alignment (the largest power of two up to 64 sectors dividing every start) expects an end,
    // and the image is no whole number of 32-sector cylinders, or xorriso reports cyl-align-on.
    const starts = [PARTITION_OFFSET * 4, isoEnd * 4, (isoEnd + appendedBlocks) * 4];
    let align = 64;
    while (starts.some((x) => x % align !== 0)) align /= 2;
    let gap = 150;
    const total = () => isoEnd + appendedBlocks + gap + 16;
    while (((isoEnd + appendedBlocks + gap) * 4) % align !== 0 || (total() * 4) % 32 === 0 || (total() * 4) % 63 === 0) gap++;
    const imageBlocks = total();
    const hybrid: HybridLayout = {
      bootCode,
      imageBytes: imageBlocks * BLOCK,
      biosLba: bios?.lba ?? 0,
      gpt: true,
      volumeId,
      epoch: options.epoch,
      grub2: { ids: g2.ids, isoEnd: isoEnd * 4, appendedSectors: appendedBlocks * 4 },
    };
    return { boot: entries, hybrid, volumeBlocks: imageBlocks, imageBlocks };
  }
  let lba = fileEnd;
  // the media check never hashes the last 15 blocks, and needs ≥ 336 sectors to pass checkisomd5
  if (options.mediaCheck) lba = Math.max(fileEnd + 15, 336);
  const kept = options.hybrid?.gpt ? options.hybrid.isohybridUefi : undefined;
  // xorriso's form: the backup GPT (63 sectors) lies in the volume's tail, after every file
  if (options.hybrid?.gpt && !kept) lba = Math.max(lba, fileEnd + 16);
  if (!options.hybrid) return { boot: entries, volumeBlocks: lba, imageBlocks: lba };
  const bootCode = options.hybrid.bootCode ?? new Uint8Array(432);
  if (bootCode.length !== 432) throw new UserError(`isohybrid MBR boot code must be 432 bytes, got ${bootCode.length}`);
  const volumeBlocks = lba;
  // isohybrid --uefi pads past the volume, to whole cylinders with room for its 33-sector backup GPT
  if (kept) lba += blocks(gptBackupSectors(true) * SECTOR);
  const cyl = geometry(lba * BLOCK).cylinderBytes / BLOCK;
  lba = Math.ceil(lba / cyl) * cyl;
  const efiEntry = entries.find((e) => e.platform === PLATFORM_EFI);
  const hybrid: HybridLayout = {
    bootCode,
    imageBytes: lba * BLOCK,
    biosLba: bios?.lba ?? 0,
    gpt: Boolean(options.hybrid.gpt),
    volumeId,
    epoch: options.epoch,
    ...(efi ? { efi: { lba: efi.lba, size: efi.size } } : {}),
    ...(kept ? { isohybridUefi: { ids: kept, volumeBytes: volumeBlocks * BLOCK, efiSectors: efiEntry?.sectors ?? 0 } } : {}),
    ...(options.hybrid.gpt && !kept && options.hybrid.keptIds ? { keptIds: options.hybrid.keptIds } : {}),
  };
  return { boot: entries, hybrid, volumeBlocks: kept ? volumeBlocks : lba, imageBlocks: lba };
}

/** Plan the image of `entries`: the five phases in order. */
export function planIso(allEntries: readonly ResolvedEntry[], options: IsoOptions): IsoPlan {
  const appendedEfi = options.hybrid?.grub2?.appendedEfi;
  let entries = allEntries;
  let appended: Source | undefined;
  if (appendedEfi !== undefined) {
    const e = allEntries.find((x) => x.path === appendedEfi);
    if (e?.type !== 'file' || e.content.size === 0) throw new UserError(`the UEFI image to append as GPT partition 2 is not a file of the tree: ${appendedEfi}`);
    appended = e.content;
    entries = allEntries.filter((x) => x !== e);
  }
  const ids = volumeIds(options);
  const joliet: Joliet = jolietPolicy(options.joliet);
  const { root, nodes, rrMoved } = nodeTree(entries, options);
  const { dirs, jolietDirs, jolietCut } = nameTrees(root, nodes, joliet, rrMoved);
  const { space: continuation, relocationLinks } = directoryRecords(root, dirs, jolietDirs, options.epoch);
  const ptSize = pathTableSize(dirs.map((d) => ({ id: d.ecmaId })));
  const jptSize = pathTableSize(jolietDirs.map((d) => ({ id: d.jolietId })));
  // CL/PL carry absolute block numbers in bytes shared by both trees of a partition-offset image
  if (appendedEfi !== undefined && relocationLinks.length > 0) throw new UserError(`directories nested deeper than 8 levels cannot be written with a partition offset (Rock Ridge relocation): ${relocationLinks[0]!.dir.path}`);
  const alloc = allocateBlocks(nodes, { dirs, jolietDirs, ptSize, jptSize, continuationBlocks: continuation.blocks }, options.boot, joliet, appendedEfi);
  for (const { entry, dir } of relocationLinks) both32(entry, 4, dir.ecma.lba);
  const { boot, hybrid, volumeBlocks, imageBlocks } = bootAndSystemArea(alloc, options, ids.volumeId, appended);
  return {
    ids,
    epoch: options.epoch,
    root,
    dirs,
    jolietDirs,
    pathTableSize: ptSize,
    jolietPathTableSize: jptSize,
    jolietCut,
    lba: alloc.lba,
    continuationAreas: continuation.areas,
    continuationBlocks: continuation.blocks,
    files: alloc.files,
    boot,
    ...(hybrid ? { hybrid } : {}),
    volumeBlocks,
    imageBlocks,
    ...(alloc.second ? { partition: { ...alloc.second, volumeBlocks: alloc.appendedLba! - PARTITION_OFFSET } } : {}),
    ...(appended ? { appended: { lba: alloc.appendedLba!, source: appended } } : {}),
  };
}
