/**
 * ESXi VIBs and offline bundles read back the way esxcli's esximage reads them before it
 * installs (`esxi.md` §8.4, §9 checks 1–9, 11–13): member order, descriptor, payload sizes and
 * every recorded checksum, file list against the payload contents, payload names, the CMS
 * signature over the descriptor and the acceptance level it allows, and for a bundle its index,
 * metadata records and bulletins against the VIBs it carries. Payloads are streamed once (hashed
 * and listed on the way); a bundle's members are spooled to a scratch folder, never held whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { FormatError } from '../errors.js';
import { Findings, type Finding } from '../findings.js';
import { listAr, type ArMember, type ReadAt } from '../formats/ar/ar.js';
import { decompress } from '../formats/compress/index.js';
import { ACCEPTANCE_NAMES, DESCRIPTOR_ORDER, parseDescriptor, RELATIONSHIP_ORDER, vibId, type Descriptor } from '../formats/esxi/descriptor.js';
import { PAYLOAD_NAME } from '../formats/esxi/payload.js';
import { PayloadLister, type PayloadEntry } from '../formats/esxi/payload-list.js';
import { child, children, parseXml, textOf, type XmlElement } from '../formats/esxi/xml-tree.js';
import { listZip, readZipEntry, type ZipEntry } from '../formats/zip/read.js';
import type { CmsVerification } from '../sign/cms.js';
import { fromPem } from '../sign/pem.js';
import { limitFromEnv, TooLargeError } from '../tree/bounded.js';
import type { Scratch } from '../tree/scratch.js';

/** Trust anchors and signer certificates to check signatures with (`--ca`), DER. */
export interface SignatureCheck {
  ca?: Uint8Array[];
}

export interface ArMemberFacts {
  name: string;
  /** `bare` (VMware: space-padded) or `gnu` (`name/`). */
  form: 'bare' | 'gnu';
  mode: string;
  mtime: number;
  uid: number;
  gid: number;
  size: number;
}

export interface ChecksumFacts {
  type: string;
  verifyProcess?: string;
  recorded: string;
  actual?: string;
  ok: boolean;
}

export interface PayloadFacts {
  name: string;
  type: string;
  size: number;
  format?: 'tar' | 'vmtar';
  uncompressedSize?: number;
  checksums: ChecksumFacts[];
  entries: PayloadEntry[];
}

export interface SignatureFacts {
  size: number;
  pem: boolean;
  cms?: CmsVerification;
  problem?: string;
}

export interface VibFacts {
  id: string;
  size: number;
  sha256: string;
  members: ArMemberFacts[];
  descriptor: Descriptor;
  descriptorVersion?: string;
  elementOrder: string[];
  payloads: PayloadFacts[];
  signature: SignatureFacts;
}

export interface BundleVib {
  path: string;
  size: number;
  sha256: string;
  vib?: VibFacts;
}

export interface BundleFacts {
  members: { name: string; method: number; size: number; compressedSize: number }[];
  vendors: { name: string; code: string; indexfile: string }[];
  metadata: { productId: string; version: string; url: string }[];
  metadataZip?: string;
  metadataMembers: string[];
  bulletins: { id: string; vendor: string; summary: string; releaseDate: string; component?: { name: string; uiString: string }; componentVersion?: { uiString: string; version: string }; platforms: string[]; vibIds: string[] }[];
  records: { file: string; id: string; relativePath: string; packedSize: number; sha256: string }[];
  vibs: BundleVib[];
}

type Read = ReadAt;

export async function withFile<T>(path: string, use: (readAt: Read, size: number) => Promise<T>): Promise<T> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const readAt: Read = async (offset, length) => {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      return buf.subarray(0, bytesRead);
    };
    return await use(readAt, size);
  } finally {
    await fh.close();
  }
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path)) h.update(c as Buffer);
  return h.digest('hex');
}

const rangeStream = (path: string, m: ArMember) => (m.size === 0 ? [] : (createReadStream(path, { start: m.offset, end: m.offset + m.size - 1 }) as AsyncIterable<Uint8Array>));

/** Hash a payload as stored and uncompressed, and list it, in one read. */
async function readPayload(path: string, m: ArMember, type: string): Promise<{ stored: Record<string, string>; plain: Record<string, string>; lister: PayloadLister; plainSize: number }> {
  const stored = { 'sha-256': createHash('sha256'), 'sha-1': createHash('sha1') };
  const plain = { 'sha-256': createHash('sha256'), 'sha-1': createHash('sha1') };
  const lister = new PayloadLister();
  let plainSize = 0;
  async function* tapped() {
    for await (const c of rangeStream(path, m)) {
      stored['sha-256'].update(c);
      stored['sha-1'].update(c);
      yield c;
    }
  }
  const unpacked = type === 'tgz' || type === 'vgz' ? decompress(tapped()) : tapped();
  for await (const c of unpacked) {
    plain['sha-256'].update(c);
    plain['sha-1'].update(c);
    plainSize += c.length;
    lister.push(c);
  }
  const hex = (o: Record<string, ReturnType<typeof createHash>>) => Object.fromEntries(Object.entries(o).map(([k, h]) => [k, h.digest('hex')]));
  return { stored: hex(stored), plain: hex(plain), lister, plainSize };
}

const memberBytes = async (readAt: Read, m: ArMember) => readAt(m.offset, m.size);
const MAX_DESCRIPTOR = 16 << 20;

/** Read and check a VIB file. */
export async function readVibFile(path: string, check: SignatureCheck = {}): Promise<{ facts: VibFacts; findings: Finding[] }> {
  const f = new Findings();
  const size = (await stat(path)).size;
  const sha256 = await sha256Of(path);
  return withFile(path, async (readAt) => {
    let members: ArMember[];
    try {
      members = await listAr(readAt, size);
    } catch (err) {
      if (err instanceof FormatError) throw new FormatError(`not a VIB: ${err.message}`);
      throw err;
    }
    const memberFacts: ArMemberFacts[] = members.map((m) => ({ name: m.name, form: m.rawName.trimEnd().endsWith('/') ? 'gnu' : 'bare', mode: m.mode, mtime: m.mtime, uid: m.uid, gid: m.gid, size: m.size }));
    const byName = new Map(members.map((m) => [m.name, m]));
    const desc = byName.get('descriptor.xml');
    if (!desc) throw new FormatError('not a VIB: no descriptor.xml member');
    if (desc.size > MAX_DESCRIPTOR) throw new FormatError(`descriptor.xml of ${desc.size} bytes; more than ${MAX_DESCRIPTOR} is not a VIB descriptor`);
    const descriptorBytes = await memberBytes(readAt, desc);
    const text = Buffer.from(descriptorBytes).toString('utf8');
    let parsed;
    try {
      parsed = parseDescriptor(text);
    } catch (err) {
      f.error('ESXI_DESCRIPTOR_XML', 'descriptor.xml', (err as Error).message);
      const empty = parseDescriptor('<vib/>').descriptor;
      return { facts: { id: '', size, sha256, members: memberFacts, descriptor: empty, elementOrder: [], payloads: [], signature: { size: byName.get('sig.pkcs7')?.size ?? 0, pem: false } }, findings: f.list };
    }
    const d = parsed.descriptor;
    checkDescriptor(parsed, f);
    // member order: descriptor.xml, sig.pkcs7, the payloads in <payloads> order (check 2)
    const expected = ['descriptor.xml', 'sig.pkcs7', ...d.payloads.map((p) => p.name)];
    const names = members.map((m) => m.name);
    if (names.join('\0') !== expected.join('\0')) f.error('ESXI_MEMBER_ORDER', '', `ar members are ${names.join(', ')}; esximage expects ${expected.join(', ')}`);
    // payloads: names, sizes, checksums, contents (checks 5–8)
    const payloads: PayloadFacts[] = [];
    const listed: string[] = [];
    for (const p of d.payloads) {
      if (!PAYLOAD_NAME.test(p.name)) f.error('ESXI_PAYLOAD_NAME', p.name, 'a payload name must be 1–8 characters of [a-z0-9_-]: the boot module name is made of it');
      const m = byName.get(p.name);
      if (!m) {
        f.error('ESXI_PAYLOAD_MISSING', p.name, 'the descriptor lists this payload but the archive has no such member');
        continue;
      }
      if (m.size !== p.size) f.error('ESXI_PAYLOAD_SIZE', p.name, `the descriptor says ${p.size} bytes, the member has ${m.size}`);
      let read;
      try {
        read = await readPayload(path, m, p.type);
      } catch (err) {
        f.error('ESXI_PAYLOAD_UNREADABLE', p.name, `cannot be unpacked: ${(err as Error).message}`);
        // the checksum of the stored bytes still tells whether they are the ones the descriptor names
        const h = createHash('sha256');
        for await (const c of rangeStream(path, m)) h.update(c);
        const stored = h.digest('hex');
        const checksums = p.checksums.map((c): ChecksumFacts => (c.type === 'sha-256' && !c.verifyProcess ? { type: c.type, recorded: c.hex, actual: stored, ok: stored === c.hex } : { ...c, recorded: c.hex, ok: false }));
        for (const c of checksums) if (c.actual && !c.ok) f.error('ESXI_PAYLOAD_CHECKSUM', p.name, `sha-256 is ${c.actual}, the descriptor says ${c.recorded}: the install fails`);
        payloads.push({ name: p.name, type: p.type, size: m.size, checksums, entries: [] });
        continue;
      }
      const checksums: ChecksumFacts[] = p.checksums.map((c) => {
        const actual = (c.verifyProcess === 'gunzip' ? read.plain : read.stored)[c.type];
        return { type: c.type, ...(c.verifyProcess ? { verifyProcess: c.verifyProcess } : {}), recorded: c.hex, ...(actual ? { actual } : {}), ok: actual === c.hex };
      });
      for (const c of checksums) {
        if (!c.actual) f.warning('ESXI_PAYLOAD_CHECKSUM', p.name, `a ${c.type} checksum, which dudkit cannot compute`);
        else if (!c.ok) f.error('ESXI_PAYLOAD_CHECKSUM', p.name, `${c.type}${c.verifyProcess ? ` (${c.verifyProcess})` : ''} is ${c.actual}, the descriptor says ${c.recorded}: the install fails`);
      }
      if (!checksums.some((c) => c.type === 'sha-256')) f.warning('ESXI_PAYLOAD_CHECKSUM', p.name, 'no sha-256 checksum');
      if (p.uncompressedSize !== undefined && p.uncompressedSize !== read.plainSize) f.error('ESXI_PAYLOAD_SIZE', p.name, `uncompressed-size says ${p.uncompressedSize}, the payload unpacks to ${read.plainSize} bytes`);
      const entries = read.lister.entries;
      if (p.type === 'tgz') checkTarEntries(p.name, entries, f);
      listed.push(...entries.filter((e) => e.type !== 'dir').map((e) => e.name.replace(/^\.?\//, '')));
      payloads.push({ name: p.name, type: p.type, size: m.size, ...(read.lister.format ? { format: read.lister.format } : {}), uncompressedSize: read.plainSize, checksums, entries });
    }
    compareFileList(d.files, listed, f);
    const signature = await checkSignature(readAt, byName.get('sig.pkcs7'), descriptorBytes, d, check, f);
    return { facts: { id: vibId(d), size, sha256, members: memberFacts, descriptor: d, ...(parsed.version !== undefined ? { descriptorVersion: parsed.version } : {}), elementOrder: parsed.order, payloads, signature }, findings: f.list };
  });
}

function checkDescriptor(p: ReturnType<typeof parseDescriptor>, f: Findings): void {
  const d = p.descriptor;
  if (p.version !== '5.0') f.warning('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `<vib version="${p.version ?? ''}">; every known descriptor says 5.0`);
  const missing = DESCRIPTOR_ORDER.filter((e) => !p.order.includes(e));
  if (missing.length) f.error('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `missing ${missing.map((m) => `<${m}>`).join(', ')}`);
  const known = p.order.filter((e) => (DESCRIPTOR_ORDER as readonly string[]).includes(e));
  if (known.join() !== DESCRIPTOR_ORDER.filter((e) => known.includes(e)).join()) f.warning('ESXI_DESCRIPTOR_ORDER', 'descriptor.xml', `elements in the order ${known.join(', ')}, not VMware's`);
  if (p.relationshipOrder.join() !== RELATIONSHIP_ORDER.join()) f.warning('ESXI_DESCRIPTOR_ORDER', 'descriptor.xml', `<relationships> holds ${p.relationshipOrder.join(', ') || 'nothing'}, not ${RELATIONSHIP_ORDER.join(', ')}`);
  if (p.systemRequires.includes('maintenanceMode')) f.warning('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', '<maintenanceMode> in <system-requires>: esximage reads <maintenance-mode> (TGZ2VIB5 wrote this)');
  for (const [tag, value] of [['name', d.name], ['vendor', d.vendor]] as const) if (!/^[A-Za-z0-9._-]+$/.test(value)) f.error('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `<${tag}> ${JSON.stringify(value)} is not [A-Za-z0-9._-]+ (part of the VIB ID)`);
  if (!/^[^-\s]+-[^\s]+$/.test(d.version)) f.error('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `<version> ${JSON.stringify(d.version)} is not <version>-<release>`);
  if (!(d.acceptance in ACCEPTANCE_NAMES)) f.error('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `<acceptance-level> ${JSON.stringify(d.acceptance)} is none of community, partner, accepted, certified`);
  if (!['bootbank', 'locker'].includes(d.type)) f.warning('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `<type> ${d.type}: drivers are bootbank`);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?$/.test(d.releaseDate)) f.warning('ESXI_DESCRIPTOR_VALUE', 'descriptor.xml', `<release-date> ${JSON.stringify(d.releaseDate)} is not YYYY-MM-DDTHH:MM:SS`);
}

/** tgz payloads: relative names, root owner, a folder entry before what lies beneath it (§4.2). */
function checkTarEntries(payload: string, entries: PayloadEntry[], f: Findings): void {
  const dirs = new Set<string>();
  const noParent: string[] = [];
  for (const e of entries) {
    const name = e.name.replace(/\/$/, '');
    if (e.name.startsWith('/') || e.name.startsWith('./')) f.warning('ESXI_PAYLOAD_ENTRY', payload, `${e.name}: a name with a leading / or ./`);
    const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
    if (parent && !dirs.has(parent.replace(/^\.\//, ''))) noParent.push(e.name);
    if (e.type === 'dir') dirs.add(name.replace(/^\.\//, ''));
  }
  if (noParent.length) f.warning('ESXI_PAYLOAD_ENTRY', payload, `no folder entry before ${noParent.slice(0, 3).join(', ')}${noParent.length > 3 ? ` and ${noParent.length - 3} more` : ''}: tgz payloads need an entry for every folder`);
  const foreign = entries.filter((e) => e.uid !== 0 || e.gid !== 0);
  if (foreign.length) f.info('ESXI_PAYLOAD_ENTRY', payload, `${foreign.length} entries not owned by 0:0 (${foreign[0]!.name} ${foreign[0]!.uid}:${foreign[0]!.gid}); the host installs them as root`);
}

/** The file list names every non-folder entry of the payloads (check 7); esximage compares sets. */
function compareFileList(files: string[], listed: string[], f: Findings): void {
  const inList = new Set(files);
  const inPayloads = new Set(listed);
  const notInPayload = files.filter((x) => !inPayloads.has(x));
  const notListed = listed.filter((x) => !inList.has(x));
  if (notInPayload.length) f.error('ESXI_FILE_LIST', 'descriptor.xml', `<file-list> names ${notInPayload.join(', ')}, which no payload holds`);
  if (notListed.length) f.error('ESXI_FILE_LIST', 'descriptor.xml', `the payloads hold ${notListed.join(', ')}, which <file-list> does not name`);
}

async function checkSignature(readAt: Read, sig: ArMember | undefined, descriptor: Uint8Array, d: Descriptor, check: SignatureCheck, f: Findings): Promise<SignatureFacts> {
  if (!sig || sig.size === 0) {
    if (d.acceptance !== 'community' && d.acceptance in ACCEPTANCE_NAMES) f.error('ESXI_UNSIGNED_ACCEPTANCE', 'sig.pkcs7', `empty, but the acceptance level is ${d.acceptance} (${ACCEPTANCE_NAMES[d.acceptance as keyof typeof ACCEPTANCE_NAMES]}), which needs a signature`);
    return { size: sig?.size ?? 0, pem: false };
  }
  if (sig.size > MAX_DESCRIPTOR) {
    f.error('ESXI_SIGNATURE_BAD', 'sig.pkcs7', `${sig.size} bytes, not a signature`);
    return { size: sig.size, pem: false };
  }
  const text = Buffer.from(await readAt(sig.offset, sig.size)).toString('latin1');
  const der = fromPem(text, 'PKCS7');
  if (!der) {
    f.error('ESXI_SIGNATURE_BAD', 'sig.pkcs7', 'not a PEM PKCS7 block');
    return { size: sig.size, pem: false };
  }
  try {
    // PKI.js is loaded only when there is a signature to check
    const { verifyDetached } = await import('../sign/cms.js');
    const cms = await verifyDetached(der, descriptor, { ...(check.ca ? { extra: check.ca, trusted: check.ca } : {}) });
    if (!cms.ok) f.error('ESXI_SIGNATURE_BAD', 'sig.pkcs7', `the signature does not verify over descriptor.xml: ${cms.problem ?? 'mismatch'}`);
    else if (check.ca && cms.trusted === false) f.error('ESXI_SIGNATURE_UNTRUSTED', 'sig.pkcs7', `signed by ${cms.signer?.subject ?? 'an unknown signer'}, which does not chain to the given certificate`);
    else if (!check.ca) f.info('ESXI_SIGNATURE_UNCHECKED', 'sig.pkcs7', `a valid signature by ${cms.signer?.subject ?? '?'}; whether the host trusts it is the host's (give --ca CA.pem to check the chain)`);
    if (cms.ok && d.acceptance === 'community') f.info('ESXI_SIGNATURE_UNCHECKED', 'sig.pkcs7', 'a signed VIB at acceptance level community');
    return { size: sig.size, pem: true, cms };
  } catch (err) {
    f.error('ESXI_SIGNATURE_BAD', 'sig.pkcs7', (err as Error).message);
    return { size: sig.size, pem: true, problem: (err as Error).message };
  }
}

const MAX_METADATA = 64 << 20;

/** A member written to the scratch folder; one larger than any driver VIB is refused, not written (a bomb fills disks). */
async function spoolEntry(readAt: Read, e: ZipEntry, scratch: Scratch, hint: string): Promise<string> {
  const limit = limitFromEnv();
  if (e.size > limit) throw new TooLargeError(`${e.name} unpacks to ${e.size} bytes`, limit);
  return scratch.spool(readZipEntry(readAt, e), e.name, hint);
}

async function entryText(readAt: Read, e: ZipEntry): Promise<string> {
  if (e.size > MAX_METADATA) throw new FormatError(`${e.name}: ${e.size} bytes, too large for a metadata file`);
  const parts: Uint8Array[] = [];
  for await (const c of readZipEntry(readAt, e)) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

/** Whether a zip's member names make it an ESXi offline bundle or component. */
export const isBundleListing = (names: readonly string[]) => names.includes('index.xml') || names.includes('vendor-index.xml') || (names.some((n) => n.endsWith('.vib')) && names.some((n) => /metadata.*\.zip$/.test(n)));

/** Read and check an offline bundle; its VIBs and metadata zip are spooled to `scratch`. */
export async function readBundleFile(path: string, scratch: Scratch, check: SignatureCheck = {}): Promise<{ facts: BundleFacts; findings: Finding[] }> {
  const f = new Findings();
  return withFile(path, async (readAt, size) => {
    const entries = await listZip(readAt, size);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const facts: BundleFacts = { members: entries.map((e) => ({ name: e.name, method: e.method, size: e.size, compressedSize: e.compressedSize })), vendors: [], metadata: [], metadataMembers: [], bulletins: [], records: [], vibs: [] };
    const xml = async (e: ZipEntry | undefined, what: string): Promise<XmlElement | undefined> => {
      if (!e) return undefined;
      try {
        return parseXml(await entryText(readAt, e), what);
      } catch (err) {
        f.error('ESXI_BUNDLE_INDEX', what, (err as Error).message);
        return undefined;
      }
    };
    const index = await xml(byName.get('index.xml'), 'index.xml');
    if (!byName.has('index.xml')) f.warning('ESXI_BUNDLE_INDEX', 'index.xml', 'missing: vSphere Lifecycle Manager rejects such bundles');
    for (const v of children(index, 'vendor')) {
      facts.vendors.push({ name: textOf(v, 'name') ?? '', code: textOf(v, 'code') ?? '', indexfile: textOf(v, 'indexfile') ?? '' });
      if (textOf(child(v, 'content'), 'type')?.trim() !== 'http://www.vmware.com/depotmanagement/esx') f.warning('ESXI_BUNDLE_INDEX', 'index.xml', 'no <content><type>http://www.vmware.com/depotmanagement/esx</type>: vSphere Lifecycle Manager rejects such bundles');
    }
    const vendorIndexName = facts.vendors[0]?.indexfile.trim() || 'vendor-index.xml';
    const vendorIndex = await xml(byName.get(vendorIndexName), vendorIndexName);
    if (!vendorIndex) f.error('ESXI_BUNDLE_INDEX', vendorIndexName, 'missing: esxcli finds no metadata');
    for (const m of children(vendorIndex, 'metadata')) facts.metadata.push({ productId: textOf(m, 'productId')?.trim() ?? '', version: textOf(m, 'version')?.trim() ?? '', url: textOf(m, 'url')?.trim() ?? '' });
    for (const m of facts.metadata) if (m.productId !== 'embeddedEsx') f.warning('ESXI_BUNDLE_INDEX', vendorIndexName, `productId ${m.productId}, not embeddedEsx`);
    const metaName = facts.metadata[0]?.url ?? entries.find((e) => /metadata.*\.zip$/.test(e.name))?.name;
    const metaEntry = metaName ? byName.get(metaName) : undefined;
    if (metaName && !metaEntry) f.error('ESXI_BUNDLE_METADATA', vendorIndexName, `names the metadata zip ${metaName}, which the bundle does not hold`);
    // the VIBs, spooled and read as esxcli does
    const vibMembers = entries.filter((e) => e.name.endsWith('.vib'));
    for (const [i, e] of vibMembers.entries()) {
      const to = await spoolEntry(readAt, e, scratch, `vib-${i}.vib`);
      const entry: BundleVib = { path: e.name, size: e.size, sha256: await sha256Of(to) };
      try {
        const r = await readVibFile(to, check);
        entry.vib = r.facts;
        f.nested(e.name, r.findings);
      } catch (err) {
        f.error('ESXI_AR', e.name, (err as Error).message);
      }
      facts.vibs.push(entry);
    }
    if (metaEntry) {
      facts.metadataZip = metaEntry.name;
      const to = await spoolEntry(readAt, metaEntry, scratch, 'metadata.zip');
      await withFile(to, async (metaAt, metaSize) => readMetadata(metaAt, metaSize, facts, f));
    }
    return { facts, findings: f.list };
  });
}

async function readMetadata(readAt: Read, size: number, facts: BundleFacts, f: Findings): Promise<void> {
  let entries: ZipEntry[];
  try {
    entries = await listZip(readAt, size);
  } catch (err) {
    f.error('ESXI_BUNDLE_METADATA', facts.metadataZip ?? 'metadata.zip', (err as Error).message);
    return;
  }
  facts.metadataMembers = entries.map((e) => e.name);
  const vibsByPath = new Map(facts.vibs.map((v) => [v.path, v]));
  const ids = new Set(facts.vibs.flatMap((v) => (v.vib ? [v.vib.id] : [])));
  const where = (name: string) => `${facts.metadataZip ?? 'metadata.zip'}: ${name}`;
  const checkVibFile = (subject: string, id: string, rel: string, packed: number, sha: string) => {
    const vib = vibsByPath.get(rel);
    if (!vib) return f.error('ESXI_BUNDLE_VIB_MISSING', subject, `names ${rel || '(no path)'}, which the bundle does not hold`);
    if (packed !== vib.size) f.error('ESXI_BUNDLE_VIB_CHECKSUM', subject, `records ${packed} bytes for ${rel}, which has ${vib.size}`);
    if (sha && sha !== vib.sha256) f.error('ESXI_BUNDLE_VIB_CHECKSUM', subject, `records sha-256 ${sha} for ${rel}, which has ${vib.sha256}`);
    if (vib.vib && id !== vib.vib.id) f.error('ESXI_BUNDLE_RECORD', subject, `describes ${id}, but ${rel} is ${vib.vib.id}`);
  };
  for (const e of entries) {
    if (!e.name.endsWith('.xml')) continue;
    let root: XmlElement;
    let text: string;
    try {
      text = await entryText(readAt, e);
      root = parseXml(text, where(e.name));
    } catch (err) {
      f.error('ESXI_BUNDLE_METADATA', where(e.name), (err as Error).message);
      continue;
    }
    if (e.name.startsWith('vibs/')) {
      const rec = parseDescriptor(text, where(e.name)).descriptor;
      const id = vibId(rec);
      const rel = textOf(root, 'relative-path')?.trim() ?? '';
      const packed = Number(textOf(root, 'packed-size'));
      const sha = children(root, 'checksum').find((c) => c.attrs['checksum-type'] === 'sha-256')?.text.trim().toLowerCase() ?? '';
      facts.records.push({ file: e.name, id, relativePath: rel, packedSize: packed, sha256: sha });
      checkVibFile(where(e.name), id, rel, packed, sha);
    } else if (e.name.startsWith('bulletins/')) {
      facts.bulletins.push(bulletinFacts(root));
    } else if (e.name === 'vmware.xml') {
      for (const b of children(root, 'bulletin')) {
        for (const v of children(child(b, 'vibList'), 'vib')) {
          const file = child(v, 'vibFile');
          const sum = child(file, 'checksum');
          checkVibFile(where('vmware.xml'), textOf(v, 'vibID')?.trim() ?? '', textOf(file, 'relativePath')?.trim() ?? '', Number(textOf(file, 'packedSize')), textOf(sum, 'checksum')?.trim().toLowerCase() ?? '');
        }
      }
    }
  }
  if (facts.records.length === 0) f.error('ESXI_BUNDLE_METADATA', facts.metadataZip ?? 'metadata.zip', 'no vibs/*.xml record: esxcli lists no VIB');
  for (const b of facts.bulletins) {
    for (const id of b.vibIds) if (!ids.has(id)) f.error('ESXI_BUNDLE_BULLETIN', where(`bulletins/${b.id}.xml`), `names VIB ${id}, which the bundle does not hold`);
    if (!b.component) f.info('ESXI_BUNDLE_NO_COMPONENT', where(`bulletins/${b.id}.xml`), 'no componentNameSpec/componentVersionSpec: ESXi 7.0+ sees it as a legacy bulletin, not a component');
  }
}

function bulletinFacts(b: XmlElement): BundleFacts['bulletins'][number] {
  const name = child(b, 'componentNameSpec');
  const version = child(b, 'componentVersionSpec');
  return {
    id: textOf(b, 'id')?.trim() ?? '',
    vendor: textOf(b, 'vendor') ?? '',
    summary: textOf(b, 'summary') ?? '',
    releaseDate: textOf(b, 'releaseDate') ?? '',
    ...(name ? { component: { name: name.attrs['name'] ?? '', uiString: name.attrs['uiString'] ?? '' } } : {}),
    ...(version ? { componentVersion: { uiString: version.attrs['uiString'] ?? '', version: version.attrs['version'] ?? '' } } : {}),
    platforms: children(child(b, 'platforms'), 'softwarePlatform').map((p) => p.attrs['version'] ?? ''),
    vibIds: children(child(b, 'vibList'), 'vibID').map((v) => v.text.trim()),
  };
}

// ---- texts

const row = (label: string, value: string) => `  ${label.padEnd(16)} ${value}`;

export function vibText(name: string, v: VibFacts, indentBy = ''): string {
  const d = v.descriptor;
  const rel = (k: keyof Descriptor['relationships']) => d.relationships[k].map((c) => [c.name, c.relation, c.version].filter(Boolean).join(' ')).join(', ');
  const lines = [
    `ESXi VIB ${v.id}: ${name}`,
    row('ar members', v.members.map((m) => `${m.name} (${m.size} bytes${m.form === 'gnu' ? ', GNU name' : ''}, mode ${m.mode || '""'}, mtime ${m.mtime}, ${m.uid}/${m.gid})`).join('; ')),
    row('name', d.name),
    row('version', d.version),
    row('vendor', d.vendor),
    row('type', d.type),
    row('summary', d.summary),
    row('release date', d.releaseDate),
    row('acceptance', `${d.acceptance}${d.acceptance in ACCEPTANCE_NAMES ? ` (${ACCEPTANCE_NAMES[d.acceptance as keyof typeof ACCEPTANCE_NAMES]})` : ''}`),
    row('depends', rel('depends') || '(none)'),
    ...(['conflicts', 'replaces', 'provides'] as const).filter((k) => d.relationships[k].length).map((k) => row(k, rel(k))),
    row('tags', d.tags.join(', ') || '(none)'),
    row('platforms', d.platforms.map((p) => `${p.productLineID} ${p.version}`).join(', ') || '(none named)'),
    row('install', `maintenance mode ${d.maintenanceMode}, live install ${d.liveInstall}, live remove ${d.liveRemove}, stateless ready ${d.statelessReady}`),
  ];
  for (const p of v.payloads) {
    lines.push(row(`payload ${p.name}`, `${p.type}${p.format ? ` (${p.format})` : ''}, ${p.size} bytes, ${p.entries.length} entries; ${p.checksums.map((c) => `${c.type}${c.verifyProcess ? `/${c.verifyProcess}` : ''} ${c.ok ? 'ok' : 'MISMATCH'}`).join(', ')}`));
    for (const e of p.entries) lines.push(`    ${e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${(e.mode & 0o7777).toString(8).padStart(4, '0')} ${e.uid}/${e.gid} ${String(e.size).padStart(9)} ${e.name}${e.target ? ` -> ${e.target}` : ''}`);
  }
  const s = v.signature;
  lines.push(row('signature', s.size === 0 ? 'none (empty sig.pkcs7)' : s.cms ? `${s.cms.ok ? 'valid' : 'INVALID'} CMS over descriptor.xml, signer ${s.cms.signer?.subject ?? '(not in the signature)'}, ${s.cms.digestAlgorithm}${s.cms.signingTime ? `, signed ${s.cms.signingTime}` : ''}${s.cms.trusted !== undefined ? `, ${s.cms.trusted ? 'chains to' : 'does NOT chain to'} the given certificate` : ''}` : `${s.size} bytes, unreadable`));
  return lines.map((l, i) => (i === 0 ? l : indentBy + l)).join('\n');
}

export function bundleText(name: string, b: BundleFacts): string {
  const lines = [
    `ESXi offline bundle: ${name}`,
    row('members', b.members.map((m) => m.name).join(', ')),
    row('vendor', b.vendors.map((v) => `${v.name} (${v.code})`).join(', ') || '(no index.xml)'),
    row('metadata', b.metadata.map((m) => `${m.productId} ${m.version} → ${m.url}`).join(', ') || '(none)'),
    ...(b.metadataZip ? [row(b.metadataZip, b.metadataMembers.join(', '))] : []),
  ];
  for (const bl of b.bulletins) {
    lines.push(row('bulletin', `${bl.id} (${bl.vendor}): ${bl.summary}; released ${bl.releaseDate}; platforms ${bl.platforms.join(', ') || '(none)'}`));
    if (bl.component) lines.push(row('component', `${bl.component.name} "${bl.component.uiString}" ${bl.componentVersion?.version ?? ''} ("${bl.componentVersion?.uiString ?? ''}")`));
    lines.push(row('VIBs', bl.vibIds.join(', ')));
  }
  for (const r of b.records) lines.push(row('record', `${r.file}: ${r.relativePath}, ${r.packedSize} bytes, sha-256 ${r.sha256}`));
  for (const v of b.vibs) lines.push(v.vib ? `  ${vibText(v.path, v.vib, '  ')}` : row('VIB', `${v.path} (unreadable)`));
  return lines.join('\n');
}
