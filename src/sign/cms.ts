/**
 * CMS (PKCS#7) SignedData, detached (RFC 5652), built and checked with PKI.js: the one signature
 * module for formats that carry an X.509 signature over bytes kept elsewhere.
 * - ESXi's `sig.pkcs7` (`esxi.md` §6): SHA-256, signed attributes contentType, signingTime,
 *   messageDigest (in that order, which is also their DER order), certificates included, PEM.
 * - Linux module signatures (`sign-file`, issue 17): no signed attributes, no certificates, DER.
 * Both: SignedData and SignerInfo version 1, the signer identified by issuer and serial number,
 * encapsulated content type `data` with the content absent, signature algorithm `rsaEncryption`
 * (PKCS#1 v1.5, deterministic: equal inputs give equal bytes).
 */
import { createHash, createPrivateKey, createPublicKey, verify as nodeVerify, webcrypto, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { FormatError, UserError } from '../errors.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const;

export type CmsHash = 'SHA-256' | 'SHA-384' | 'SHA-512';
const NODE_HASH: Record<CmsHash, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] });

export interface CmsSignOptions {
  /** The signer's RSA private key. */
  key: KeyObject;
  /** The signer's certificate (DER). */
  cert: Uint8Array;
  /** Certificates carried after the signer's (intermediates, DER); ignored without `includeCertificates`. */
  chain?: readonly Uint8Array[];
  hash?: CmsHash;
  /** Add contentType, signingTime (this instant) and messageDigest; none when absent (sign-file). */
  signedAttributes?: { signingTime: Date };
  /** Carry the certificates in the SignedData (default true). */
  includeCertificates?: boolean;
  /**
   * The digest AlgorithmIdentifier's parameters: `null` (an explicit NULL, as VMware's signed
   * VIBs have) or `absent` (as OpenSSL 3 and so sign-file write). Not covered by the signature.
   */
  digestParams?: 'null' | 'absent';
}

const ab = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function parseCertificate(der: Uint8Array): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(ab(der));
  } catch (err) {
    throw new FormatError(`not an X.509 certificate: ${(err as Error).message}`);
  }
}

/** A detached CMS SignedData over `content`, DER-encoded (ContentInfo). */
export async function signDetached(content: Uint8Array, opts: CmsSignOptions): Promise<Uint8Array> {
  const hash = opts.hash ?? 'SHA-256';
  if (opts.key.asymmetricKeyType !== 'rsa') throw new UserError(`the signing key is ${opts.key.asymmetricKeyType ?? 'not an asymmetric'} key; an RSA key is needed`);
  const cert = parseCertificate(opts.cert);
  const signer = new pkijs.SignerInfo({
    version: 1,
    sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
  });
  if (opts.signedAttributes) {
    const digest = createHash(NODE_HASH[hash]).update(content).digest();
    signer.signedAttrs = new pkijs.SignedAndUnsignedAttributes({
      type: 0,
      attributes: [
        new pkijs.Attribute({ type: OID.contentType, values: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
        new pkijs.Attribute({ type: OID.signingTime, values: [new asn1js.UTCTime({ valueDate: opts.signedAttributes.signingTime })] }),
        new pkijs.Attribute({ type: OID.messageDigest, values: [new asn1js.OctetString({ valueHex: ab(digest) })] }),
      ],
    });
  }
  const signed = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data }),
    signerInfos: [signer],
    ...(opts.includeCertificates === false ? {} : { certificates: [cert, ...(opts.chain ?? []).map(parseCertificate)] }),
  });
  const pkcs8 = opts.key.export({ type: 'pkcs8', format: 'der' });
  const key = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
  await signed.sign(key as unknown as Parameters<pkijs.SignedData['sign']>[0], 0, hash, ab(content), engine);
  // PKI.js names the algorithm sha256WithRSAEncryption; VMware and sign-file write rsaEncryption (not signed, so safe to set)
  signer.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: OID.rsaEncryption, algorithmParams: new asn1js.Null() });
  if (opts.digestParams === 'absent') {
    const digest = () => new pkijs.AlgorithmIdentifier({ algorithmId: signer.digestAlgorithm.algorithmId });
    signer.digestAlgorithm = digest();
    signed.digestAlgorithms = [digest()];
  }
  const info = new pkijs.ContentInfo({ contentType: OID.signedData, content: signed.toSchema(true) });
  return new Uint8Array(info.toSchema().toBER(false));
}

export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** Hex, upper case, as openssl prints it. */
  serial: string;
  notBefore: string;
  notAfter: string;
}

const NAME_OIDS: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '1.2.840.113549.1.9.1': 'emailAddress' };

function nameText(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues.map((tv) => `${NAME_OIDS[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`).join(', ');
}

function certFacts(cert: pkijs.Certificate): CertificateFacts {
  return {
    subject: nameText(cert.subject),
    issuer: nameText(cert.issuer),
    serial: Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex').toUpperCase(),
    notBefore: cert.notBefore.value.toISOString(),
    notAfter: cert.notAfter.value.toISOString(),
  };
}

/** What a certificate says (DER). */
export function describeCertificate(der: Uint8Array): CertificateFacts {
  return certFacts(parseCertificate(der));
}

/** The SPKI (DER) of a certificate: compared with a private key's public half. */
export function certificatePublicKey(der: Uint8Array): KeyObject {
  const cert = parseCertificate(der);
  return createPublicKey({ key: Buffer.from(cert.subjectPublicKeyInfo.toSchema().toBER(false)), format: 'der', type: 'spki' });
}

/** Whether `cert` (DER) carries the public half of `key`. */
export function keyMatchesCertificate(key: KeyObject, cert: Uint8Array): boolean {
  const a = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const b = certificatePublicKey(cert).export({ type: 'spki', format: 'der' });
  return Buffer.compare(a, b) === 0;
}

/** A PEM private key, decrypted with `passphrase` when it is encrypted. */
export function privateKeyFromPem(text: string, passphrase?: string): KeyObject {
  return createPrivateKey(passphrase === undefined ? { key: text, format: 'pem' } : { key: text, format: 'pem', passphrase });
}

export interface CmsVerification {
  /** The signature over the content (and the message digest attribute, when there is one) holds. */
  ok: boolean;
  problem?: string;
  version: number;
  digestAlgorithm: string;
  signatureAlgorithm: string;
  /** Signed attribute types (OIDs, in order); empty without signed attributes. */
  signedAttributes: string[];
  signingTime?: string;
  detached: boolean;
  certificates: CertificateFacts[];
  /** The signer's certificate, when the SignedData carries it (or `trusted` gives it). */
  signer?: CertificateFacts;
  /** With `trusted`: the signer's certificate chains to one of them. */
  trusted?: boolean;
}

const HASH_OIDS: Record<string, string> = { '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512', '1.3.14.3.2.26': 'sha1' };

/**
 * Check a detached signature (DER ContentInfo) over `content`. `extra` adds certificates to look
 * the signer up in (a certificate given on the command line); `trusted` (DER) are anchors the
 * signer must chain to.
 */
export async function verifyDetached(der: Uint8Array, content: Uint8Array, opts: { extra?: readonly Uint8Array[]; trusted?: readonly Uint8Array[] } = {}): Promise<CmsVerification> {
  let signed: pkijs.SignedData;
  try {
    const info = pkijs.ContentInfo.fromBER(ab(der));
    if (info.contentType !== OID.signedData) throw new Error(`content type ${info.contentType}, not signedData`);
    signed = new pkijs.SignedData({ schema: info.content });
  } catch (err) {
    throw new FormatError(`not a CMS SignedData: ${(err as Error).message}`);
  }
  const si = signed.signerInfos[0];
  if (!si) throw new FormatError('CMS SignedData without a SignerInfo');
  const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const extra = (opts.extra ?? []).map(parseCertificate);
  const sid = si.sid instanceof pkijs.IssuerAndSerialNumber ? si.sid : undefined;
  const signerCert = sid ? [...certs, ...extra].find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber)) : undefined;
  const base: CmsVerification = {
    ok: false,
    version: signed.version,
    digestAlgorithm: HASH_OIDS[si.digestAlgorithm.algorithmId] ?? si.digestAlgorithm.algorithmId,
    signatureAlgorithm: si.signatureAlgorithm.algorithmId === OID.rsaEncryption ? 'rsaEncryption' : si.signatureAlgorithm.algorithmId,
    signedAttributes: si.signedAttrs?.attributes.map((a) => a.type) ?? [],
    detached: signed.encapContentInfo.eContent === undefined,
    certificates: certs.map(certFacts),
    ...(signerCert ? { signer: certFacts(signerCert) } : {}),
  };
  const time = si.signedAttrs?.attributes.find((a) => a.type === OID.signingTime)?.values[0];
  if (time instanceof asn1js.UTCTime || time instanceof asn1js.GeneralizedTime) base.signingTime = time.toDate().toISOString();
  if (!signerCert) return { ...base, problem: 'the signer certificate is not in the signature (give it with --cert)' };
  if (extra.length > 0 && !certs.includes(signerCert)) signed.certificates = [...certs, signerCert];
  try {
    const r = await signed.verify({ signer: 0, data: ab(content), checkChain: false, extendedMode: true }, engine);
    if (!r.signatureVerified) return { ...base, problem: r.message || 'the signature does not match the content' };
  } catch (err) {
    const e = err as { message?: string; signatureVerified?: boolean };
    return { ...base, problem: e.message || 'the signature does not match the content' };
  }
  const out: CmsVerification = { ...base, ok: true };
  if (opts.trusted?.length) out.trusted = chainsTo(signerCert, [...certs, ...extra], opts.trusted.map(parseCertificate));
  return out;
}

/** Whether `cert` is one of `anchors` or is issued (signature checked) through `pool` up to one of them. */
function chainsTo(cert: pkijs.Certificate, pool: pkijs.Certificate[], anchors: pkijs.Certificate[]): boolean {
  const spki = (c: pkijs.Certificate) => createPublicKey({ key: Buffer.from(c.subjectPublicKeyInfo.toSchema().toBER(false)), format: 'der', type: 'spki' });
  const issuedBy = (child: pkijs.Certificate, parent: pkijs.Certificate): boolean => {
    if (!child.issuer.isEqual(parent.subject)) return false;
    const tbs = Buffer.from(child.encodeTBS().toBER(false));
    const sig = Buffer.from(child.signatureValue.valueBlock.valueHexView);
    const alg = { '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512', '1.2.840.113549.1.1.5': 'sha1' }[child.signatureAlgorithm.algorithmId];
    if (!alg) return false;
    try {
      return nodeVerify(alg, tbs, spki(parent), sig);
    } catch {
      return false;
    }
  };
  const same = (a: pkijs.Certificate, b: pkijs.Certificate) => a.issuer.isEqual(b.issuer) && a.serialNumber.isEqual(b.serialNumber);
  let at = cert;
  for (let depth = 0; depth < 8; depth++) {
    if (anchors.some((a) => same(a, at))) return true;
    const anchor = anchors.find((a) => issuedBy(at, a));
    if (anchor) return true;
    const next = pool.find((p) => !same(p, at) && issuedBy(at, p));
    if (!next) return false;
    at = next;
  }
  return false;
}

