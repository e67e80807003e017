/**
 * OpenPGP signing keys (through OpenPGP.js): an armored secret key file in, a key that makes
 * binary detached signatures out. The OpenPGP.js objects stay inside this folder.
 *
 * Signatures are v4 packets made by the *primary* key (XenServer's dom0 rpm 4.11 ignores
 * signing subkeys), hash SHA-256, creation time fixed by the caller: with RSA (PKCS#1 v1.5,
 * which has no random input) the signature bytes are then fully deterministic. OpenPGP.js's
 * random "salt" notation is switched off for the same reason.
 */
import { readFile } from 'node:fs/promises';
import type * as openpgp from 'openpgp';
import { asUserError, UserError } from '../errors.js';

/**
 * OpenPGP.js, loaded on first use: it takes longer to load than the rest of dudkit, and most
 * builds sign nothing (issue 18, start-up).
 */
export const loadOpenpgp = (): Promise<typeof openpgp> => import('openpgp');

/** OpenPGP.js settings for every operation here: deterministic v4 signatures over SHA-256. */
export const PGP_CONFIG: openpgp.PartialConfig = {
  nonDeterministicSignaturesViaNotation: false,
  // openpgp.enums.hash.sha256, without loading OpenPGP.js for a constant
  preferredHashAlgorithm: 8 satisfies typeof openpgp.enums.hash.sha256,
  v6Keys: false,
};

export type KeyAlgorithm = 'rsa' | 'dsa' | 'ecdsa' | 'eddsa';

export interface SigningKey {
  /** The key file, for messages. */
  readonly origin: string;
  /** 40 upper-case hex digits, as gpg prints it. */
  readonly fingerprint: string;
  /** 16 lower-case hex digits (the issuer key ID in signatures). */
  readonly keyId: string;
  readonly algorithm: KeyAlgorithm;
  /** RSA modulus / DSA prime size. */
  readonly bits: number | undefined;
  readonly userIds: readonly string[];
  /** Key creation time, seconds since the epoch. */
  readonly created: number;
  /** The public key (certificate), ASCII-armoured: what users import. */
  readonly publicArmored: string;
  /**
   * A detached binary signature (one v4 signature packet, type 0x00 "binary document") of
   * `data`, created at `time` (seconds), which must not precede the key's creation.
   */
  sign(data: Uint8Array, time: number): Promise<Uint8Array>;
}

const ALGORITHMS: Partial<Record<string, KeyAlgorithm>> = {
  rsaEncryptSign: 'rsa', rsaSign: 'rsa', dsa: 'dsa', ecdsa: 'ecdsa', eddsaLegacy: 'eddsa', ed25519: 'eddsa',
};

const firstLine = (err: unknown): string => String((err as Error)?.message ?? err).split('\n')[0]!;

/**
 * Read and unlock an armored secret key. `passphrase` is asked only when the key is
 * protected; a wrong one is a UserError naming the file.
 */
export async function loadSigningKey(path: string, passphrase: () => Promise<string>): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    asUserError(err, path);
  }
  const openpgp = await loadOpenpgp();
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: text, config: PGP_CONFIG });
  } catch (err) {
    throw new UserError(`not an ASCII-armoured OpenPGP secret key (${firstLine(err)})`, path);
  }
  if (key.keyPacket.version !== 4) throw new UserError(`OpenPGP v${key.keyPacket.version} key: rpm 4 and the gpg of XenServer/XCP-ng hosts verify only v4 signatures; use a v4 key`, path);
  if (!key.isDecrypted()) {
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase: await passphrase(), config: PGP_CONFIG });
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot unlock the secret key (${firstLine(err)}): wrong passphrase?`, path);
    }
  }
  const algorithm = ALGORITHMS[key.getAlgorithmInfo().algorithm];
  if (!algorithm) throw new UserError(`key algorithm ${key.getAlgorithmInfo().algorithm} cannot sign`, path);
  const unlocked = key;
  const created = Math.floor(key.getCreationTime().getTime() / 1000);
  const keyId = key.getKeyID();
  return {
    origin: path,
    fingerprint: key.getFingerprint().toUpperCase(),
    keyId: keyId.toHex(),
    algorithm,
    bits: key.getAlgorithmInfo().bits,
    userIds: key.getUserIDs(),
    created,
    publicArmored: key.toPublic().armor(),
    async sign(data, time) {
      if (time < created) throw new UserError(`signature time ${new Date(time * 1000).toISOString()} precedes the key's creation (${new Date(created * 1000).toISOString()}); gpg rejects such signatures`, path);
      try {
        const message = await openpgp.createMessage({ binary: data });
        // signingKeyIDs = the primary key: rpm 4.11 (XenServer 7/8 dom0) does not look at subkeys
        return await openpgp.sign({ message, signingKeys: unlocked, signingKeyIDs: keyId, detached: true, format: 'binary', date: new Date(time * 1000), config: PGP_CONFIG });
      } catch (err) {
        throw new UserError(`cannot sign with this key (${firstLine(err)}); the primary key must be able to sign`, path);
      }
    },
  };
}

/** Re-armour a binary signature the way `gpg --armor --detach-sign` writes it. */
export async function armorSignature(binary: Uint8Array): Promise<string> {
  const openpgp = await loadOpenpgp();
  const sig = await openpgp.readSignature({ binarySignature: binary, config: PGP_CONFIG });
  return sig.armor();
}
