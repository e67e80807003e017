import type { Command } from 'commander';
import { keygen, UserError } from '../api.js';
import { action, printJson, say } from './common.js';

interface KeygenOpts {
  name: string;
  email?: string;
  bits: string;
  passphraseEnv?: string;
  force?: boolean;
  json?: boolean;
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
        if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw new UserError(`--bits ${opts.bits}: choose 2048, 3072 or 4096`);
        let passphrase: string | undefined;
        if (opts.passphraseEnv !== undefined) {
          passphrase = process.env[opts.passphraseEnv];
          if (!passphrase) throw new UserError(`--passphrase-env ${opts.passphraseEnv}: that environment variable is not set or empty`);
        }
        const r = await keygen(prefix, { name: opts.name, ...(opts.email ? { email: opts.email } : {}), bits, ...(passphrase ? { passphrase } : {}), force: Boolean(opts.force) });
        if (opts.json) printJson({ path: r.secret, kind: 'openpgp-key', ...r });
        else say(`${r.secret} (secret${r.protected ? ', passphrase-protected' : ', NOT protected: for tests only'})\n${r.public} (public)\nfingerprint ${r.fingerprint}\n`);
      }),
    );
}
