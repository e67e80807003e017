/**
 * Legacy pack versions as the XenServer ≤ 7.0 consumers read them (`xenserver.md` §3.2.1): the
 * legacy host installer and `xcp.repository` build `xcp.version.Version` objects from
 * `version[-build]`, compare the dot-separated arcs pairwise by subtraction (two numbers, or a
 * Python exception that aborts the installer), and call the version with more arcs the greater
 * one when the common arcs are equal (`7.0` < `7.0.0`). Pure: the rules the layout applies before
 * writing, `verify` applies to a pack, and the `install` script repeats in sh.
 */

/** `X.Y.Z` with an optional `-build`: every arc a number, so every comparison is numeric. */
export const LEGACY_VERSION_RE = /^[0-9]+(\.[0-9]+)*(-[A-Za-z0-9._+~-]+)?$/;

/** Number of arcs of the base product's version (`PRODUCT_VERSION='7.0.0'`, `PLATFORM_VERSION='2.1.0'`). */
export const MAIN_ARCS = 3;

/** `xs:main` / `xcp:main`: requirements on the base product, compared with the inventory's version. */
export const isMainRequirement = (originator: string, name: string) => name === 'main' && (originator === 'xs' || originator === 'xcp');

/** `2.4.1-rc1-7` → `2.4.1` and `rc1-7`: everything after the first `-` is the build. */
export function splitBuild(version: string): { version: string; build?: string } {
  const at = version.indexOf('-');
  return at < 0 ? { version } : { version: version.slice(0, at), build: version.slice(at + 1) };
}

/**
 * Why the consumers cannot use a build id, or undefined. The XenServer ≤ 7.0 `xcp.version`
 * (python-libs before commit 23c550a, `Version.from_string`) splits a build that ends in a letter
 * at its last `-` and calls `int()` on what precedes the final letter: `beta` raises ValueError
 * while the pack is read; `125380c` is fine.
 */
export function buildProblem(build: string): string | undefined {
  if (!/^[A-Za-z0-9._+~-]+$/.test(build)) return `build "${build}" may hold only letters, digits and . _ + ~ -`;
  const last = build.slice(build.lastIndexOf('-') + 1);
  if (/[A-Za-z]$/.test(build) && !/^[0-9]+[A-Za-z]$/.test(last)) {
    return `build "${build}" ends in a letter, so the XenServer ≤ 7.0 installer reads "${last}" as a build number and one suffix letter (like 125380c) and aborts on anything else`;
  }
  return undefined;
}

/**
 * Why the legacy consumers cannot compare `version`, or undefined: an arc that is not a number
 * makes their version compare raise (TypeError) as soon as another version is compared with it.
 */
export function versionProblem(version: string): string | undefined {
  if (!LEGACY_VERSION_RE.test(version)) {
    return `"${version}" is not dot-separated numbers with an optional -build (like 2.4.1 or 2.4.1-7): the XenServer ≤ 7.0 installer compares arcs as numbers and aborts on any other arc`;
  }
  const { build } = splitBuild(version);
  return build === undefined ? undefined : buildProblem(build);
}

/** `7.0` → `7.0.0`: the base product's version always has three arcs, and a shorter one is lower. */
export function padMain(version: string): string {
  const arcs = version.split('.');
  while (arcs.length < MAIN_ARCS) arcs.push('0');
  return arcs.join('.');
}

