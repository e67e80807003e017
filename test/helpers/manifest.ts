import { FIXTURES } from './run.js';

/** The example driver's metadata, as the tests' manifests start (sources and targets follow). */
export const ACME = `name: acmenet
version: 2.4.1
release: 3
vendor: acme
summary: ACME 25GbE network driver
`;

/** The firmware file the acmenet fixture module names (modinfo firmware=acme/acmenet.bin): without it a build warns. */
export const ACME_FIRMWARE = `firmware:
  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }
`;

/** The same with the vendor's display name and a description, as packages for users carry. */
export const ACME_FULL = `${ACME}vendorName: ACME Networks
description: ACME 25GbE network (acmenet) and NVMe-oF offload (acmestor) drivers.
`;

/** ` (line L, column C)` of the first `needle` in a manifest's text, as dudkit's errors name it (1-based, an editor's count). */
export function locationOf(text: string, needle: string): string {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${needle} is not in the manifest`);
  const lines = text.slice(0, at).split('\n');
  return ` (line ${lines.length}, column ${lines.at(-1)!.length + 1})`;
}
