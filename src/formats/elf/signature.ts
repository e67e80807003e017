/**
 * The signature a signed kernel module carries after its ELF data (elf-modinfo.md "Module
 * signature trailer"): [ELF][PKCS#7][struct module_signature (12)][magic (28)]. The PKCS#7 blob
 * is read just far enough for what `modinfo` shows: signer (issuer CN), key id (serial), hash.
 */
import { FormatError } from '../../errors.js';

const MAGIC = '~Module signature appended~\n';
const INFO_SIZE = 12;

export interface ModuleSignature {
  /** `PKCS#7`, `X509` or `PGP` (id_type 2, 1, 0), as modinfo's sig_id. */
  idType: string;
  /** Length of the signature blob. */
  length: number;
  signer?: string;
  /** Certificate serial number, upper-case hex bytes joined by `:` like modinfo's sig_key. */
  keyId?: string;
  /** `sha256`, … like modinfo's sig_hashalgo. */
  hashAlgorithm?: string;
}

/** The signature at the end of `bytes`, if any, and where the ELF data ends. */
export function findSignature(bytes: Uint8Array): { elfLength: number; signature?: ModuleSignature } {
  const magic = Buffer.from(MAGIC, 'latin1');
  const tail = bytes.length - magic.length;
  if (tail < 0 || !Buffer.from(bytes.buffer, bytes.byteOffset + tail, magic.length).equals(magic)) return { elfLength: bytes.length };
  const infoAt = tail - INFO_SIZE;
  if (infoAt < 0) throw new FormatError('signature trailer is cut short (no struct module_signature before the magic)');
  const info = new DataView(bytes.buffer, bytes.byteOffset + infoAt, INFO_SIZE);
  const idType = info.getUint8(2);
  const length = info.getUint32(8, false); // big-endian on every architecture
  const sigAt = infoAt - length;
  if (sigAt < 0) throw new FormatError(`signature length ${length} is larger than the module (${bytes.length} bytes)`);
  const signature: ModuleSignature = { idType: ['PGP', 'X509', 'PKCS#7'][idType] ?? `unknown (${idType})`, length };
  if (idType === 2) Object.assign(signature, describePkcs7(bytes.subarray(sigAt, infoAt)));
  return { elfLength: sigAt, signature };
}

/**
 * What follows the ELF data of a module signed the way `scripts/sign-file` signs it: the PKCS#7
 * blob, `struct module_signature` (algo, hash, id_type = PKEY_ID_PKCS7, signer_len, key_id_len
 * all 0 but id_type; 3 pad bytes; sig_len big-endian) and the magic string.
 */
export function signatureTrailer(pkcs7: Uint8Array): Uint8Array {
  const info = new Uint8Array(INFO_SIZE);
  info[2] = 2;
  new DataView(info.buffer).setUint32(8, pkcs7.length, false);
  return Buffer.concat([pkcs7, info, Buffer.from(MAGIC, 'latin1')]);
}

interface Der {
  tag: number;
  /** Content bytes. */
  body: Uint8Array;
}

/** Read DER TLVs one after the other from `bytes`. */
function derChildren(bytes: Uint8Array): Der[] {
  const out: Der[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 2 > bytes.length) throw new FormatError('cut DER element');
    const tag = bytes[at]!;
    let len = bytes[at + 1]!;
    at += 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || at + n > bytes.length) throw new FormatError('bad DER length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[at + i]!;
      at += n;
    }
    if (at + len > bytes.length) throw new FormatError('DER element runs past its parent');
    out.push({ tag, body: bytes.subarray(at, at + len) });
    at += len;
  }
  return out;
}

function only(bytes: Uint8Array, tag: number): Der {
  const first = derChildren(bytes)[0];
  if (!first || first.tag !== tag) throw new FormatError(`expected DER tag 0x${tag.toString(16)}`);
  return first;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID_CN = '550403';
const HASHES: Record<string, string> = {
  '2b0e03021a': 'sha1',
  '608648016503040204': 'sha224',
  '608648016503040201': 'sha256',
  '608648016503040202': 'sha384',
  '608648016503040203': 'sha512',
  '608648016503040208': 'sha3-256',
  '608648016503040209': 'sha3-384',
  '60864801650304020a': 'sha3-512',
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const keyId = (b: Uint8Array) => [...b].map((x) => x.toString(16).toUpperCase().padStart(2, '0')).join(':');

/** Signer, key id and hash of the first SignerInfo; what cannot be read is left out. */
function describePkcs7(blob: Uint8Array): Partial<ModuleSignature> {
  try {
    const contentInfo = derChildren(only(blob, SEQUENCE).body);
    const signedData = derChildren(only(contentInfo[1]?.body ?? new Uint8Array(0), SEQUENCE).body);
    const signerInfos = signedData.findLast((d) => d.tag === SET);
    if (!signerInfos) return {};
    const [, sid, digestAlg] = derChildren(only(signerInfos.body, SEQUENCE).body);
    const out: Partial<ModuleSignature> = {};
    if (digestAlg?.tag === SEQUENCE) {
      const oid = derChildren(digestAlg.body)[0];
      const name = oid && HASHES[hex(oid.body)];
      if (name) out.hashAlgorithm = name;
    }
    if (sid?.tag === SEQUENCE) {
      // IssuerAndSerialNumber: issuer Name, serial INTEGER
      const [issuer, serial] = derChildren(sid.body);
      if (serial) out.keyId = keyId(serial.body);
      const cn = issuer && commonName(issuer.body);
      if (cn !== undefined) out.signer = cn;
    } else if (sid?.tag === 0x80) {
      out.keyId = keyId(sid.body);
    }
    return out;
  } catch (err) {
    if (err instanceof FormatError) return {};
    throw err;
  }
}

/** The commonName attribute of an X.501 Name (SEQUENCE OF SET OF AttributeTypeAndValue). */
function commonName(name: Uint8Array): string | undefined {
  for (const rdn of derChildren(name)) {
    for (const atv of derChildren(rdn.body)) {
      const [type, value] = derChildren(atv.body);
      if (type && value && hex(type.body) === OID_CN) return Buffer.from(value.body).toString('utf8');
    }
  }
  return undefined;
}
