/** What the ustar reader and writer share: the block size and the header checksum. */
export const BLOCK = 512;

/** The header's checksum: the sum of its bytes with the checksum field (148–155) counted as spaces. */
export function headerChecksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum;
}
