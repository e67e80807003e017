/**
 * Who signed a package: the facts of the OpenPGP signature packet in the signature header (RSA
 * 268 / DSA 267 over the main header, legacy PGP 1002 / GPG 1005 over header + payload), as
 * `rpm -qp --qf '%{RSAHEADER:pgpsig}'` shows them. Only the packet is decoded; checking the
 * signature itself needs the key and is gpg's or rpmkeys' job.
 */
import { FormatError } from '../../errors.js';
import type { Header } from './header.js';
import { SIGTAG } from './tags.js';

export interface RpmSignature {
  /** Signature-header tag it was found in. */
  tag: number;
  /** What it covers: the main header (267/268) or header + payload (1002/1005). */
  covers: 'header' | 'header+payload';
  version: number;
  pubkeyAlgo: string;
  hashAlgo: string;
  /** Signature creation time, seconds since the epoch. */
  created: number;
  /** Issuer key ID, 16 lower-case hex digits (empty if the packet names none). */
  keyId: string;
}

const PUBKEY: Record<number, string> = { 1: 'RSA', 2: 'RSA', 3: 'RSA', 16: 'ELGAMAL', 17: 'DSA', 19: 'ECDSA', 22: 'EdDSA', 27: 'Ed25519', 28: 'Ed448' };
const HASH: Record<number, string> = { 1: 'MD5', 2: 'SHA1', 3: 'RIPEMD160', 8: 'SHA256', 9: 'SHA384', 10: 'SHA512', 11: 'SHA224', 12: 'SHA3-256', 14: 'SHA3-512' };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The body of the first OpenPGP packet, which must be a signature packet (tag 2). */
function signaturePacketBody(p: Uint8Array): Uint8Array {
  const bad = (why: string): never => {
    throw new FormatError(`signature header: OpenPGP signature ${why}`);
  };
  const b0 = p[0];
  if (b0 === undefined || (b0 & 0x80) === 0) bad('does not start with a packet header');
  let tag: number;
  let len: number;
  let at: number;
  if (b0! & 0x40) {
    tag = b0! & 0x3f;
    const l0 = p[1] ?? bad('is truncated');
    if (l0 < 192) [len, at] = [l0, 2];
    else if (l0 < 224) [len, at] = [((l0 - 192) << 8) + (p[2] ?? bad('is truncated')) + 192, 3];
    else if (l0 === 255) [len, at] = [new DataView(p.buffer, p.byteOffset).getUint32(2), 6];
    else return bad('uses a partial body length');
  } else {
    tag = (b0! >> 2) & 0x0f;
    const lt = b0! & 3;
    const n = [1, 2, 4][lt] ?? bad('has an indeterminate length');
    if (p.length < 1 + n) bad('is truncated');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + p[1 + i]!;
    at = 1 + n;
  }
  if (tag !== 2) bad(`packet has tag ${tag}, not 2 (signature)`);
  if (at + len > p.length) bad('is truncated');
  return p.subarray(at, at + len);
}

/** Decode the facts of one signature packet. */
export function decodeSignaturePacket(packet: Uint8Array, tag: number): RpmSignature {
  const body = signaturePacketBody(packet);
  const covers = tag === SIGTAG.RSA || tag === SIGTAG.DSA ? 'header' : 'header+payload';
  const truncated = () => new FormatError('signature header: OpenPGP signature is truncated');
  const version = body[0];
  if (version === 3) {
    if (body.length < 17) throw truncated();
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    return { tag, covers, version, created: dv.getUint32(3), keyId: hex(body.subarray(7, 15)), pubkeyAlgo: PUBKEY[body[15]!] ?? `algo ${body[15]}`, hashAlgo: HASH[body[16]!] ?? `hash ${body[16]}` };
  }
  if (version !== 4) throw new FormatError(`signature header: OpenPGP signature version ${version} (rpm 4 reads versions 3 and 4)`);
  if (body.length < 6) throw truncated();
  const sig: RpmSignature = { tag, covers, version, created: 0, keyId: '', pubkeyAlgo: PUBKEY[body[2]!] ?? `algo ${body[2]}`, hashAlgo: HASH[body[3]!] ?? `hash ${body[3]}` };
  // hashed subpackets, then unhashed ones (where gpg puts the issuer key ID)
  let at = 4;
  for (let area = 0; area < 2; area++) {
    if (at + 2 > body.length) throw truncated();
    const end = at + 2 + (body[at]! << 8) + body[at + 1]!;
    if (end > body.length) throw truncated();
    at += 2;
    while (at < end) {
      const l0 = body[at]!;
      let len: number;
      if (l0 < 192) [len, at] = [l0, at + 1];
      else if (l0 < 255) [len, at] = [((l0 - 192) << 8) + (body[at + 1] ?? 0) + 192, at + 2];
      else [len, at] = [new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0), at + 5];
      if (len < 1 || at + len > end) throw truncated();
      const type = body[at]! & 0x7f;
      const data = body.subarray(at + 1, at + len);
      if (type === 2 && data.length === 4) sig.created = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
      if (type === 16 && data.length === 8) sig.keyId = hex(data);
      // issuer fingerprint: v4 key ID = its last 8 bytes
      if (type === 33 && data.length === 21 && !sig.keyId) sig.keyId = hex(data.subarray(13));
      at += len;
    }
  }
  return sig;
}

/** Every OpenPGP signature the signature header carries. */
export function signatures(sigHeader: Header): RpmSignature[] {
  return [SIGTAG.RSA, SIGTAG.DSA, SIGTAG.PGP, SIGTAG.GPG].flatMap((tag) => {
    const packet = sigHeader.bin(tag);
    return packet ? [decodeSignaturePacket(packet, tag)] : [];
  });
}
