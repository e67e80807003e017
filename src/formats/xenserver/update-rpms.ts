/**
 * The two packages every modern XenServer update pack carries besides its payload
 * (`xenserver.md` §4.4): `update-<label>`, which requires each payload package and owns the
 * applied stamp `/var/update/applied/<uuid>`, and `control-<label>`, which requires the base
 * system the pack is for (and carries the optional precheck/remove scripts). Pure descriptions
 * for the RPM writer.
 */
import type { Dependency, RpmPackage } from '../rpm/write.js';
import type { Op } from '../rpm/vercmp.js';
import type { Source } from '../../tree/source.js';
import { bytesSource } from '../../tree/source.js';
import { updateRpmVersion, updateXml, type UpdateDocument } from './update.js';

export interface PayloadPackage {
  name: string;
  epoch?: number;
  version: string;
  release: string;
}

export interface UpdateRpmsInput {
  doc: UpdateDocument;
  payload: readonly PayloadPackage[];
  /** Requires of `control-<label>`: the base system (`kernel-uname-r = K`, `product-version = X`). */
  baseRequires: readonly Dependency[];
  precheck?: Source;
  remove?: Source;
  license: string;
  vendor?: string;
  /** SOURCE_DATE_EPOCH */
  buildTime: number;
}

const REQUIREMENT_RE = /^([^\s<>=]+)(?:\s*(<=|>=|=|<|>)\s*(\S+))?$/;

/** `product-version = 8.2.1` → a dependency; undefined when it does not parse. */
export function parseRequirement(text: string): Dependency | undefined {
  const m = REQUIREMENT_RE.exec(text.trim());
  if (!m) return undefined;
  return m[2] ? { name: m[1]!, op: m[2] as Op, version: m[3]! } : { name: m[1]! };
}

function common(input: UpdateRpmsInput, name: string): Omit<RpmPackage, 'files'> {
  const summary = input.doc.description.split('\n')[0]!.trim();
  return {
    name,
    version: updateRpmVersion(input.doc.version),
    release: '1',
    arch: 'noarch',
    summary,
    description: input.doc.description,
    license: input.license,
    ...(input.vendor ? { vendor: input.vendor } : {}),
    buildTime: input.buildTime,
  };
}

export function updatePackage(input: UpdateRpmsInput): RpmPackage {
  const { doc } = input;
  const stamp = `/var/update/applied/${doc.uuid}`;
  return {
    ...common(input, `update-${doc.nameLabel}`),
    requires: input.payload.map((p): Dependency => ({ name: p.name, op: '>=', version: `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}` })),
    // xapi lists this file's name as an applied update; the host reboot flag when guidance asks
    ...(doc.afterApplyGuidance?.includes('restartHost') ? { scripts: { posttrans: { body: `echo ${doc.uuid} >> /run/reboot-required.hfxs\n` } } } : {}),
    files: [{ type: 'file', path: stamp, mode: 0o644, content: bytesSource(updateXml(doc, false), stamp) }],
  };
}

export function controlPackage(input: UpdateRpmsInput): RpmPackage {
  const dir = `/var/update/${input.doc.uuid}`;
  const scripts = (['precheck', 'remove'] as const).flatMap((k) => {
    const content = input[k];
    return content ? [{ type: 'file' as const, path: `${dir}/${k}`, mode: 0o755, content }] : [];
  });
  return {
    ...common(input, `control-${input.doc.nameLabel}`),
    requires: [...input.baseRequires],
    files: scripts,
  };
}
