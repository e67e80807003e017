/**
 * What the legacy pack tools decide about a pack's RPMs (`xenserver.md` §3.3–3.4), as pure
 * functions shared by the layout (which applies them before writing) and `verify` (which applies
 * them to a medium): how an RPM is classified from its NAME, GROUP and file list, and the install
 * order in which every package's Requires met inside the pack come from an earlier package.
 */
import { satisfies, type Op } from '../rpm/vercmp.js';
import type { PackageType } from './legacy.js';

export interface RpmFacts {
  name: string;
  group: string;
  /** Absolute paths of everything the package owns. */
  files: readonly string[];
}

export interface Classification {
  type: PackageType;
  label: string;
  kernel?: string;
  options?: string;
  /** Why the consumers would refuse the package (empty when fine). */
  problems: string[];
}

/** Where a `kernel="any"` driver-rpm may put files. */
const ANY_KERNEL_PLACES = ['/etc/udev/rules.d/', '/lib/firmware/', '/etc/', '/usr/share/doc/'];

const under = (path: string, dir: string) => path === dir.slice(0, -1) || path.startsWith(dir);

/**
 * Label and kernel of a driver RPM's NAME: `<label>-<kver>-modules` (the builder since 2014), or
 * the XenServer 6.0–6.2 form `<label>-modules-<flavour>-<kver>` whose kernel is `<kver><flavour>`
 * (supp-pack-build supplementalpack.py, `Package.__init__`, from commit 76fe23f to da30e64), the
 * only one that can carry a dom0 kernel with "-" such as 2.6.32.12-0.7.1.xs6.0.0.529.170661xen.
 */
function driverName(name: string): { label: string; kernel: string } | undefined {
  const m = /^(.*)-(.*)-modules$/.exec(name);
  if (m) return { label: m[1]!, kernel: m[2]! };
  const era = /^(.*)-modules-([^-]*)-(.*)$/.exec(name);
  return era ? { label: era[1]!, kernel: `${era[3]!}${era[2]!}` } : undefined;
}

/** The reference builder's classification, with the problems its checks would report. */
export function classifyRpm(rpm: RpmFacts): Classification {
  if ('kernel'.includes(rpm.name)) return { type: 'rpm', label: rpm.name, options: '-i', problems: [] };
  if (rpm.group.endsWith('/Kernel')) {
    const m = driverName(rpm.name);
    if (m) {
      const { label, kernel } = m;
      const base = `/lib/modules/${kernel}/`;
      const allowed = [`${base}extra/`, `${base}updates/`];
      const problems = rpm.files
        .filter((f) => !allowed.some((a) => under(f, a)) && !(base.startsWith(f + '/') || f === base.slice(0, -1)))
        .map((f) => `${f} is outside ${base}extra/ and ${base}updates/ (the pack builder reads the kernel "${kernel}" from the name ${rpm.name})`);
      return { type: 'driver-rpm', label, kernel, problems };
    }
    const problems = rpm.files
      .filter((f) => !ANY_KERNEL_PLACES.some((p) => under(f, p)))
      .map((f) => `${f}: a Kernel-group package whose name is not <label>-<kernel>-modules gets kernel="any" and may only hold files under ${ANY_KERNEL_PLACES.join(', ')}`);
    return { type: 'driver-rpm', label: rpm.name, kernel: 'any', problems };
  }
  const problems = rpm.files
    .filter((f) => f.startsWith('/lib/modules/') || f.startsWith('/boot/vmlinu'))
    .map((f) => `${f}: a package outside the Kernel group may not hold kernel modules or kernels (group "${rpm.group}")`);
  return { type: 'rpm', label: rpm.name, problems };
}

export interface DepFacts {
  name: string;
  op?: Op;
  evr?: string;
}

export interface OrderItem {
  /** For messages: the package file name. */
  id: string;
  provides: readonly DepFacts[];
  requires: readonly DepFacts[];
  files: readonly string[];
}

function provider(items: readonly OrderItem[], req: DepFacts, self: number): number[] {
  const out: number[] = [];
  items.forEach((it, i) => {
    if (i === self) return;
    if (req.name.startsWith('/') ? it.files.includes(req.name) : it.provides.some((p) => satisfies(p, req))) out.push(i);
  });
  return out;
}

const internal = (r: DepFacts) => !r.name.startsWith('rpmlib(');

/**
 * Install order: a stable topological sort (ties keep the input order) on the Requires that
 * packages of the pack satisfy; the others are left to the base system. A cycle is an error.
 */
export function installOrder<T extends OrderItem>(items: readonly T[]): T[] {
  const before = items.map((_, i) => new Set(items[i]!.requires.filter(internal).flatMap((r) => provider(items, r, i))));
  const placed = new Set<number>();
  const out: T[] = [];
  while (out.length < items.length) {
    const next = items.findIndex((_, i) => !placed.has(i) && [...before[i]!].every((j) => placed.has(j)));
    if (next < 0) {
      const left = items.filter((_, i) => !placed.has(i)).map((it) => it.id);
      throw new RangeError(`the packages ${left.join(', ')} require each other in a cycle: the legacy installer installs one package at a time and cannot order them`);
    }
    placed.add(next);
    out.push(items[next]!);
  }
  return out;
}

/** For `verify`: each Requires met inside the pack must be met by an earlier package. */
export function orderProblems(items: readonly OrderItem[]): string[] {
  const problems: string[] = [];
  items.forEach((it, i) => {
    for (const r of it.requires.filter(internal)) {
      const from = provider(items, r, i);
      if (from.length > 0 && !from.some((j) => j < i)) {
        problems.push(`${it.id} requires ${r.name}${r.op ? ` ${r.op} ${r.evr}` : ''}, which only the later ${items[from[0]!]!.id} provides: the installer installs in XS-PACKAGES order`);
      }
    }
  });
  return problems;
}
