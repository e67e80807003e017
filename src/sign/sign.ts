/**
 * The signatures a signed repository needs (`xenserver.md` §4.3, `rpm.md` "Signing"): armoured
 * detached signatures of metadata files and OpenPGP signatures in RPM signature headers.
 */
import type { HeaderEntry } from '../formats/rpm/header.js';
import { RPM_TYPE, SIGTAG } from '../formats/rpm/tags.js';
import { armorSignature, type SigningKey } from './key.js';

/**
 * The creation time written into signatures: SOURCE_DATE_EPOCH, or the key's own creation time
 * when the epoch is older (gpg refuses a signature dated before its key). Both are fixed inputs,
 * so the signatures stay reproducible.
 */
export function signatureTime(key: SigningKey, epoch: number): number {
  return Math.max(epoch, key.created);
}

/** `gpg --armor --detach-sign` of `data`: the `.asc` file's text. */
export async function armoredDetachedSignature(key: SigningKey, data: Uint8Array, epoch: number): Promise<string> {
  return armorSignature(await key.sign(data, signatureTime(key, epoch)));
}

/**
 * The `sign` hook of the RPM writer: a signature over the exact main-header bytes, stored as
 * the binary packet in RSAHEADER (268) for RSA keys, DSAHEADER (267) for the others, as
 * `rpmsign` does.
 */
export function rpmHeaderSigner(key: SigningKey, epoch: number): (mainHeader: Uint8Array) => Promise<HeaderEntry[]> {
  return async (mainHeader) => [{ tag: key.algorithm === 'rsa' ? SIGTAG.RSA : SIGTAG.DSA, type: RPM_TYPE.BIN, value: await key.sign(mainHeader, signatureTime(key, epoch)) }];
}
