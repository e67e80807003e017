// The CMS SignedData module (src/sign/cms.ts) against OpenSSL: its sign-file form (no signed
// attributes, no certificates, issuer and serial, digest parameters absent) is byte-identical to
// `openssl cms -sign -noattr -nocerts -nosmimecap`, the form with attributes and a chain verifies
// with `openssl cms -verify -CAfile`, and verifyDetached reads OpenSSL's signatures.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyMatchesCertificate, privateKeyFromPem, signDetached, verifyDetached } from '../src/sign/cms.js';
import { certificatesFromPem, fromPem, toPem } from '../src/sign/pem.js';
import { run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const sh = (script: string) => run('sh', ['-c', script], { cwd: dir });
const file = (name: string) => readFileSync(join(dir, name));
const CONTENT = Buffer.from('<vib version="5.0"><name>x</name></vib>');

beforeAll(() => {
  writeFileSync(join(dir, 'content'), CONTENT);
  const r = sh(
    [
      'openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -subj "/CN=dudkit test CA" -days 3650 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign',
      'openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/O=ACME/CN=ACME VIB signing"',
      'openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 3650',
      'openssl req -x509 -newkey rsa:3072 -nodes -keyout self.key -out self.pem -subj "/CN=self" -days 10',
    ].join(' 2>&1 && ') + ' 2>&1',
  );
  expect(r.status, r.stdout).toBe(0);
});

const key = (name: string) => privateKeyFromPem(file(name).toString('utf8'));
const cert = (name: string) => fromPem(file(name).toString('utf8'), 'CERTIFICATE')!;

describe('CMS detached signatures (src/sign/cms.ts) checked by openssl cms', () => {
  it.each(['sha256', 'sha512'] as const)('no attributes, no certificates (sign-file form, %s): byte-identical to openssl cms -sign -noattr -nocerts -nosmimecap', async (md) => {
    const o = sh(`openssl cms -sign -binary -noattr -nocerts -nosmimecap -outform DER -md ${md} -in content -signer leaf.pem -inkey leaf.key -out openssl-${md}.der`);
    expect(o.status, o.stderr).toBe(0);
    const mine = await signDetached(CONTENT, { key: key('leaf.key'), cert: cert('leaf.pem'), hash: md === 'sha256' ? 'SHA-256' : 'SHA-512', includeCertificates: false, digestParams: 'absent' });
    expect(Buffer.from(mine).equals(file(`openssl-${md}.der`))).toBe(true);
  });

  it('with signed attributes and the chain: openssl cms -verify -CAfile ca.pem accepts it, and refuses other content', async () => {
    const der = await signDetached(CONTENT, { key: key('leaf.key'), cert: cert('leaf.pem'), chain: certificatesFromPem(file('ca.pem').toString('utf8')), signedAttributes: { signingTime: new Date(Date.UTC(2023, 10, 14, 22, 13, 20)) } });
    writeFileSync(join(dir, 'attrs.pem'), toPem(der, 'PKCS7', false));
    const ok = sh('openssl cms -verify -binary -inform PEM -in attrs.pem -content content -CAfile ca.pem -purpose any -out /dev/null 2>&1');
    expect(ok.status, ok.stdout).toBe(0);
    writeFileSync(join(dir, 'other'), 'other');
    expect(sh('openssl cms -verify -binary -inform PEM -in attrs.pem -content other -CAfile ca.pem -purpose any -out /dev/null 2>&1').status).not.toBe(0);
    const printed = sh('openssl cms -cmsout -print -inform PEM -in attrs.pem').stdout;
    expect([...printed.matchAll(/subject: (.*)/g)].map((m) => m[1])).toEqual(['O=ACME, CN=ACME VIB signing', 'CN=dudkit test CA']);
  });

  it("verifyDetached reads OpenSSL's signatures: the signer, the attributes, the chain to a CA, a wrong content", async () => {
    expect(sh('openssl cms -sign -binary -nosmimecap -outform DER -md sha256 -in content -signer leaf.pem -inkey leaf.key -out openssl-attrs.der').status).toBe(0);
    const der = file('openssl-attrs.der');
    const v = await verifyDetached(der, CONTENT, { trusted: [cert('ca.pem')] });
    expect(v).toMatchObject({ ok: true, trusted: true, detached: true, digestAlgorithm: 'sha256' });
    expect(v.signer?.subject).toBe('O=ACME, CN=ACME VIB signing');
    expect(v.signedAttributes).toEqual(expect.arrayContaining(['1.2.840.113549.1.9.3', '1.2.840.113549.1.9.5', '1.2.840.113549.1.9.4']));
    expect((await verifyDetached(der, CONTENT, { trusted: [cert('self.pem')] })).trusted).toBe(false);
    expect((await verifyDetached(der, Buffer.from('changed'))).ok).toBe(false);
    // no certificates in it: the signer is found among the extra ones
    const bare = file('openssl-sha256.der');
    expect((await verifyDetached(bare, CONTENT)).ok).toBe(false);
    expect((await verifyDetached(bare, CONTENT, { extra: [cert('leaf.pem')] })).ok).toBe(true);
  });

  it('keys and certificates: a key matches its own certificate only', () => {
    expect(keyMatchesCertificate(key('leaf.key'), cert('leaf.pem'))).toBe(true);
    expect(keyMatchesCertificate(key('self.key'), cert('leaf.pem'))).toBe(false);
  });
});
