/**
 * The ESXi offline bundle, which since ESXi 7.0 is also a component (`esxi.md` §5, §8.3): a zip
 * of `index.xml`, `vendor-index.xml`, `metadata.zip` and the VIB of the manifest's `esxi-vib`
 * target at `vib20/<name>/<VIB ID>.vib`, byte-identical to that target's output. The metadata
 * zip records the VIB's size and SHA-256 and a copy of its descriptor, so it is made from the
 * built VIB.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { nestedMedium } from '../src/emit/nested.js';
import { zipFile } from '../src/emit/zip.js';
import { FormatError } from '../src/errors.js';
import { AR_HEADER, AR_MAGIC, parseArHeader } from '../src/formats/ar/ar.js';
import { bulletinXml, indexXml, vendorIndexXml, vibRecordName, vmwareXml, type Bulletin } from '../src/formats/esxi/bundle.js';
import { parseDescriptor, vibRecordXml } from '../src/formats/esxi/descriptor.js';
import type { DriverSet } from '../src/model/driverset.js';
import { bytesSource, fileSource, type Source } from '../src/tree/source.js';
import { Tree, type Generated, type ResolvedEntry } from '../src/tree/tree.js';
import { identityOf } from '../src/tree/identity.js';
import { platformsOf, releaseDate, vibFacts, type EsxiVibOptions, type VibFacts } from './esxi-vib.js';
import { defineLayout, type LayoutEnv, type Plan } from './types.js';

const text = z.string().refine((s) => !/[\r\n]/.test(s), 'must be one line');

export const esxiBundleOptions = z.strictObject({
  out: z.string().min(1).optional(),
  /** The VIB it wraps: the manifest's esxi-vib target. */
  of: z.literal('esxi-vib').default('esxi-vib'),
  component: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must match [A-Za-z0-9._-]+').optional(),
  componentName: text.pipe(z.string().min(1)).optional(),
  componentVersion: z.union([z.string(), z.number()]).transform(String).pipe(z.string().regex(/^[A-Za-z0-9._+~-]+$/, 'must be a version')).optional(),
  bulletin: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must match [A-Za-z0-9._-]+').optional(),
  contact: text.default(''),
  kbUrl: text.optional(),
  category: z.enum(['enhancement', 'bugfix', 'security', 'general', 'upgrade']).default('enhancement'),
  urgency: z.enum(['important', 'critical', 'moderate', 'low', 'general']).default('important'),
  severity: z.enum(['general', 'critical', 'security']).default('general'),
});
type Options = z.output<typeof esxiBundleOptions>;

function names(o: Options, vib: VibFacts) {
  const component = o.component ?? `${vib.vendor}-${vib.name}`;
  return { component, bulletin: o.bulletin ?? `${component}_${vib.version}` };
}

const vibOf = (set: DriverSet, inner: (kind: string) => unknown) => vibFacts(set, inner('esxi-vib') as EsxiVibOptions);

/** The VIB's size, SHA-256 and descriptor bytes (its first ar member), in one read. */
async function readVib(vib: Source): Promise<{ size: number; sha256: string; descriptor: string }> {
  const hash = createHash('sha256');
  const start = AR_MAGIC.length + AR_HEADER;
  const head: Uint8Array[] = [];
  let kept = 0;
  // the magic and the first header, then the descriptor's size more
  let need = start;
  let size = 0;
  for await (const c of vib.open()) {
    hash.update(c);
    size += c.length;
    if (kept >= need) continue;
    head.push(c);
    kept += c.length;
    if (need === start && kept >= start) need += parseArHeader(Buffer.concat(head).subarray(AR_MAGIC.length, start), AR_MAGIC.length).size;
  }
  const bytes = Buffer.concat(head);
  if (bytes.length < need || parseArHeader(bytes.subarray(AR_MAGIC.length, start), AR_MAGIC.length).name !== 'descriptor.xml') throw new FormatError('the VIB does not start with its descriptor.xml member');
  return { size, sha256: hash.digest('hex'), descriptor: bytes.subarray(start, need).toString('utf8') };
}

function plan(set: DriverSet, o: Options, env: LayoutEnv): Plan {
  const vibOptions = env.innerOptions('esxi-vib') as EsxiVibOptions;
  const vib = vibFacts(set, vibOptions);
  const { component, bulletin: bulletinId } = names(o, vib);
  const vibPath = `vib20/${vib.name}/${vib.id}.vib`;
  const vendorName = set.meta.vendorName ?? set.meta.vendor;
  const date = releaseDate(env.epoch);
  const bulletin: Bulletin = {
    id: bulletinId,
    vendor: vendorName,
    summary: vib.summary,
    severity: o.severity,
    category: o.category,
    urgency: o.urgency,
    description: vib.description,
    kbUrl: o.kbUrl ?? set.meta.url ?? '',
    contact: o.contact,
    component: { name: component, uiString: o.componentName ?? set.meta.summary },
    componentVersion: { uiString: o.componentVersion ?? set.meta.version, version: vib.version },
    releaseDate: date,
    platforms: platformsOf(vib.esx, true),
    vibIds: [vib.id],
  };
  const vendorIndex = vendorIndexXml(vib.esx);
  const metadataKey = identityOf(['esxi-metadata', bulletin, vendorIndex, env.epoch]);
  const metadata: Generated = {
    kind: 'generated',
    deps: [vibPath],
    ...(metadataKey !== undefined ? { key: metadataKey } : {}),
    async build([built], scratch) {
      const read = await readVib(built!);
      const d = parseDescriptor(read.descriptor).descriptor;
      const record = { relativePath: vibPath, packedSize: read.size, sha256: read.sha256 };
      const members: ResolvedEntry[] = [
        ['vendor-index.xml', vendorIndex],
        ['vmware.xml', vmwareXml(date.slice(0, 19), bulletin, [{ id: vib.id, name: d.name, version: d.version, vendor: d.vendor, type: d.type, summary: d.summary, maintenanceMode: d.maintenanceMode, platforms: bulletin.platforms, relationships: d.relationships, liveInstall: d.liveInstall, tags: d.tags, ...record }])],
        [vibRecordName(vib.name, vib.id), vibRecordXml(read.descriptor, record)],
        [`bulletins/${bulletinId}.xml`, bulletinXml(bulletin)],
      ].map(([path, xml]) => ({ type: 'file', path: path!, mode: 0o644, content: bytesSource(xml!, path) }));
      const path = scratch.path('metadata.zip');
      await zipFile(members, path, env.epoch);
      return fileSource(path);
    },
  };
  const tree = new Tree()
    .file('index.xml', bytesSource(indexXml({ name: vendorName, code: vib.vendor }), 'index.xml'))
    .file('vendor-index.xml', bytesSource(vendorIndex, 'vendor-index.xml'))
    .file('metadata.zip', metadata)
    .file(vibPath, nestedMedium(env.inner('esxi-vib'), `${vib.id}.vib`, env));
  // the bundle's one VIB: its decisions are the bundle's
  return { tree, decisions: (env.inner('esxi-vib').decisions ?? []).map((d) => `${vibPath}: ${d}`), medium: { kind: 'zip', order: ['index.xml', 'vendor-index.xml', 'metadata.zip', vibPath], directories: false }, notes: [] };
}

export const esxiBundle = defineLayout({
  kind: 'esxi-bundle',
  options: esxiBundleOptions,
  withoutSources: true,
  defaultOut: (set, o: Options, inner) => `${names(o, vibOf(set, inner)).bulletin}-offline_bundle.zip`,
  plan,
});
