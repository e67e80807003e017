/**
 * Release names for the kernel their installer boots (the GA kernel of each minor release), so
 * `--release rhel-9.4` stands for `--kernel 5.14.0-427.13.1.el9_4.x86_64`.
 *
 * Sources: Red Hat, "Red Hat Enterprise Linux Release Dates" (access.redhat.com/articles/3078,
 * the GA kernel of each minor release); SUSE, "SUSE Linux Enterprise Server kernel release
 * versions" (www.suse.com/support/kb/doc/?id=000019587, the GA kernel of each service pack).
 */
import { UserError } from '../errors.js';

/** Name → `uname -r` without the arch suffix (Red Hat) or without the flavour (SUSE adds `-default`). */
const RELEASES: Readonly<Record<string, { kernel: string; family: 'rhel' | 'sle' }>> = Object.fromEntries([
  ...(
    [
      ['rhel-7.0', '3.10.0-123.el7'],
      ['rhel-7.1', '3.10.0-229.el7'],
      ['rhel-7.2', '3.10.0-327.el7'],
      ['rhel-7.3', '3.10.0-514.el7'],
      ['rhel-7.4', '3.10.0-693.el7'],
      ['rhel-7.5', '3.10.0-862.el7'],
      ['rhel-7.6', '3.10.0-957.el7'],
      ['rhel-7.7', '3.10.0-1062.el7'],
      ['rhel-7.8', '3.10.0-1127.el7'],
      ['rhel-7.9', '3.10.0-1160.el7'],
      ['rhel-8.0', '4.18.0-80.el8'],
      ['rhel-8.1', '4.18.0-147.el8'],
      ['rhel-8.2', '4.18.0-193.el8'],
      ['rhel-8.3', '4.18.0-240.el8'],
      ['rhel-8.4', '4.18.0-305.el8'],
      ['rhel-8.5', '4.18.0-348.el8'],
      ['rhel-8.6', '4.18.0-372.9.1.el8'],
      ['rhel-8.7', '4.18.0-425.3.1.el8'],
      ['rhel-8.8', '4.18.0-477.10.1.el8_8'],
      ['rhel-8.9', '4.18.0-513.5.1.el8_9'],
      ['rhel-8.10', '4.18.0-553.el8_10'],
      ['rhel-9.0', '5.14.0-70.13.1.el9_0'],
      ['rhel-9.1', '5.14.0-162.6.1.el9_1'],
      ['rhel-9.2', '5.14.0-284.11.1.el9_2'],
      ['rhel-9.3', '5.14.0-362.8.1.el9_3'],
      ['rhel-9.4', '5.14.0-427.13.1.el9_4'],
      ['rhel-9.5', '5.14.0-503.11.1.el9_5'],
      ['rhel-9.6', '5.14.0-570.12.1.el9_6'],
      ['rhel-10.0', '6.12.0-55.9.1.el10_0'],
    ] as const
  ).map(([name, kernel]) => [name, { kernel, family: 'rhel' as const }]),
  ...(
    [
      ['sles-12-sp5', '4.12.14-120'],
      ['sles-15', '4.12.14-23'],
      ['sles-15-sp1', '4.12.14-195'],
      ['sles-15-sp2', '5.3.18-22'],
      ['sles-15-sp3', '5.3.18-57'],
      ['sles-15-sp4', '5.14.21-150400.22'],
      ['sles-15-sp5', '5.14.21-150500.53'],
      ['sles-15-sp6', '6.4.0-150600.21'],
    ] as const
  ).map(([name, kernel]) => [name, { kernel, family: 'sle' as const }]),
]);

const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x'];

/** Every known name, in table order. */
function releaseNames(): string[] {
  return Object.keys(RELEASES);
}

/** Whether a word is meant as a release name (`rhel-9.4`, `sles-15-sp6`, with an optional `.<arch>`). */
export function isReleaseName(word: string): boolean {
  return /^(rhel|sles)-/.test(word);
}

/**
 * The installer kernel a release name stands for: `rhel-9.4` → `5.14.0-427.13.1.el9_4.x86_64`,
 * `rhel-9.4.aarch64` for another arch; `sles-15-sp6` → `6.4.0-150600.21-default`. `where` names
 * the option or key in the error for an unknown name.
 */
export function releaseKernel(name: string, where: string): string {
  const arch = ARCHES.find((a) => name.endsWith(`.${a}`));
  const base = arch ? name.slice(0, -arch.length - 1) : name;
  const hit = RELEASES[base];
  if (!hit) throw new UserError(`${where}: unknown release ${JSON.stringify(name)} (known: ${releaseNames().join(', ')}; add .<arch> for another arch than x86_64, or give the kernel's uname -r)`);
  return hit.family === 'rhel' ? `${hit.kernel}.${arch ?? 'x86_64'}` : `${hit.kernel}-default`;
}

/** A kernel given as `uname -r` or as a release name. */
export function kernelOrRelease(word: string, where: string): string {
  return isReleaseName(word) ? releaseKernel(word, where) : word;
}
