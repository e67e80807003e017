/**
 * The taps an output's bytes pass through, described as data (`TapSpec`) so that the same tap
 * can run on the main thread or on a worker thread (`off-thread.ts`): a digest for the checksum
 * files, and the isomd5sum media-check MD5 that `dudkit iso --implant-md5` writes into the image.
 */
import { createHash, type Hash } from 'node:crypto';
import { MediaCheckTap } from '../formats/isomd5.js';
import type { HashAlgorithm } from '../tree/hashing.js';

/**
 * A stage that sees every byte of the output as it passes (a hash, a size counter). A returned
 * promise is back-pressure: the caller awaits it before it changes `chunk` or passes the next one.
 */
export interface Tap {
  update(chunk: Uint8Array): void | Promise<void>;
}

export type DigestName = 'md5' | 'sha256';

export type TapSpec =
  | { readonly kind: 'digest'; readonly algorithm: HashAlgorithm }
  /** `volumeBytes` = the PVD volume space size × 2048; the result is the 512-byte field, as latin1 text. */
  | { readonly kind: 'media-check'; readonly volumeBytes: number; readonly supportedIso: boolean };

/** A tap of a spec: `finish()` after the last byte gives its result as text. */
export interface FinishingTap {
  update(chunk: Uint8Array): void;
  finish(): string;
}

/** A digest of the bytes that pass; `finish()` after the last byte gives it in hex. */
export class HashTap implements FinishingTap {
  private readonly hash: Hash;
  constructor(readonly algorithm: HashAlgorithm) {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  finish(): string {
    return this.hash.digest('hex');
  }
}

export function makeTap(spec: TapSpec): FinishingTap {
  if (spec.kind === 'digest') return new HashTap(spec.algorithm);
  const tap = new MediaCheckTap(spec.volumeBytes);
  return {
    update: (chunk) => tap.update(chunk),
    finish: () => Buffer.from(tap.field(spec.supportedIso)).toString('latin1'),
  };
}
