/**
 * Module signing for Secure Boot (`signing:`): every module on every medium is byte-identical to
 * what the kernel's own scripts/sign-file (Debian's linux-kbuild) makes with the same key, modinfo
 * names the signer, openssl cms accepts the signature, and the certificate is written beside the
 * media for mokutil.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACME_FIRMWARE, ACME_FULL } from './helpers/manifest.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const KEY = join(FIXTURES, 'src/signing/signing_key.pem');

/** The newest Debian headers' sign-file (scripts/ links to linux-kbuild). */
function signFile(): string {
  const headers = readdirSync('/usr/src').filter((d) => /^linux-headers-.*-amd64$/.test(d)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop();
  const path = headers && join('/usr/src', headers, 'scripts/sign-file');
  expect(path && existsSync(path), 'sign-file from linux-kbuild (scripts/test.sh installs linux-headers-amd64)').toBeTruthy();
  return path!;
}

/** Extract an RPM's payload into `to` with rpm2cpio and GNU cpio. */
function unpack(rpm: string, to: string): void {
  mkdirSync(to, { recursive: true });
  const r = run('sh', ['-c', `rpm2cpio "$1" | cpio -idm --quiet`, 'sh', rpm], { cwd: to });
  expect(r.status, r.stderr).toBe(0);
}

describe('signing: every module signed as sign-file signs it', () => {
  const out = join(dir, 'out');
  let kmodRoot = '';

  beforeAll(() => {
    writeFileSync(
      join(dir, 'signed.yaml'),
      `${ACME_FULL}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko.xz
signing: { key: ${KEY} }
targets:
  - rhdd3: { out: dd.iso }
  - pxe: { out: dd.cpio.gz }
`,
    );
    const b = dudkit(['build', join(dir, 'signed.yaml'), '-o', out], { env: EPOCH });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain(`module signing certificate: ${join(out, 'acme-module-signing.der')}`);
    expect(b.stdout).toContain('mokutil --import acme-module-signing.der');
    run('bsdtar', ['-xf', join(out, 'dd.iso'), '-C', dir, 'rpms']);
    const kmod = readdirSync(join(dir, 'rpms/x86_64')).find((f) => f.startsWith('kmod-'))!;
    kmodRoot = join(dir, 'kmod');
    unpack(join(dir, 'rpms/x86_64', kmod), kmodRoot);
  });

  it.each(['acmenet', 'acmestor'])('%s.ko in the kmod RPM equals sign-file sha256 KEY KEY on the same module (cmp)', (m) => {
    const plain = join(dir, `${m}.ko`);
    expect(run('sh', ['-c', `xz -dc "$1" > "$2"`, 'sh', join(FIXTURES, 'ko', K93, `${m}.ko.xz`), plain]).status).toBe(0);
    const r = run(signFile(), ['sha256', KEY, KEY, plain]);
    expect(r.status, r.stderr).toBe(0);
    const shipped = join(kmodRoot, 'lib/modules', K93, 'extra/acmenet', `${m}.ko`);
    expect(run('cmp', [plain, shipped]).status).toBe(0);
  });

  it('modinfo -F signer shows the certificate’s CN; the sig_hashalgo is sha256', () => {
    const ko = join(kmodRoot, 'lib/modules', K93, 'extra/acmenet/acmenet.ko');
    expect(run('modinfo', ['-F', 'signer', ko]).stdout.trim()).toBe('dudkit fixture signing key');
    expect(run('modinfo', ['-F', 'sig_hashalgo', ko]).stdout.trim()).toBe('sha256');
  });

  it('openssl cms -verify accepts the extracted signature over the module’s ELF bytes with the certificate', () => {
    const ko = readFileSync(join(kmodRoot, 'lib/modules', K93, 'extra/acmenet/acmenet.ko'));
    const sigLen = ko.readUInt32BE(ko.length - 28 - 4);
    const elfEnd = ko.length - 28 - 12 - sigLen;
    writeFileSync(join(dir, 'elf'), ko.subarray(0, elfEnd));
    writeFileSync(join(dir, 'sig.der'), ko.subarray(elfEnd, elfEnd + sigLen));
    const r = run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-content', join(dir, 'elf'), '-certfile', KEY, '-nointern', '-noverify', '-out', '/dev/null']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('Verification successful');
  });

  it('the dd.iso inside the PXE overlay carries the same signed module (one signing for every medium)', () => {
    const pxe = join(dir, 'pxe');
    mkdirSync(pxe);
    expect(run('sh', ['-c', `zcat "$1" | cpio -idm --quiet`, 'sh', join(out, 'dd.cpio.gz')], { cwd: pxe }).status).toBe(0);
    expect(run('cmp', [join(pxe, 'dd.iso'), join(out, 'dd.iso')]).status).toBe(0);
  });

  it('the certificate beside the media is the key file’s, in DER (openssl x509 -inform DER)', () => {
    const der = join(out, 'acme-module-signing.der');
    const fromDer = run('openssl', ['x509', '-inform', 'DER', '-in', der, '-noout', '-fingerprint', '-sha256']).stdout;
    const fromPem = run('openssl', ['x509', '-in', KEY, '-noout', '-fingerprint', '-sha256']).stdout;
    expect(fromDer).toBe(fromPem);
    expect(fromDer).toMatch(/Fingerprint=/);
  });

  it('a module signed already is re-signed with a warning; a DER cert works as sign-file takes it; two builds are identical', () => {
    const der = join(dir, 'cert.der');
    expect(run('openssl', ['x509', '-in', KEY, '-outform', 'DER', '-out', der]).status).toBe(0);
    const signedKo = join(dir, 'presigned.ko');
    copyFileSync(join(FIXTURES, 'ko-signed', readdirSync(join(FIXTURES, 'ko-signed'))[0]!, 'acmenet.ko'), signedKo);
    const m = join(dir, 'resign.yaml');
    writeFileSync(m, `${ACME_FULL}sources:\n  - ko: ${signedKo}\n    kernel: ${K93}\nsigning: { key: ${KEY}, cert: ${der} }\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
    const a = dudkit(['build', m, '-o', join(dir, 'r1')], { env: EPOCH });
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toContain(`${signedKo}: signed already by dudkit fixture signing key; re-signed with signing.key`);
    expect(dudkit(['build', m, '-o', join(dir, 'r2')], { env: EPOCH }).status).toBe(0);
    expect(run('cmp', [join(dir, 'r1/dd.iso'), join(dir, 'r2/dd.iso')]).status).toBe(0);
  });

  it('a key that is not a PEM private key: exit 2 naming signing.key, nothing written', () => {
    const m = join(dir, 'badkey.yaml');
    writeFileSync(m, `${ACME_FULL}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/${K93}/acmenet.ko\nsigning: { key: ${join(FIXTURES, 'firmware/acmenet.bin')} }\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
    const r = dudkit(['build', m, '-o', join(dir, 'bad')], { env: EPOCH });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/signing\.key: not a PEM private key/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'bad/dd.iso'))).toBe(false);
  });
});
