/**
 * The comps group file (`groups.xml`): package groups for `dnf group` / `yum groupinstall`, which
 * XenServer packs rely on (groups `update` and `drivers`). Children in the comps DTD's order.
 */
import { UserError } from '../../errors.js';
import { attrs, escapeText as escape, forbiddenXmlChar } from '../xml.js';

/** Group texts come from the manifest: refuse what XML cannot carry instead of writing it. */
function escapeText(s: string): string {
  const bad = forbiddenXmlChar(s);
  if (bad) throw new UserError(`comps group text ${JSON.stringify(s)} contains the control character U+${bad.code.toString(16).toUpperCase().padStart(4, '0')}`);
  return escape(s);
}

export type PackageReqType = 'mandatory' | 'default' | 'optional' | 'conditional';

export interface CompsPackageReq {
  name: string;
  /** Default `mandatory`. */
  type?: PackageReqType;
  /** For `conditional`: the package whose presence triggers this one. */
  requires?: string;
}

export interface CompsGroup {
  id: string;
  name: string;
  description?: string;
  /** Default false. */
  default?: boolean;
  /** Default true: yum 3 hides invisible groups from `group summary`. */
  uservisible?: boolean;
  packages: readonly CompsPackageReq[];
}

export function compsXml(groups: readonly CompsGroup[]): string {
  let out = '<?xml version="1.0" encoding="UTF-8"?>\n';
  out += '<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">\n';
  out += '<comps>\n';
  for (const g of groups) {
    out += '  <group>\n';
    out += `    <id>${escapeText(g.id)}</id>\n`;
    out += `    <name>${escapeText(g.name)}</name>\n`;
    if (g.description !== undefined) out += `    <description>${escapeText(g.description)}</description>\n`;
    out += `    <default>${g.default ? 'true' : 'false'}</default>\n`;
    out += `    <uservisible>${g.uservisible === false ? 'false' : 'true'}</uservisible>\n`;
    out += '    <packagelist>\n';
    for (const p of g.packages) {
      const type = p.type ?? 'mandatory';
      const list: [string, string | undefined][] = [['type', type], ['requires', type === 'conditional' ? p.requires : undefined]];
      out += `      <packagereq${attrs(list)}>${escapeText(p.name)}</packagereq>\n`;
    }
    out += '    </packagelist>\n';
    out += '  </group>\n';
  }
  return `${out}</comps>\n`;
}
