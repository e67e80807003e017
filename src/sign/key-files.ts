/** `keygen`: a test signing key pair written as PREFIX.asc (secret, mode 0600) and PREFIX.pub.asc. */
import { chmod, stat } from 'node:fs/promises';
import { sourceDateEpoch } from '../context.js';
import { AtomicFile } from '../emit/atomic.js';
import { UserError } from '../errors.js';

export interface KeygenOptions {
  /** User ID name (default `dudkit test signing key`). */
  name?: string;
  email?: string;
  /** RSA key size (default 3072). */
  bits?: 2048 | 3072 | 4096;
  /** Protects the secret key when given; unprotected keys are for tests only. */
  passphrase?: string;
  /** Replace existing files. */
  force?: boolean;
  /** Key creation time, seconds since the epoch (default SOURCE_DATE_EPOCH, else now). */
  created?: number;
}

export interface KeygenResult {
  secret: string;
  public: string;
  fingerprint: string;
  bits: number;
  protected: boolean;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

export async function keygen(prefix: string, opts: KeygenOptions = {}): Promise<KeygenResult> {
  const bits = opts.bits ?? 3072;
  if (![2048, 3072, 4096].includes(bits)) throw new UserError(`key size ${bits}: choose 2048, 3072 or 4096`);
  const secret = `${prefix}.asc`;
  const pub = `${prefix}.pub.asc`;
  for (const f of [secret, pub]) if (!opts.force && (await exists(f))) throw new UserError('exists already (use --force to replace it)', f);
  // OpenPGP.js is large: loaded only when a key is made
  const { generateKeyPair } = await import('./keygen.js');
  const { passphrase } = opts;
  const pair = await generateKeyPair({
    name: opts.name ?? 'dudkit test signing key',
    ...(opts.email ? { email: opts.email } : {}),
    bits,
    ...(passphrase ? { passphrase } : {}),
    created: opts.created ?? sourceDateEpoch(),
  });
  await AtomicFile.with(secret, [], async (f) => {
    await chmod(f.tempPath, 0o600);
    await f.write(Buffer.from(pair.secretArmored));
  });
  await AtomicFile.with(pub, [], (f) => f.write(Buffer.from(pair.publicArmored)));
  return { secret, public: pub, fingerprint: pair.fingerprint, bits, protected: Boolean(passphrase) };
}
