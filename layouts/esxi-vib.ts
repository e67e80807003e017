/**
 * The ESXi VIB (`esxi.md` §2–§4, §8.1–§8.2): an ar archive of `descriptor.xml`, `sig.pkcs7` and
 * one `tgz` payload holding the files the manifest names (vmkernel module, map and PCI ID
 * files). The descriptor is made from the payload's checksums, the signature (when `sign` is
 * given) from the descriptor's bytes; everything is dated SOURCE_DATE_EPOCH, so rebuilds are
 * byte-identical, signed ones too (RSA PKCS#1 v1.5 is deterministic).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { archiveOf } from '../src/emit/archive.js';
import { asUserError, UserError } from '../src/errors.js';
import { decompress } from '../src/formats/compress/index.js';
import { descriptorXml, payloadChecksums, vibId, type Constraint, type Descriptor, type SoftwarePlatform } from '../src/formats/esxi/descriptor.js';
import { defaultPayloadName, PAYLOAD_NAME, payloadOrder } from '../src/formats/esxi/payload.js';
import type { DriverSet } from '../src/model/driverset.js';
import { toPem } from '../src/sign/pem.js';
import { loadCmsSigner, type CmsSigner } from '../src/sign/cms-signer.js';
import { DEFAULT_PASSPHRASE_ENV } from '../src/sign/passphrase.js';
import { identityOf } from '../src/tree/identity.js';
import { bytesSource, fileSource, readSource, type Source } from '../src/tree/source.js';
import { Tree, type Generated, type ResolvedEntry } from '../src/tree/tree.js';
import { defineLayout, type LayoutEnv, type Plan, type PrepareEnv } from './types.js';

const RELATION = /^([A-Za-z0-9._:+-]+)(?:\s+(<<|<=|=|>=|>>)\s+(\S+))?$/;
const constraint = z.string().regex(RELATION, 'must be "NAME" or "NAME OP VERSION" with OP one of << <= = >= >>');
const provide = z.string().regex(/^([A-Za-z0-9._:+-]+)(?:\s+=\s+(\S+))?$/, 'must be "NAME" or "NAME = VERSION"');
const relPath = z
  .string()
  .min(1)
  .refine((s) => !s.startsWith('/') && !s.split('/').some((p) => p === '' || p === '.' || p === '..'), 'must be a relative path without `..`, `.` or empty parts');
const oneLine = z.string().min(1).refine((s) => !/[\r\n]/.test(s), 'must be one line');

export const esxiVibOptions = z
  .strictObject({
    out: z.string().min(1).optional(),
    name: z.string().regex(/^[A-Za-z0-9._-]{1,35}$/, 'must be 1–35 characters of [A-Za-z0-9._-]').optional(),
    version: z.string().max(35, 'must be at most 35 characters').regex(/^[A-Za-z0-9._+~]+-[A-Za-z0-9._+~]+$/, 'must be <version>-<release> with one `-`, e.g. 2.4.1-1OEM.800.1.0.20613240').optional(),
    vendor: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must match [A-Za-z0-9._-]+').optional(),
    summary: oneLine.pipe(z.string().max(80, 'must be at most 80 characters')).optional(),
    description: z.string().min(1).optional(),
    /** ESXi release lines: "8.0.0", "7.0", "8.*" (strings). */
    esx: z.array(z.string().regex(/^\d+\.(\d+(\.\d+)?|\*)$/, 'must be an ESXi release line X.Y, X.Y.Z or X.* (a quoted string)')).min(1, 'needs at least one ESXi release line, e.g. ["8.0.0"]'),
    files: z
      .array(
        z.strictObject({
          file: z.string().min(1),
          dest: relPath,
          mode: z.string().regex(/^0?[0-7]{3,4}$/, 'must be an octal mode string such as "0644"').default('0644'),
        }),
      )
      .min(1, 'needs at least one file (the vmkernel module)')
      .superRefine((files, ctx) => {
        const seen = new Set<string>();
        for (const [i, f] of files.entries()) {
          if (seen.has(f.dest)) ctx.addIssue({ code: 'custom', path: [i, 'dest'], message: `${f.dest} is given twice` });
          for (const other of seen) if (f.dest.startsWith(`${other}/`) || other.startsWith(`${f.dest}/`)) ctx.addIssue({ code: 'custom', path: [i, 'dest'], message: `${f.dest} and ${other}: a file cannot also be a folder` });
          seen.add(f.dest);
        }
      }),
    depends: z.array(constraint).default([]),
    conflicts: z.array(constraint).default([]),
    replaces: z.array(constraint).default([]),
    provides: z.array(provide).default([]),
    tags: z.array(oneLine).default(['driver', 'module']),
    urls: z.record(z.string().min(1), oneLine).optional(),
    acceptance: z.enum(['community', 'partner', 'accepted', 'certified']).default('community'),
    maintenanceMode: z.boolean().default(true),
    liveInstall: z.boolean().default(false),
    liveRemove: z.boolean().default(false),
    statelessReady: z.boolean().default(true),
    payload: z.string().regex(PAYLOAD_NAME, 'must be 1–8 characters of [a-z0-9_-] (the installer makes an 8.3 boot-module name of it)').optional(),
    sign: z
      .strictObject({
        key: z.string().min(1),
        cert: z.string().min(1),
        chain: z.array(z.string().min(1)).optional(),
        passphraseEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').default(DEFAULT_PASSPHRASE_ENV),
      })
      .optional(),
  })
  .superRefine((o, ctx) => {
    if (o.acceptance !== 'community' && !o.sign) ctx.addIssue({ code: 'custom', path: ['acceptance'], message: `${o.acceptance} promises a VMware-trusted signature: give sign: { key, cert }, or use acceptance: community` });
  });
export type EsxiVibOptions = z.output<typeof esxiVibOptions>;

/** What identifies the VIB, from its options and the manifest: shared with the bundle. */
export interface VibFacts {
  name: string;
  version: string;
  vendor: string;
  type: 'bootbank';
  id: string;
  summary: string;
  description: string;
  payload: string;
  esx: string[];
}

export function vibFacts(set: DriverSet, o: EsxiVibOptions): VibFacts {
  const name = o.name ?? set.meta.name;
  const version = o.version ?? `${set.meta.version}-${set.meta.release}`;
  const vendor = o.vendor ?? set.meta.vendor;
  const payload = o.payload ?? defaultPayloadName(name);
  if (!PAYLOAD_NAME.test(payload)) throw new UserError(`payload: the VIB name ${name} gives no usable payload name; give payload: <1–8 characters of [a-z0-9_-]>`);
  return { name, version, vendor, type: 'bootbank', id: vibId({ vendor, type: 'bootbank', name, version }), summary: o.summary ?? set.meta.summary, description: o.description ?? set.meta.description, payload, esx: o.esx };
}

/** `YYYY-MM-DDTHH:MM:SS+00:00` (§3.2). */
export const releaseDate = (epoch: number) => `${new Date(epoch * 1000).toISOString().slice(0, 19)}+00:00`;

/** The `softwarePlatform` entries of the descriptor: release lines of ESXi 8 and later (§8.1). */
export const platformsOf = (esx: readonly string[], all = false): SoftwarePlatform[] =>
  esx.filter((v) => all || Number(v.split('.')[0]) >= 8).map((version) => ({ version, locale: '', productLineID: 'embeddedEsx' }));

function parseConstraint(s: string): Constraint {
  const m = RELATION.exec(s.trim())!;
  return { name: m[1]!, ...(m[2] ? { relation: m[2], version: m[3]! } : {}) };
}

function parseProvide(s: string): Constraint {
  const [name, version] = s.split(/\s*=\s*/);
  return { name: name!.trim(), ...(version ? { version: version.trim() } : {}) };
}

/** Where CommunitySupported VIBs may write (§4.2). */
const COMMUNITY_ALLOWED = [
  'etc/vmware/shutdown/shutdown.d/', 'etc/vmware/pciid/', 'etc/vmware/vm-support/', 'etc/vmware/firewall/', 'etc/vmware/service/', 'etc/vmware/driver.map.d/',
  'etc/cim/', 'opt/', 'usr/lib/cim/', 'usr/lib/pycim/', 'usr/lib/hostprofiles/plugins/', 'usr/lib/vmware/', 'usr/lib/vmware-debug/', 'usr/share/hwdata/driver.pciids.d/', 'var/lib/sfcb/registration/',
];

interface Prepared {
  files: Source[];
  signer?: CmsSigner;
}

async function prepare(o: EsxiVibOptions, env: PrepareEnv): Promise<Prepared> {
  const files: Source[] = [];
  for (const f of o.files) {
    const path = resolve(env.baseDir, f.file);
    files.push(await fileSource(path).catch((err: unknown) => asUserError(err, path)));
  }
  return { files, ...(o.sign ? { signer: await loadCmsSigner(o.sign, env.baseDir) } : {}) };
}

/** SHA-256 of the stored bytes, SHA-256 and SHA-1 of the gunzipped ones, in one read of the payload. */
async function payloadDigests(payload: Source): Promise<{ stored: string; sha256: string; sha1: string }> {
  const stored = createHash('sha256');
  const plain256 = createHash('sha256');
  const plain1 = createHash('sha1');
  async function* tapped() {
    for await (const c of payload.open()) {
      stored.update(c);
      yield c;
    }
  }
  for await (const c of decompress(tapped())) {
    plain256.update(c);
    plain1.update(c);
  }
  return { stored: stored.digest('hex'), sha256: plain256.digest('hex'), sha1: plain1.digest('hex') };
}

function plan(set: DriverSet, o: EsxiVibOptions, env: LayoutEnv, prepared: Prepared): Plan {
  const facts = vibFacts(set, o);
  const items = payloadOrder(o.files.map((f, i) => ({ path: f.dest, file: { source: prepared.files[i]!, mode: parseInt(f.mode, 8) } })));
  const members: ResolvedEntry[] = items.map((it) => (it.type === 'dir' ? { type: 'dir', path: it.path, mode: 0o755 } : { type: 'file', path: it.path, mode: it.file.mode, content: it.file.source }));
  const fileList = items.filter((it) => it.type === 'file').map((it) => it.path);
  if (o.acceptance === 'community') {
    const outside = fileList.filter((f) => !COMMUNITY_ALLOWED.some((p) => f.startsWith(p)));
    if (outside.length) env.warn(`esxi-vib: a CommunitySupported VIB writes outside the paths ESXi allows such VIBs (${outside.join(', ')}); hosts may refuse it (esxi.md §4.2)`);
  }
  const urls: [string, string][] = o.urls ? Object.entries(o.urls) : set.meta.url ? [['website', set.meta.url]] : [];
  const descriptor = (sums: ReturnType<typeof payloadChecksums>, size: number): Descriptor => ({
    type: facts.type,
    name: facts.name,
    version: facts.version,
    vendor: facts.vendor,
    summary: facts.summary,
    description: facts.description,
    releaseDate: releaseDate(env.epoch),
    urls,
    relationships: { depends: o.depends.map(parseConstraint), conflicts: o.conflicts.map(parseConstraint), replaces: o.replaces.map(parseConstraint), provides: o.provides.map(parseProvide), compatibleWith: [] },
    tags: o.tags,
    maintenanceMode: o.maintenanceMode,
    platforms: platformsOf(o.esx),
    files: fileList,
    acceptance: o.acceptance,
    liveInstall: o.liveInstall,
    liveRemove: o.liveRemove,
    cimomRestart: false,
    statelessReady: o.statelessReady,
    overlay: false,
    payloads: [{ name: facts.payload, type: 'tgz', size, checksums: sums }],
  });
  const payload = archiveOf({ name: `${facts.payload}.tgz`, format: 'tar', members, filters: ['gzip'], epoch: env.epoch });
  const descriptorKey = identityOf(['esxi-descriptor', descriptor([], 0)]);
  const descriptorFile: Generated = {
    kind: 'generated',
    deps: [facts.payload],
    ...(descriptorKey !== undefined ? { key: descriptorKey } : {}),
    async build([tgz]) {
      const d = await payloadDigests(tgz!);
      return bytesSource(descriptorXml(descriptor(payloadChecksums(d.sha256, d.stored, d.sha1), tgz!.size)), 'descriptor.xml');
    },
  };
  const signer = prepared.signer;
  const signature: Source | Generated = signer
    ? {
        kind: 'generated',
        deps: ['descriptor.xml'],
        key: identityOf(['esxi-sig', signer.fingerprint, signer.chain, env.epoch])!,
        async build([desc]) {
          // PKI.js is loaded only for a signed VIB
          const { signDetached } = await import('../src/sign/cms.js');
          const der = await signDetached(await readSource(desc!), { key: signer.key, cert: signer.cert, chain: signer.chain, signedAttributes: { signingTime: new Date(env.epoch * 1000) } });
          return bytesSource(toPem(der, 'PKCS7', false), 'sig.pkcs7');
        },
      }
    : bytesSource(new Uint8Array(0), 'sig.pkcs7');
  const tree = new Tree().file('descriptor.xml', descriptorFile).file('sig.pkcs7', signature).file(facts.payload, payload);
  const trust = o.acceptance === 'community' ? 'community: unsigned, hosts take it at acceptance level CommunitySupported' : `${o.acceptance}: sig.pkcs7 signed with sign: ${o.sign!.cert}`;
  const decisions = [`${facts.id}.vib: VIB ${facts.name} ${facts.version} for ESXi ${o.esx.join(', ')}; acceptance ${trust}; payload ${facts.payload} holds ${fileList.join(', ')} (files:)`];
  return { tree, decisions, medium: { kind: 'ar', members: ['descriptor.xml', 'sig.pkcs7', facts.payload] }, notes: [] };
}

export const esxiVib = defineLayout({
  kind: 'esxi-vib',
  options: esxiVibOptions,
  withoutSources: true,
  defaultOut: (set, o: EsxiVibOptions) => `${vibFacts(set, o).id}.vib`,
  inputs: (o: EsxiVibOptions) => ({
    ...Object.fromEntries(o.files.map((f, i) => [`files[${i}].file`, f.file])),
    ...(o.sign ? { 'sign.key': o.sign.key, 'sign.cert': o.sign.cert, ...Object.fromEntries((o.sign.chain ?? []).map((c, i) => [`sign.chain[${i}]`, c])) } : {}),
  }),
  prepare,
  plan,
});
