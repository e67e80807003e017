/**
 * Kernel module signatures for Secure Boot, byte for byte what `scripts/sign-file sha256 KEY CERT
 * MODULE` appends (OpenSSL 3 build: CMS, detached, no signed attributes, no certificates, the
 * signer named by issuer and serial, digest parameters absent; elf-modinfo.md "Module signature
 * trailer"). RSA PKCS#1 v1.5 is deterministic, so the same key gives the same bytes every time.
 */
import { signatureTrailer } from '../formats/elf/index.js';
import type { CmsSigner } from './cms-signer.js';

/** The trailer to append to the (unsigned) ELF bytes `elf`. */
export async function moduleSignatureTrailer(elf: Uint8Array, signer: Pick<CmsSigner, 'key' | 'cert'>): Promise<Uint8Array> {
  // PKI.js only when a module is signed (it is slow to load)
  const { signDetached } = await import('./cms.js');
  const pkcs7 = await signDetached(elf, { key: signer.key, cert: signer.cert, includeCertificates: false, digestParams: 'absent' });
  return signatureTrailer(pkcs7);
}
