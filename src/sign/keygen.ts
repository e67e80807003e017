/**
 * Test key pairs for signed media: an RSA primary key that certifies and signs (what rpm 4.11
 * and xapi's gpg verify), as armored secret and public key texts.
 */
import { loadOpenpgp, PGP_CONFIG } from './key.js';

export interface KeyPairOptions {
  name: string;
  email?: string;
  /** 2048, 3072 or 4096. */
  bits: number;
  /** Protects the secret key when given. */
  passphrase?: string;
  /** Key creation time, seconds since the epoch. */
  created: number;
}

export interface KeyPair {
  secretArmored: string;
  publicArmored: string;
  fingerprint: string;
}

export async function generateKeyPair(o: KeyPairOptions): Promise<KeyPair> {
  const { privateKey, publicKey } = await (await loadOpenpgp()).generateKey({
    type: 'rsa',
    rsaBits: o.bits,
    userIDs: [{ name: o.name, ...(o.email ? { email: o.email } : {}) }],
    date: new Date(o.created * 1000),
    format: 'object',
    ...(o.passphrase ? { passphrase: o.passphrase } : {}),
    config: PGP_CONFIG,
  });
  return { secretArmored: privateKey.armor(), publicArmored: publicKey.armor(), fingerprint: privateKey.getFingerprint().toUpperCase() };
}
