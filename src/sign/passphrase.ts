/**
 * Where a secret key's passphrase comes from: an environment variable, else a prompt when a
 * person is at a terminal. Never the command line (it would end up in shell history and `ps`).
 */
import { UserError } from '../errors.js';

export const DEFAULT_PASSPHRASE_ENV = 'DUDKIT_KEY_PASSPHRASE';

/** Read one line from the terminal without echoing it; the prompt goes to stderr. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let line = '';
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string): void => {
      for (const c of chunk) {
        if (c === '\r' || c === '\n') return done();
        if (c === '\u0003' || c === '\u0004') return done(new UserError('passphrase entry cancelled'));
        if (c === '\u007f' || c === '\b') line = line.slice(0, -1);
        else line += c;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * A passphrase getter for `keyFile`: `$<envName>` when set, else a hidden prompt on a terminal,
 * else a UserError saying which variable to set. Asked at most once.
 */
export function passphraseFrom(envName: string, keyFile: string, env: NodeJS.ProcessEnv = process.env): () => Promise<string> {
  let answer: Promise<string> | undefined;
  return () => {
    answer ??= (async () => {
      const given = env[envName];
      if (given !== undefined) return given;
      if (process.stdin.isTTY && process.stderr.isTTY) return promptHidden(`passphrase for ${keyFile}: `);
      throw new UserError(`the secret key is passphrase-protected: set the environment variable ${envName}`, keyFile);
    })();
    return answer;
  };
}
