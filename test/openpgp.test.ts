import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { openRpm } from '../src/formats/rpm/read.js';
import { signatures } from '../src/formats/rpm/read-signature.js';
import { writeRpm } from '../src/formats/rpm/write.js';
import { loadSigningKey, type SigningKey } from '../src/sign/key.js';
import { generateKeyPair } from '../src/sign/keygen.js';
import { passphraseFrom } from '../src/sign/passphrase.js';
import { resignedRpm } from '../src/sign/rpm.js';
import { armoredDetachedSignature, rpmHeaderSigner } from '../src/sign/sign.js';
import { readPublicKeys, verifyArmoredDetached, verifyBinaryDetached } from '../src/sign/verify.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource, type Source } from '../src/tree/source.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const EPOCH = 1700000000;
const noPassphrase = async (): Promise<string> => {
  throw new Error('not protected: no passphrase expected');
};

const must = (r: { status: number; stdout: string; stderr: string }) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

async function save(source: Source, path: string): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of source.open()) parts.push(c);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

function gpgHome(name: string, keyFile: string): (args: string[]) => ReturnType<typeof run> {
  const home = join(dir, name);
  mkdirSync(home, { mode: 0o700 });
  must(run('gpg', ['--homedir', home, '--batch', '--import', keyFile]));
  return (args) => run('gpg', ['--homedir', home, '--batch', ...args]);
}

let key: SigningKey;
const secret = join(dir, 'k.asc');
const pub = join(dir, 'k.pub.asc');

beforeAll(async () => {
  const pair = await generateKeyPair({ name: 'dudkit test', email: 't@example.com', bits: 2048, created: EPOCH - 3600 });
  writeFileSync(secret, pair.secretArmored);
  writeFileSync(pub, pair.publicArmored);
  key = await loadSigningKey(secret, noPassphrase);
});

describe('dudkit keygen', () => {
  it('writes PREFIX.asc (mode 0600) and PREFIX.pub.asc that gpg imports as an RSA primary key that signs', () => {
    const prefix = join(dir, 'cli-key');
    const r = dudkit(['keygen', prefix, '--bits', '2048', '--name', 'CLI key', '--email', 'cli@example.com', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { fingerprint: string; protected: boolean };
    expect(info.protected).toBe(false);
    expect(statSync(`${prefix}.asc`).mode & 0o777).toBe(0o600);
    const gpg = gpgHome('gpg-cli', `${prefix}.asc`);
    const colons = must(gpg(['--with-colons', '--list-secret-keys']));
    expect(colons).toMatch(new RegExp(`^sec:[^:]*:2048:1:[^\\n]*:scESC?:`, 'm'));
    expect(colons).toMatch(new RegExp(`^fpr:{9}${info.fingerprint}:`, 'm'));
    expect(colons).toMatch(/^uid:.*CLI key <cli@example\.com>/m);
    expect(must(run('gpg', ['--show-keys', '--with-colons', `${prefix}.pub.asc`]))).toMatch(new RegExp(`^fpr:{9}${info.fingerprint}:`, 'm'));
  });

  it('refuses to overwrite (exit 2) and refuses odd key sizes', () => {
    const prefix = join(dir, 'cli-key2');
    expect(dudkit(['keygen', prefix, '--bits', '2048']).status).toBe(0);
    const again = dudkit(['keygen', prefix, '--bits', '2048']);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/cli-key2\.asc: exists already \(use --force/);
    expect(dudkit(['keygen', join(dir, 'small'), '--bits', '1024']).stderr).toMatch(/--bits 1024: choose 2048, 3072 or 4096/);
  });

  it('--passphrase-env protects the key: unlocked with the variable, a wrong one and a missing one are one-line errors', async () => {
    const prefix = join(dir, 'protected');
    const r = dudkit(['keygen', prefix, '--bits', '2048', '--passphrase-env', 'TEST_PASS'], { env: { TEST_PASS: 'correct horse' } });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(`${prefix}.asc`, 'utf8')).toMatch(/PRIVATE KEY BLOCK/);
    const k = await loadSigningKey(`${prefix}.asc`, passphraseFrom('TEST_PASS', `${prefix}.asc`, { TEST_PASS: 'correct horse' }));
    expect(k.algorithm).toBe('rsa');
    await expect(loadSigningKey(`${prefix}.asc`, passphraseFrom('TEST_PASS', `${prefix}.asc`, { TEST_PASS: 'wrong' }))).rejects.toThrow(/protected\.asc: cannot unlock the secret key .*wrong passphrase\?/);
    await expect(loadSigningKey(`${prefix}.asc`, passphraseFrom('TEST_PASS', `${prefix}.asc`, {}))).rejects.toThrow(/protected\.asc: the secret key is passphrase-protected: set the environment variable TEST_PASS/);
  });
});

describe('detached signatures', () => {
  it('gpg --verify: GOODSIG and VALIDSIG dated SOURCE_DATE_EPOCH; the same bytes on every run', async () => {
    const data = new TextEncoder().encode('  <update name-label="x"/>\n');
    const a = await armoredDetachedSignature(key, data, EPOCH);
    expect(await armoredDetachedSignature(key, data, EPOCH)).toBe(a); // RSA PKCS#1 v1.5: deterministic
    writeFileSync(join(dir, 'data'), data);
    writeFileSync(join(dir, 'data.asc'), a);
    const gpg = gpgHome('gpg-detached', pub);
    const status = gpg(['--status-fd', '1', '--verify', join(dir, 'data.asc'), join(dir, 'data')]).stdout;
    expect(status).toMatch(/^\[GNUPG:\] GOODSIG /m);
    expect(status).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG ${key.fingerprint} 2023-11-14 ${EPOCH} 0 4 0 1 8 00 `, 'm'));
  });

  it('an epoch before the key was made dates the signature at the key creation (gpg accepts it)', async () => {
    const data = new TextEncoder().encode('old epoch\n');
    writeFileSync(join(dir, 'old'), data);
    writeFileSync(join(dir, 'old.asc'), await armoredDetachedSignature(key, data, 1000));
    const gpg = gpgHome('gpg-old', pub);
    const status = gpg(['--status-fd', '1', '--verify', join(dir, 'old.asc'), join(dir, 'old')]).stdout;
    expect(status).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG ${key.fingerprint} \\S+ ${key.created} `, 'm'));
  });

  it('dudkit verifies what gpg verifies: good, BADSIG for changed data, NO_PUBKEY for another key', async () => {
    const data = new TextEncoder().encode('repomd\n');
    const asc = await armoredDetachedSignature(key, data, EPOCH);
    const keys = await readPublicKeys(pub);
    expect(await verifyArmoredDetached(asc, data, keys)).toEqual({ ok: true, keyId: key.keyId });
    const bad = await verifyArmoredDetached(asc, new TextEncoder().encode('repomd!\n'), keys);
    expect(bad.ok).toBe(false);
    expect(bad.problem).toMatch(/BADSIG/);
    const other = await readPublicKeys(join(FIXTURES, 'rpms/signing/public.asc'));
    expect((await verifyArmoredDetached(asc, data, other)).problem).toMatch(/NO_PUBKEY/);
  });
});

describe('RPM header signatures', () => {
  const root = join(dir, 'rpmdb');
  beforeAll(() => {
    mkdirSync(root);
    must(run('rpmkeys', ['--root', root, '--import', pub]));
  });

  it('writeRpm with the signer: rpm -Kv says "Header V4 RSA/SHA256 Signature, key ID …: OK", digests signatures OK', async () => {
    await Scratch.with(async (scratch) => {
      const rpm = await writeRpm(
        { name: 'signed-test', version: '1.0', release: '1', arch: 'noarch', summary: 's', description: 'd', license: 'MIT', buildTime: EPOCH, files: [{ type: 'file', path: '/etc/signed-test.conf', content: bytesSource('x=1\n') }] },
        scratch,
        { sign: rpmHeaderSigner(key, EPOCH) },
      );
      const path = await save(rpm, join(dir, rpm.fileName));
      expect(must(run('rpm', ['--root', root, '-K', path]))).toMatch(/: digests signatures OK\n$/);
      expect(must(run('rpm', ['--root', root, '-Kv', path]))).toMatch(new RegExp(`Header V4 RSA/SHA256 Signature, key ID ${key.keyId.slice(-8)}: OK`));
      const pkg = await openRpm(path);
      expect(signatures(pkg.signature)).toEqual([expect.objectContaining({ tag: 268, version: 4, hashAlgo: 'SHA256', created: EPOCH, keyId: key.keyId })]);
      expect((await verifyBinaryDetached(pkg.signature.bin(268)!, pkg.header.bytes, await readPublicKeys(pub))).ok).toBe(true);
    });
  });

  it('a given package signed by another key is re-signed: same size, same header and payload, rpm -K OK with our key only', async () => {
    const given = join(FIXTURES, 'rpms/signed/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm');
    const before = await openRpm(given);
    const path = await save(await resignedRpm(before, key, EPOCH), join(dir, 'resigned.rpm'));
    const after = await openRpm(path);
    expect(statSync(path).size).toBe(statSync(given).size);
    expect(Buffer.from(after.header.bytes).equals(Buffer.from(before.header.bytes))).toBe(true);
    expect(signatures(after.signature).map((s) => [s.tag, s.keyId])).toEqual([[268, key.keyId]]);
    expect(must(run('rpm', ['--root', root, '-K', path]))).toMatch(/: digests signatures OK\n$/);
    // the original's signer is not in this rpmdb
    expect(run('rpm', ['--root', root, '-K', given]).stdout).toMatch(/SIGNATURES NOT OK|NOKEY/);
  });

  it('an EdDSA (Ed25519) key signs into DSAHEADER (267), which rpm -K accepts', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'ed' }], date: new Date((EPOCH - 10) * 1000), format: 'armored', config: { v6Keys: false } });
    writeFileSync(join(dir, 'ed.asc'), privateKey);
    writeFileSync(join(dir, 'ed.pub.asc'), publicKey);
    const ed = await loadSigningKey(join(dir, 'ed.asc'), noPassphrase);
    expect(ed.algorithm).toBe('eddsa');
    const edRoot = join(dir, 'rpmdb-ed');
    mkdirSync(edRoot);
    must(run('rpmkeys', ['--root', edRoot, '--import', join(dir, 'ed.pub.asc')]));
    await Scratch.with(async (scratch) => {
      const rpm = await writeRpm({ name: 'ed-test', version: '1', release: '1', arch: 'noarch', summary: 's', description: 'd', license: 'MIT', buildTime: EPOCH, files: [] }, scratch, { sign: rpmHeaderSigner(ed, EPOCH) });
      const path = await save(rpm, join(dir, rpm.fileName));
      expect(signatures((await openRpm(path)).signature).map((s) => s.tag)).toEqual([267]);
      expect(must(run('rpm', ['--root', edRoot, '-K', path]))).toMatch(/: digests signatures OK\n$/);
    });
  });
});
