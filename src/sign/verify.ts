/**
 * Checking signatures the way `gpg --verify` and rpm do, with the public keys the user trusts:
 * detached `.asc` signatures of files, and the OpenPGP signature of an RPM's main header.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type * as openpgp from 'openpgp';
import { asUserError, UserError } from '../errors.js';
import { loadOpenpgp, PGP_CONFIG } from './key.js';

export interface SignatureCheck {
  ok: boolean;
  /** Issuer key ID (16 hex digits) when the signature names one. */
  keyId?: string;
  /** Why it is not good (gpg's BADSIG / NO_PUBKEY / ERRSIG cases). */
  problem?: string;
}

/** Public keys from an armored (or binary) key file: certificates or secret keys, any number. */
export async function readPublicKeys(path: string): Promise<openpgp.PublicKey[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    asUserError(err, path);
  }
  return readKeysFromBytes(bytes, path);
}

/** The same, from a key file's bytes; `origin` names it in errors. */
export async function readKeysFromBytes(bytes: Uint8Array, origin: string): Promise<openpgp.PublicKey[]> {
  const text = Buffer.from(bytes).toString('latin1');
  const openpgp = await loadOpenpgp();
  try {
    const keys = text.includes('-----BEGIN PGP')
      ? await openpgp.readKeys({ armoredKeys: text, config: PGP_CONFIG })
      : await openpgp.readKeys({ binaryKeys: bytes, config: PGP_CONFIG });
    return keys.map((k) => k.toPublic());
  } catch (err) {
    throw new UserError(`not an OpenPGP key file (${String((err as Error).message).split('\n')[0]})`, origin);
  }
}

/** `data` as bytes, or as a stream (a whole medium), hashed as it is read and never held whole. */
async function check(signature: openpgp.Signature, data: Uint8Array | ReadableStream<Uint8Array>, keys: openpgp.PublicKey[]): Promise<SignatureCheck> {
  const openpgp = await loadOpenpgp();
  const message = await openpgp.createMessage({ binary: data });
  // the signature's own time, not now: media are verified long after they were signed
  const result = await openpgp.verify({ message, signature, verificationKeys: keys, expectSigned: false, format: 'binary', config: PGP_CONFIG });
  // a stream's signatures are settled once its data has streamed through (drained with a reader:
  // `for await` over a detached check's data fails with "ReadableStream is locked")
  if (!(data instanceof Uint8Array)) {
    const reader = (result.data as ReadableStream<Uint8Array>).getReader();
    while (!(await reader.read()).done);
  }
  return settle(result.signatures, keys);
}

/** The verdict on the first signature of a verification, as gpg gives it. */
async function settle(signatures: openpgp.VerifyMessageResult["signatures"], keys: openpgp.PublicKey[]): Promise<SignatureCheck> {
  const first = signatures[0];
  if (!first) return { ok: false, problem: 'no signature packet' };
  const keyId = first.keyID.toHex();
  if (!keys.some((k) => k.getKeys(first.keyID).length > 0)) return { ok: false, keyId, problem: `made by key ${keyId}, which is not among the given public keys (gpg: NO_PUBKEY)` };
  try {
    await first.verified;
    return { ok: true, keyId };
  } catch (err) {
    return { ok: false, keyId, problem: `bad signature (gpg: BADSIG): ${String((err as Error).message).split('\n')[0]}` };
  }
}

/** Verify an armored detached signature of `data`. */
export async function verifyArmoredDetached(armored: string, data: Uint8Array | ReadableStream<Uint8Array>, keys: openpgp.PublicKey[]): Promise<SignatureCheck> {
  const openpgp = await loadOpenpgp();
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature: armored, config: PGP_CONFIG });
  } catch (err) {
    return { ok: false, problem: `not an armored OpenPGP signature (${String((err as Error).message).split('\n')[0]})` };
  }
  return check(signature, data, keys);
}

/**
 * Verify an inline-signed file (`gpg --sign`: signature and data in one OpenPGP message). The
 * data is decompressed as it streams by and not kept: a small file may unpack to a huge one.
 */
export async function verifyInline(path: string, keys: openpgp.PublicKey[]): Promise<SignatureCheck> {
  const openpgp = await loadOpenpgp();
  let message: openpgp.Message<ReadableStream<Uint8Array>>;
  try {
    message = await openpgp.readMessage({ binaryMessage: Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>, config: PGP_CONFIG });
  } catch (err) {
    return { ok: false, problem: `not an OpenPGP message (${String((err as Error).message).split('\n')[0]})` };
  }
  const result = await openpgp.verify({ message, verificationKeys: keys, expectSigned: false, format: 'binary', config: PGP_CONFIG });
  try {
    // the signatures are settled once the data has streamed through
    for await (const _ of result.data as ReadableStream<Uint8Array>) void _;
  } catch (err) {
    return { ok: false, problem: `unreadable signed data (${String((err as Error).message).split('\n')[0]})` };
  }
  return settle(result.signatures, keys);
}

/** Verify a binary signature packet (an RPM's RSAHEADER/DSAHEADER) over `data`. */
export async function verifyBinaryDetached(packet: Uint8Array, data: Uint8Array, keys: openpgp.PublicKey[]): Promise<SignatureCheck> {
  const openpgp = await loadOpenpgp();
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ binarySignature: packet, config: PGP_CONFIG });
  } catch (err) {
    return { ok: false, problem: `unreadable OpenPGP signature (${String((err as Error).message).split('\n')[0]})` };
  }
  return check(signature, data, keys);
}
