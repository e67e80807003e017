/**
 * Reading an X.509 signer for CMS signatures (`sign: { key, cert, chain, passphraseEnv }`): a PEM
 * RSA private key of at least 2048 bits (an encrypted one unlocked with the passphrase from the
 * environment), its PEM certificate, optional intermediates. Mistakes name the option.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { asUserError, UserError } from '../errors.js';
import { certificatesFromPem } from './pem.js';
import { passphraseFrom } from './passphrase.js';

export interface CmsSigner {
  key: KeyObject;
  /** DER. */
  cert: Uint8Array;
  chain: Uint8Array[];
  /** Stands for the key in build identities (a hash of its public half and the certificate). */
  fingerprint: string;
}

export interface CmsSignerFiles {
  key: string;
  cert: string;
  chain?: string[] | undefined;
  passphraseEnv: string;
}

const read = (path: string) => readFile(path, 'utf8').catch((err: unknown) => asUserError(err, path));

export async function loadCmsSigner(given: CmsSignerFiles, baseDir: string, optionPrefix = 'sign'): Promise<CmsSigner> {
  const keyPath = resolve(baseDir, given.key);
  const keyText = await read(keyPath);
  // PKI.js only when there is something to sign
  const { describeCertificate, keyMatchesCertificate, privateKeyFromPem } = await import('./cms.js');
  let key: KeyObject;
  if (/ENCRYPTED/.test(keyText)) {
    const passphrase = await passphraseFrom(given.passphraseEnv, keyPath)();
    try {
      key = privateKeyFromPem(keyText, passphrase);
    } catch {
      throw new UserError(`${optionPrefix}.key: cannot decrypt the key with the passphrase from $${given.passphraseEnv}`, keyPath);
    }
  } else {
    try {
      key = privateKeyFromPem(keyText);
    } catch (err) {
      throw new UserError(`${optionPrefix}.key: not a PEM private key (${(err as Error).message})`, keyPath);
    }
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048) throw new UserError(`${optionPrefix}.key: an RSA key of at least 2048 bits is needed (this is ${key.asymmetricKeyType ?? 'unknown'}${bits ? ` ${bits}` : ''})`, keyPath);
  const certPath = resolve(baseDir, given.cert);
  const certBytes = await readFile(certPath).catch((err: unknown) => asUserError(err, certPath));
  // PEM, or DER as sign-file also takes it (a SEQUENCE first)
  const [cert] = certBytes[0] === 0x30 ? [new Uint8Array(certBytes)] : certificatesFromPem(certBytes.toString('utf8'));
  if (!cert) throw new UserError(`${optionPrefix}.cert: no certificate in the file (PEM -----BEGIN CERTIFICATE----- or DER)`, certPath);
  try {
    describeCertificate(cert);
    if (!keyMatchesCertificate(key, cert)) throw new UserError(`${optionPrefix}.cert: its public key does not match ${optionPrefix}.key: give the certificate issued for this key`, certPath);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${optionPrefix}.cert: not a usable X.509 certificate (${(err as Error).message})`, certPath);
  }
  const chain: Uint8Array[] = [];
  for (const [i, c] of (given.chain ?? []).entries()) {
    const path = resolve(baseDir, c);
    const certs = certificatesFromPem(await read(path));
    if (certs.length === 0) throw new UserError(`${optionPrefix}.chain[${i}]: no PEM certificate in the file`, path);
    chain.push(...certs);
  }
  const fingerprint = createHash('sha256').update(key.export({ type: 'pkcs8', format: 'der' })).update(cert).digest('hex');
  return { key, cert, chain, fingerprint };
}
