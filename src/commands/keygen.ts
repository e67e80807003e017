import { chmod, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { AtomicFile } from '../emit/atomic.js';
import { UserError } from '../errors.js';
import { sourceDateEpoch } from '../context.js';
import { action, printJson } from './common.js';

interface KeygenOpts {
  name: string;
  email?: string;
  bits: string;
  passphraseEnv?: string;
  force?: boolean;
  json?: boolean;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function register(program: Command): void {
  program
    .command('keygen')
    .description('make an RSA OpenPGP key pair for signing test media (PREFIX.asc secret, PREFIX.pub.asc public)')
    .argument('[prefix]', 'output file prefix', 'dudkit-signing-key')
    .option('--name <name>', 'user ID name', 'dudkit test signing key')
    .option('--email <email>', 'user ID e-mail')
    .option('--bits <bits>', 'RSA key size: 2048, 3072 or 4096', '3072')
    .option('--passphrase-env <var>', 'protect the secret key with the passphrase in this environment variable (default: unprotected)')
    .option('--force', 'replace existing files')
    .option('--json', 'print one JSON document on stdout')
    .action(
      action(async (prefix: string, opts: KeygenOpts) => {
        const bits = Number(opts.bits);
        if (![2048, 3072, 4096].includes(bits)) throw new UserError(`--bits ${opts.bits}: choose 2048, 3072 or 4096`);
        let passphrase: string | undefined;
        if (opts.passphraseEnv !== undefined) {
          passphrase = process.env[opts.passphraseEnv];
          if (!passphrase) throw new UserError(`--passphrase-env ${opts.passphraseEnv}: that environment variable is not set or empty`);
        }
        const secret = `${prefix}.asc`;
        const pub = `${prefix}.pub.asc`;
        for (const f of [secret, pub]) if (!opts.force && (await exists(f))) throw new UserError('exists already (use --force to replace it)', f);
        // OpenPGP.js is large: loaded only when a key is made
        const { generateKeyPair } = await import('../sign/keygen.js');
        const pair = await generateKeyPair({ name: opts.name, ...(opts.email ? { email: opts.email } : {}), bits, ...(passphrase ? { passphrase } : {}), created: sourceDateEpoch() });
        await AtomicFile.with(secret, [], async (f) => {
          await chmod(f.tempPath, 0o600);
          await f.write(Buffer.from(pair.secretArmored));
        });
        await AtomicFile.with(pub, [], (f) => f.write(Buffer.from(pair.publicArmored)));
        if (opts.json) printJson({ secret, public: pub, fingerprint: pair.fingerprint, bits, protected: passphrase !== undefined });
        else process.stdout.write(`${secret} (secret${passphrase ? ', passphrase-protected' : ', NOT protected: for tests only'})\n${pub} (public)\nfingerprint ${pair.fingerprint}\n`);
      }),
    );
}
