// ESXi VIBs and offline bundles (esxi.md §9 checks 1–14), read by the real tools: GNU ar,
// bsdtar, xmllint, sha256sum/sha1sum, gzip, unzip and openssl cms.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseXml } from '../src/formats/esxi/xml-tree.js';
import { dudkit, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const EPOCH = '1700000000';
const VIB_ID = 'ACME_bootbank_net-acmenet_2.4.1-1OEM.800.1.0.20613240';
const VIB = `${VIB_ID}.vib`;
const BUNDLE = 'ACME-net-acmenet_2.4.1-1OEM.800.1.0.20613240-offline_bundle.zip';
const PAYLOAD = 'net-acme';
const FILES = {
  'usr/lib/vmware/vmkmod/acmenet': Buffer.from(Array.from({ length: 6001 }, (_, i) => (i * 7919) % 251)),
  'etc/vmware/default.map.d/acmenet.map': Buffer.from('regtype=native,bus=pci,id=8086:1572,driver=acmenet,class=network\n'),
  'usr/share/hwdata/default.pciids.d/acmenet.ids': Buffer.from('8086  Intel Corporation\n\t1572  ACME 25GbE\n'),
};
/** The element sequence under <vib> of every real descriptor (esxi.md §3.1). */
const VIB_ORDER = ['type', 'name', 'version', 'vendor', 'summary', 'description', 'release-date', 'urls', 'relationships', 'software-tags', 'system-requires', 'file-list', 'acceptance-level', 'live-install-allowed', 'live-remove-allowed', 'cimom-restart', 'stateless-ready', 'overlay', 'payloads'];

const sh = (script: string, cwd = dir) => run('sh', ['-c', script], { cwd });

function manifest(name: string, vib: string, extra = ''): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `name: acmenet
version: 2.4.1
release: 3
vendor: acme
vendorName: ACME Networks
summary: ACME 25GbE network driver
description: |
  ACME 25GbE network driver for ESXi 8.0
  (acmenet & friends, <PCI> ids 1001/1002).
url: https://example.com/acmenet
targets:
  - esxi-vib:
      name: net-acmenet
      version: 2.4.1-1OEM.800.1.0.20613240
      vendor: ACME
      esx: ["8.0.0", "7.0.0"]
      depends: [vmkapi_2_10_0_0, "com.vmware.driverAPI >= 9.2.2.0"]
      files:
        - { file: in/acmenet, dest: usr/lib/vmware/vmkmod/acmenet }
        - { file: in/acmenet.map, dest: etc/vmware/default.map.d/acmenet.map }
        - { file: in/acmenet.ids, dest: usr/share/hwdata/default.pciids.d/acmenet.ids }
${vib}${extra}`,
  );
  return p;
}

function build(m: string, out: string) {
  const r = dudkit(['build', m, '-o', out], { env: { SOURCE_DATE_EPOCH: EPOCH } });
  expect(r.status, r.stderr).toBe(0);
}

const arp = (vib: string, member: string) => run('sh', ['-c', `ar p "$0" "$1"`, vib, member]).stdout;
const arBytes = (vib: string, member: string) => Buffer.from(run('sh', ['-c', `ar p "$0" "$1" | base64 -w0`, vib, member]).stdout, 'base64');

beforeAll(() => {
  mkdirSync(join(dir, 'in'));
  writeFileSync(join(dir, 'in/acmenet'), FILES['usr/lib/vmware/vmkmod/acmenet']);
  writeFileSync(join(dir, 'in/acmenet.map'), FILES['etc/vmware/default.map.d/acmenet.map']);
  writeFileSync(join(dir, 'in/acmenet.ids'), FILES['usr/share/hwdata/default.pciids.d/acmenet.ids']);
  const key = sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj "/CN=dudkit test VIB signing" -days 3650 2>&1');
  expect(key.status, key.stdout).toBe(0);
  sh('openssl genrsa -out other.pem 2048 2>/dev/null');
  manifest('plain.yaml', '', '  - esxi-bundle: { contact: support@example.com }\n');
  manifest('signed.yaml', '      acceptance: partner\n      sign: { key: key.pem, cert: cert.pem }\n');
  build(join(dir, 'plain.yaml'), join(dir, 'a'));
  build(join(dir, 'plain.yaml'), join(dir, 'b'));
  build(join(dir, 'signed.yaml'), join(dir, 's1'));
  build(join(dir, 'signed.yaml'), join(dir, 's2'));
});

describe('esxi-vib: the VIB read by GNU ar, xmllint, sha256sum/sha1sum, bsdtar (esxi.md §9 checks 1–9)', () => {
  const vib = () => join(dir, 'a', VIB);

  it('starts with !<arch>\\n; ar t lists descriptor.xml, sig.pkcs7, the payload; ar tv shows VMware\'s 0/0 headers at the 1970 epoch', () => {
    expect(readFileSync(vib()).subarray(0, 8).toString('latin1')).toBe('!<arch>\n');
    const t = run('ar', ['t', vib()]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toBe(`descriptor.xml\nsig.pkcs7\n${PAYLOAD}\n`);
    const tv = run('ar', ['tv', vib()]).stdout.trim().split('\n');
    expect(tv).toHaveLength(3);
    for (const line of tv) expect(line).toMatch(/^--------- 0\/0 +\d+ Jan  1 00:00 1970 /);
  });

  it('every ar header ends with 60 0A and has a bare name; the length is 8 + Σ(60 + size + size mod 2)', () => {
    const bytes = readFileSync(vib());
    let pos = 8;
    let expected = 8;
    while (pos < bytes.length) {
      const h = bytes.subarray(pos, pos + 60);
      expect([h[58], h[59]]).toEqual([0x60, 0x0a]);
      expect(h.subarray(0, 16).toString('latin1')).not.toContain('/');
      expect(h.subarray(16, 48).toString('latin1')).toBe('0'.padEnd(12) + '0'.padEnd(6) + '0'.padEnd(6) + '0'.padEnd(8));
      const size = Number(h.subarray(48, 58).toString('latin1').trim());
      expected += 60 + size + (size % 2);
      pos += 60 + size + (size % 2);
    }
    expect(bytes.length).toBe(expected);
  });

  it('ar p sig.pkcs7 | wc -c is 0 for an unsigned build, whose acceptance level is community', () => {
    expect(sh(`ar p "${vib()}" sig.pkcs7 | wc -c`).stdout.trim()).toBe('0');
    expect(arp(vib(), 'descriptor.xml')).toContain('<acceptance-level>community</acceptance-level>');
  });

  it('xmllint --noout accepts descriptor.xml; one line, no declaration, the element order of a real VIB', () => {
    const lint = sh(`ar p "${vib()}" descriptor.xml | xmllint --noout -`);
    expect(lint.status, lint.stderr).toBe(0);
    const text = arp(vib(), 'descriptor.xml');
    expect(text.startsWith('<vib version="5.0">')).toBe(true);
    expect(text).not.toContain('\n');
    const root = parseXml(text, 'descriptor.xml');
    expect(root.children.map((c) => c.tag)).toEqual(VIB_ORDER);
    expect(root.children.find((c) => c.tag === 'relationships')!.children.map((c) => c.tag)).toEqual(['depends', 'conflicts', 'replaces', 'provides', 'compatibleWith']);
    expect(text).toContain('<depends><constraint name="vmkapi_2_10_0_0"/><constraint name="com.vmware.driverAPI" relation="&gt;=" version="9.2.2.0"/></depends>');
    // driver values (check 9); one softwarePlatform for the 8.0.0 line, none for 7.0.0
    expect(text).toContain('<type>bootbank</type>');
    expect(text).toContain('<software-tags><tag>driver</tag><tag>module</tag></software-tags><system-requires><maintenance-mode>true</maintenance-mode><softwarePlatform version="8.0.0" locale="" productLineID="embeddedEsx"/></system-requires>');
    expect(text).toContain('<live-install-allowed>false</live-install-allowed><live-remove-allowed>false</live-remove-allowed><cimom-restart>false</cimom-restart><stateless-ready>true</stateless-ready><overlay>false</overlay>');
    expect(text).toContain('<release-date>2023-11-14T22:13:20+00:00</release-date>');
    // a line feed in the description is a character reference: the descriptor stays one line
    expect(text).toContain('<description>ACME 25GbE network driver for ESXi 8.0&#10;(acmenet &amp; friends, &lt;PCI&gt; ids 1001/1002).&#10;</description>');
    expect(sh(`ar p "${vib()}" descriptor.xml | xmllint --xpath 'string(/vib/description)' -`).stdout).toContain('ESXi 8.0\n(acmenet & friends, <PCI> ids');
  });

  it('the payload size and checksums match wc -c, sha256sum and gzip -dc | sha256sum / sha1sum, in VMware\'s order', () => {
    const text = arp(vib(), 'descriptor.xml');
    const size = sh(`ar p "${vib()}" ${PAYLOAD} | wc -c`).stdout.trim();
    const stored = sh(`ar p "${vib()}" ${PAYLOAD} | sha256sum`).stdout.split(' ')[0];
    const plain256 = sh(`ar p "${vib()}" ${PAYLOAD} | gzip -dc | sha256sum`).stdout.split(' ')[0];
    const plain1 = sh(`ar p "${vib()}" ${PAYLOAD} | gzip -dc | sha1sum`).stdout.split(' ')[0];
    expect(text).toContain(
      `<payload name="${PAYLOAD}" type="tgz" size="${size}"><checksum checksum-type="sha-256" verify-process="gunzip">${plain256}</checksum><checksum checksum-type="sha-256">${stored}</checksum><checksum checksum-type="sha-1" verify-process="gunzip">${plain1}</checksum></payload>`,
    );
  });

  it('bsdtar -tvf lists every directory before what lies beneath it, owner 0:0, no ./ or / prefix; the file-list is the files in that order', () => {
    const list = sh(`ar p "${vib()}" ${PAYLOAD} | bsdtar -tvf - --numeric-owner`);
    expect(list.status, list.stderr).toBe(0);
    const rows = list.stdout.trim().split('\n').map((l) => l.split(/\s+/));
    const names = rows.map((r) => r[8]!);
    for (const r of rows) expect([r[2], r[3]]).toEqual(['0', '0']);
    for (const n of names) expect(n).not.toMatch(/^(\.\/|\/)/);
    for (const [i, n] of names.entries()) {
      const parts = n.replace(/\/$/, '').split('/');
      for (let k = 1; k < parts.length; k++) expect(names.slice(0, i)).toContain(`${parts.slice(0, k).join('/')}/`);
    }
    expect(names).toEqual([
      'etc/', 'etc/vmware/', 'etc/vmware/default.map.d/', 'etc/vmware/default.map.d/acmenet.map',
      'usr/', 'usr/lib/', 'usr/lib/vmware/', 'usr/lib/vmware/vmkmod/', 'usr/lib/vmware/vmkmod/acmenet',
      'usr/share/', 'usr/share/hwdata/', 'usr/share/hwdata/default.pciids.d/', 'usr/share/hwdata/default.pciids.d/acmenet.ids',
    ]);
    for (const r of rows) expect(r[0]).toBe(r[8]!.endsWith('/') ? 'drwxr-xr-x' : '-rw-r--r--');
    const fileList = [...arp(vib(), 'descriptor.xml').matchAll(/<file>([^<]*)<\/file>/g)].map((m) => m[1]);
    expect(fileList).toEqual(names.filter((n) => !n.endsWith('/')));
  });

  it('bsdtar -x of the payload gives the manifest\'s files at their dest', () => {
    const x = join(dir, 'x-payload');
    mkdirSync(x);
    const r = sh(`ar p "${vib()}" ${PAYLOAD} | bsdtar -xf - -C "${x}"`);
    expect(r.status, r.stderr).toBe(0);
    for (const [dest, bytes] of Object.entries(FILES)) expect(readFileSync(join(x, dest)).equals(bytes), dest).toBe(true);
  });

  it('two builds with the same SOURCE_DATE_EPOCH are byte-identical (check 10: VIB, signed VIB, bundle)', () => {
    for (const [a, b, f] of [['a', 'b', VIB], ['a', 'b', BUNDLE], ['s1', 's2', VIB]] as const) {
      const c = run('cmp', [join(dir, a, f), join(dir, b, f)]);
      expect(c.status, `${f}: ${c.stdout}`).toBe(0);
    }
  });
});

describe('esxi-bundle: the offline bundle read by unzip and xmllint (esxi.md §9 checks 11–13)', () => {
  const zip = () => join(dir, 'a', BUNDLE);
  const x = join(dir, 'x-bundle');
  const vibPath = `vib20/net-acmenet/${VIB}`;
  beforeAll(() => {
    mkdirSync(join(x, 'meta'), { recursive: true });
    expect(run('unzip', ['-q', zip(), '-d', x]).status).toBe(0);
    expect(run('unzip', ['-q', join(x, 'metadata.zip'), '-d', join(x, 'meta')]).status).toBe(0);
  });

  it('unzip -tq passes on the bundle and its metadata zip; unzip -Z1 lists the members in VMware\'s order, no folder entries', () => {
    for (const z of [zip(), join(x, 'metadata.zip')]) {
      const t = run('unzip', ['-tq', z]);
      expect(t.status, t.stdout).toBe(0);
    }
    expect(run('unzip', ['-Z1', zip()]).stdout.trim().split('\n')).toEqual(['index.xml', 'vendor-index.xml', 'metadata.zip', vibPath]);
    const meta = run('unzip', ['-Z1', join(x, 'metadata.zip')]).stdout.trim().split('\n');
    expect(meta).toHaveLength(4);
    expect(meta[0]).toBe('vendor-index.xml');
    expect(meta[1]).toBe('vmware.xml');
    expect(meta[2]).toMatch(/^vibs\/net-acmenet-\d+\.xml$/);
    expect(meta[3]).toBe('bulletins/ACME-net-acmenet_2.4.1-1OEM.800.1.0.20613240.xml');
    expect(run('cmp', [join(x, vibPath), join(dir, 'a', VIB)]).status).toBe(0);
    expect(run('cmp', [join(x, 'vendor-index.xml'), join(x, 'meta/vendor-index.xml')]).status).toBe(0);
  });

  it('xmllint --noout accepts every XML file, inside the metadata zip too', () => {
    const xmls = (readdirSync(x, { recursive: true }) as string[]).filter((f) => f.endsWith('.xml'));
    expect(xmls.length).toBe(6);
    const lint = run('xmllint', ['--noout', ...xmls.map((f) => join(x, f))]);
    expect(lint.status, lint.stderr).toBe(0);
  });

  it('the vibs/ record and vmware.xml carry sha256sum and the size of the VIB in the zip, the record is the descriptor with three elements after software-tags', () => {
    const sha = run('sha256sum', [join(x, vibPath)]).stdout.split(' ')[0]!;
    const size = readFileSync(join(x, vibPath)).length;
    const recordFile = readdirSync(join(x, 'meta/vibs'))[0]!;
    const record = readFileSync(join(x, 'meta/vibs', recordFile), 'utf8');
    const descriptor = arp(join(x, vibPath), 'descriptor.xml');
    const insert = `<relative-path>${vibPath}</relative-path><packed-size>${size}</packed-size><checksum checksum-type="sha-256">${sha}</checksum>`;
    expect(record).toBe(descriptor.replace('</software-tags>', `</software-tags>${insert}`));
    expect(parseXml(record, 'record').children.map((c) => c.tag)).toEqual([...VIB_ORDER.slice(0, 10), 'relative-path', 'packed-size', 'checksum', ...VIB_ORDER.slice(10)]);
    // the number in the name: SHA-256 of the VIB ID, first 8 bytes, shifted right by one
    expect(recordFile).toBe(`net-acmenet-${createHash('sha256').update(VIB_ID).digest().readBigUInt64BE(0) >> 1n}.xml`);
    const vmware = readFileSync(join(x, 'meta/vmware.xml'), 'utf8');
    expect(vmware).toContain(`<relativePath>${vibPath}</relativePath>\n          <packedSize>${size}</packedSize>\n          <checksum>\n            <checksumType>sha-256</checksumType>\n            <checksum>${sha}</checksum>`);
    expect(vmware).toContain('<timestamp>2023-11-14T22:13:20</timestamp>');
  });

  it('index.xml, vendor-index.xml, the bulletin and vmware.xml have VMware\'s element sequences and values', () => {
    const index = parseXml(readFileSync(join(x, 'index.xml'), 'utf8'), 'index.xml');
    expect(readFileSync(join(x, 'index.xml'), 'utf8')).toContain('<type>http://www.vmware.com/depotmanagement/esx</type>');
    expect(index.children[0]!.children.map((c) => [c.tag, c.text.trim()])).toEqual([['name', 'ACME Networks'], ['code', 'ACME'], ['indexfile', 'vendor-index.xml'], ['patchUrl', ''], ['relativePath', ''], ['content', '']]);
    const vi = parseXml(readFileSync(join(x, 'vendor-index.xml'), 'utf8'), 'vendor-index.xml');
    expect(vi.children.map((m) => m.children.map((c) => `${c.tag}=${c.text}`))).toEqual(
      ['8.0.0', '7.0.0'].map((v) => ['productId=embeddedEsx', `version=${v}`, 'locale=', 'url=metadata.zip', 'channelName=default']),
    );
    const bulletinText = readFileSync(join(x, 'meta/bulletins/ACME-net-acmenet_2.4.1-1OEM.800.1.0.20613240.xml'), 'utf8');
    expect(bulletinText).not.toContain('\n');
    const bulletin = parseXml(bulletinText, 'bulletin');
    expect(bulletin.children.map((c) => c.tag)).toEqual(['id', 'vendor', 'summary', 'severity', 'category', 'urgency', 'releaseType', 'description', 'kbUrl', 'contact', 'componentNameSpec', 'componentVersionSpec', 'releaseDate', 'platforms', 'vibList']);
    expect(bulletinText).toContain('<componentNameSpec name="ACME-net-acmenet" uiString="ACME 25GbE network driver"/><componentVersionSpec uiString="2.4.1" version="2.4.1-1OEM.800.1.0.20613240"/>');
    expect(bulletinText).toContain('<platforms><softwarePlatform version="8.0.0" locale="" productLineID="embeddedEsx"/><softwarePlatform version="7.0.0" locale="" productLineID="embeddedEsx"/></platforms>');
    expect(bulletinText).toContain(`<vibList><vibID>${VIB_ID}</vibID></vibList>`);
    expect(bulletinText).toContain('<contact>support@example.com</contact>');
    const vmware = parseXml(readFileSync(join(x, 'meta/vmware.xml'), 'utf8'), 'vmware.xml');
    const vibRecord = vmware.children.find((c) => c.tag === 'bulletin')!.children.find((c) => c.tag === 'vibList')!.children[0]!;
    expect(vibRecord.children.map((c) => c.tag)).toEqual(['vibVersion', 'vibID', 'name', 'version', 'vendor', 'vibType', 'summary', 'systemReqs', 'relationships', 'postInstall', 'softwareTags', 'vibFile']);
  });
});

describe('esxi-vib with sign: openssl cms -verify accepts sig.pkcs7 over descriptor.xml (esxi.md §9 check 14)', () => {
  const vib = () => join(dir, 's1', VIB);
  beforeAll(() => {
    mkdirSync(join(dir, 'sig'));
    writeFileSync(join(dir, 'sig/descriptor.xml'), arBytes(vib(), 'descriptor.xml'));
    writeFileSync(join(dir, 'sig/sig.pkcs7'), arBytes(vib(), 'sig.pkcs7'));
  });

  it('sig.pkcs7 is PEM (-----BEGIN PKCS7-----, no newline after the END line)', () => {
    const sig = readFileSync(join(dir, 'sig/sig.pkcs7'), 'utf8');
    expect(sig.startsWith('-----BEGIN PKCS7-----\n')).toBe(true);
    expect(sig.endsWith('\n-----END PKCS7-----')).toBe(true);
  });

  it('openssl cms -verify -binary -CAfile cert.pem succeeds, and fails once a descriptor byte changes; the signer is the given certificate', () => {
    const ok = sh('openssl cms -verify -binary -inform PEM -in sig/sig.pkcs7 -content sig/descriptor.xml -CAfile cert.pem -purpose any -out /dev/null 2>&1');
    expect(ok.status, ok.stdout).toBe(0);
    expect(ok.stdout).toContain('Verification successful');
    const d = readFileSync(join(dir, 'sig/descriptor.xml'));
    d[d.indexOf('partner') + 0] = 'P'.charCodeAt(0);
    writeFileSync(join(dir, 'sig/changed.xml'), d);
    const bad = sh('openssl cms -verify -binary -inform PEM -in sig/sig.pkcs7 -content sig/changed.xml -CAfile cert.pem -purpose any -out /dev/null 2>&1');
    expect(bad.status).not.toBe(0);
    const signer = sh('openssl cms -verify -binary -inform PEM -in sig/sig.pkcs7 -content sig/descriptor.xml -noverify -signer sig/signer.pem -out /dev/null 2>&1 && openssl x509 -in sig/signer.pem -noout -fingerprint -sha256 && openssl x509 -in cert.pem -noout -fingerprint -sha256');
    const [a, b] = signer.stdout.trim().split('\n').slice(-2);
    expect(a).toBe(b);
  });

  it('openssl cms -cmsout -print: SHA-256, contentType, signingTime (SOURCE_DATE_EPOCH), messageDigest, rsaEncryption, detached', () => {
    const p = sh('openssl cms -cmsout -print -inform PEM -in sig/sig.pkcs7');
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/eContent: <ABSENT>/);
    const attrs = [...p.stdout.matchAll(/object: (contentType|signingTime|messageDigest) /g)].map((m) => m[1]);
    expect(attrs).toEqual(['contentType', 'signingTime', 'messageDigest']);
    expect(p.stdout).toContain('UTCTIME:Nov 14 22:13:20 2023 GMT');
    expect(p.stdout).toMatch(/signatureAlgorithm:\s+algorithm: rsaEncryption/);
    expect(p.stdout).toMatch(/digestAlgorithm:\s+algorithm: sha256/);
  });

  it('the descriptor says the requested acceptance level', () => {
    expect(readFileSync(join(dir, 'sig/descriptor.xml'), 'utf8')).toContain('<acceptance-level>partner</acceptance-level>');
  });
});

describe('esxi-vib options: mistakes exit 2 naming the key, nothing written', () => {
  const refuse = (m: string, key: RegExp) => {
    const out = join(dir, `out-${m.replace(/\W/g, '')}`);
    const r = dudkit(['build', m, '-o', out], { env: { SOURCE_DATE_EPOCH: EPOCH } });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(key);
    expect(existsSync(join(out, VIB))).toBe(false);
  };
  const edit = (name: string, change: (text: string) => string) => {
    const m = manifest(name, '');
    writeFileSync(m, change(readFileSync(m, 'utf8')));
    return m;
  };
  it('a payload name of 9 characters', () => refuse(manifest('p9.yaml', '      payload: net-acmen\n'), /targets\[0\]\.esxi-vib\.payload: must be 1–8 characters/));
  it('acceptance partner without sign', () => refuse(manifest('nosign.yaml', '      acceptance: partner\n'), /targets\[0\]\.esxi-vib\.acceptance: partner promises/));
  it('an unknown key', () => refuse(manifest("unknown.yaml", "      signed: true\n"), /unknown key `targets\[0\]\.esxi-vib\.signed`/));
  it('a dest with ..', () => refuse(edit('dotdot.yaml', (t) => t.replace('dest: etc/vmware', 'dest: etc/../vmware')), /targets\[0\]\.esxi-vib\.files\[1\]\.dest: must be a relative path/));
  it('the same dest twice', () => refuse(edit('twice.yaml', (t) => t.replace('dest: etc/vmware/default.map.d/acmenet.map', 'dest: usr/lib/vmware/vmkmod/acmenet')), /targets\[0\]\.esxi-vib\.files\[1\]\.dest: usr\/lib\/vmware\/vmkmod\/acmenet is given twice/));
  it('no esx line', () => refuse(edit('noesx.yaml', (t) => t.replace('      esx: ["8.0.0", "7.0.0"]\n', '')), /targets\[0\]\.esxi-vib\.esx: /));
  it('a certificate that is not the key\'s', () => refuse(manifest('mismatch.yaml', '      sign: { key: other.pem, cert: cert.pem }\n'), /sign\.cert: its public key does not match sign\.key/));
  it('a file that does not exist', () => refuse(manifest('missing.yaml', '      sign: { key: nokey.pem, cert: cert.pem }\n'), /targets\[0\]\.esxi-vib\.sign\.key: nokey\.pem: no such file/));
  it('a Linux target in a manifest without sources', () => refuse(manifest('linux.yaml', '', '  - rhdd3: {}\n'), /sources: the rhdd3 target needs at least one source/));
});

describe("dudkit verify of dudkit's VIBs and bundle (the esxcli checks), and of damaged copies", () => {
  const verify = (path: string, ...args: string[]) => dudkit(['verify', '--json', ...args, path]);
  /** A copy of the VIB with one byte of a member changed (same size: the ar stays readable). */
  const damaged = (from: string, name: string, member: string, at: (data: Buffer) => number): string => {
    const bytes = readFileSync(from);
    let pos = 8;
    while (pos < bytes.length) {
      const size = Number(bytes.subarray(pos + 48, pos + 58).toString('latin1').trim());
      if (bytes.subarray(pos, pos + 16).toString('latin1').trim() === member) {
        const data = bytes.subarray(pos + 60, pos + 60 + size);
        data[at(data)] ^= 0x20;
        break;
      }
      pos += 60 + size + (size % 2);
    }
    const out = join(dir, name);
    writeFileSync(out, bytes);
    return out;
  };

  it('the VIB, the bundle and the signed VIB (--ca cert.pem) pass; the signer chains to the given certificate', () => {
    for (const path of [join(dir, 'a', VIB), join(dir, 'a', BUNDLE)]) {
      const r = verify(path);
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }
    const signed = verify(join(dir, 's1', VIB), '--ca', join(dir, 'cert.pem'));
    expect(signed.status, signed.stdout).toBe(0);
    const details = JSON.parse(signed.stdout).details;
    expect(details.signature.cms).toMatchObject({ ok: true, trusted: true, digestAlgorithm: 'sha256', signatureAlgorithm: 'rsaEncryption', signingTime: '2023-11-14T22:13:20.000Z' });
    expect(details.signature.cms.signer.subject).toBe('CN=dudkit test VIB signing');
    const inspect = dudkit(['inspect', '--ca', join(dir, 'cert.pem'), join(dir, 's1', VIB)]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/signature +valid CMS over descriptor\.xml, signer CN=dudkit test VIB signing, sha256, signed 2023-11-14T22:13:20\.000Z, chains to the given certificate/);
  });

  it('a changed payload byte fails its checksums (exit 1), as gzip -t and sha256sum see too', () => {
    const bad = damaged(join(dir, 'a', VIB), 'bad-payload.vib', PAYLOAD, (d) => d.length - 20);
    expect(sh(`ar p "${bad}" ${PAYLOAD} | sha256sum`).stdout.split(' ')[0]).not.toBe(sh(`ar p "${join(dir, 'a', VIB)}" ${PAYLOAD} | sha256sum`).stdout.split(' ')[0]);
    const r = verify(bad);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { code: string }) => f.code)).toContain('ESXI_PAYLOAD_CHECKSUM');
  });

  it('a changed descriptor byte breaks the signature (exit 1), as openssl cms -verify says', () => {
    const bad = damaged(join(dir, 's1', VIB), 'bad-descriptor.vib', 'descriptor.xml', (d) => d.indexOf('25GbE'));
    const r = verify(bad);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).findings.map((f: { code: string }) => f.code)).toContain('ESXI_SIGNATURE_BAD');
    writeFileSync(join(dir, 'sig/bad.xml'), arBytes(bad, 'descriptor.xml'));
    expect(sh('openssl cms -verify -binary -inform PEM -in sig/sig.pkcs7 -content sig/bad.xml -CAfile cert.pem -purpose any -out /dev/null 2>&1').status).not.toBe(0);
  });
});

describe('esxi-vib sign with an encrypted key: the passphrase comes from the environment', () => {
  beforeAll(() => {
    const r = sh('openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes256 -pass pass:secret -out enc.pem 2>&1 && openssl req -x509 -key enc.pem -passin pass:secret -out enc-cert.pem -subj "/CN=encrypted" -days 10 2>&1');
    expect(r.status, r.stdout).toBe(0);
    manifest('enc.yaml', '      acceptance: partner\n      sign: { key: enc.pem, cert: enc-cert.pem, passphraseEnv: ACME_PASS }\n');
  });

  it('ACME_PASS set: the VIB is signed, openssl cms -verify accepts it', () => {
    const r = dudkit(['build', join(dir, 'enc.yaml'), '-o', join(dir, 'enc')], { env: { SOURCE_DATE_EPOCH: EPOCH, ACME_PASS: 'secret' } });
    expect(r.status, r.stderr).toBe(0);
    const vib = join(dir, 'enc', VIB);
    writeFileSync(join(dir, 'enc/d.xml'), arBytes(vib, 'descriptor.xml'));
    writeFileSync(join(dir, 'enc/s.pem'), arBytes(vib, 'sig.pkcs7'));
    const v = sh('openssl cms -verify -binary -inform PEM -in enc/s.pem -content enc/d.xml -CAfile enc-cert.pem -purpose any -out /dev/null 2>&1');
    expect(v.status, v.stdout).toBe(0);
  });

  it('ACME_PASS unset: exit 2, one line naming the variable; a wrong one: exit 2 naming sign.key', () => {
    // an undefined value leaves the variable out of the child's environment
    const unset = dudkit(['build', join(dir, 'enc.yaml'), '-o', join(dir, 'enc-unset')], { env: { SOURCE_DATE_EPOCH: EPOCH, ACME_PASS: undefined } });
    expect(unset.status, unset.stderr).toBe(2);
    expect(unset.stderr).toMatch(/set the environment variable ACME_PASS/);
    const wrong = dudkit(['build', join(dir, 'enc.yaml'), '-o', join(dir, 'enc-wrong')], { env: { SOURCE_DATE_EPOCH: EPOCH, ACME_PASS: 'nope' } });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/sign\.key: cannot decrypt the key with the passphrase from \$ACME_PASS/);
    expect(existsSync(join(dir, 'enc-wrong', VIB))).toBe(false);
  });
});

describe('dudkit verify of VIBs put together with GNU ar from the members, as the shell VIB builders do', () => {
  const parts = join(dir, 'parts');
  beforeAll(() => {
    mkdirSync(parts);
    for (const m of ['descriptor.xml', 'sig.pkcs7', PAYLOAD]) writeFileSync(join(parts, m), arBytes(join(dir, 'a', VIB), m));
  });
  /** `ar rc` of the members in this order, the descriptor edited first. */
  const gnuVib = (name: string, members: string[], edit: (d: string) => string = (d) => d): string => {
    const w = join(dir, `w-${name}`);
    mkdirSync(w);
    for (const m of members) writeFileSync(join(w, m), m === 'descriptor.xml' ? edit(readFileSync(join(parts, m), 'utf8')) : readFileSync(join(parts, m)));
    const r = run('ar', ['rc', join(w, name), ...members], { cwd: w });
    expect(r.status, r.stderr).toBe(0);
    return join(w, name);
  };
  const codes = (vib: string) => {
    const r = dudkit(['verify', '--json', vib]);
    return { status: r.status, codes: (JSON.parse(r.stdout) as { findings: { code: string; severity: string }[] }).findings.filter((f) => f.severity === 'error').map((f) => f.code) };
  };

  it('the same members in the same order pass (GNU ar writes descriptor.xml/ names, mode 644)', () => {
    const vib = gnuVib('same.vib', ['descriptor.xml', 'sig.pkcs7', PAYLOAD]);
    expect(run('ar', ['tv', vib]).stdout).toMatch(/^rw-r--r-- 0\/0 +\d+ .* descriptor\.xml$/m);
    expect(codes(vib)).toEqual({ status: 0, codes: [] });
  });
  it('sig.pkcs7 first: the member order esximage refuses', () => expect(codes(gnuVib('order.vib', ['sig.pkcs7', 'descriptor.xml', PAYLOAD]))).toEqual({ status: 1, codes: ['ESXI_MEMBER_ORDER'] }));
  it('acceptance partner with an empty sig.pkcs7', () => expect(codes(gnuVib('partner.vib', ['descriptor.xml', 'sig.pkcs7', PAYLOAD], (d) => d.replace('>community<', '>partner<')))).toEqual({ status: 1, codes: ['ESXI_UNSIGNED_ACCEPTANCE'] }));
  it('a file-list without one of the payload files', () => expect(codes(gnuVib('list.vib', ['descriptor.xml', 'sig.pkcs7', PAYLOAD], (d) => d.replace('<file>usr/lib/vmware/vmkmod/acmenet</file>', '')))).toEqual({ status: 1, codes: ['ESXI_FILE_LIST'] }));
  it('a payload size that is not the member size', () => expect(codes(gnuVib('size.vib', ['descriptor.xml', 'sig.pkcs7', PAYLOAD], (d) => d.replace(/size="(\d+)"/, (_m, n: string) => `size="${Number(n) + 1}"`)))).toEqual({ status: 1, codes: ['ESXI_PAYLOAD_SIZE'] }));
});

describe("dudkit verify of a bundle whose VIB was replaced with zip (Info-ZIP)", () => {
  it('the records no longer match the VIB: exit 1, ESXI_BUNDLE_VIB_CHECKSUM from vibs/*.xml and vmware.xml', () => {
    const w = join(dir, 'swapped');
    mkdirSync(join(w, 'vib20/net-acmenet'), { recursive: true });
    run('cp', [join(dir, 'a', BUNDLE), join(w, 'b.zip')]);
    // the signed VIB has the same name and ID but other bytes
    run('cp', [join(dir, 's1', VIB), join(w, 'vib20/net-acmenet', VIB)]);
    const z = run('zip', ['-q', 'b.zip', `vib20/net-acmenet/${VIB}`], { cwd: w });
    expect(z.status, z.stderr).toBe(0);
    expect(run('unzip', ['-tq', join(w, 'b.zip')]).status).toBe(0);
    const r = dudkit(['verify', '--json', join(w, 'b.zip')]);
    expect(r.status).toBe(1);
    const errors = (JSON.parse(r.stdout) as { findings: { code: string; severity: string; subject: string }[] }).findings.filter((f) => f.severity === 'error');
    expect(errors.map((f) => f.code)).toEqual(['ESXI_BUNDLE_VIB_CHECKSUM', 'ESXI_BUNDLE_VIB_CHECKSUM', 'ESXI_BUNDLE_VIB_CHECKSUM', 'ESXI_BUNDLE_VIB_CHECKSUM']);
    expect(errors.map((f) => f.subject)).toEqual(expect.arrayContaining(['metadata.zip: vmware.xml', expect.stringMatching(/^metadata\.zip: vibs\/net-acmenet-\d+\.xml$/)]));
  });
});

describe('a bundle member larger than the limit is refused before it is unpacked', () => {
  it('DUDKIT_MAX_MODULE_SIZE=1M and a 3 MB .vib added with zip: exit 2, one line naming the member', () => {
    const w = join(dir, 'big');
    mkdirSync(join(w, 'vib20/x'), { recursive: true });
    run('cp', [join(dir, 'a', BUNDLE), join(w, 'b.zip')]);
    writeFileSync(join(w, 'vib20/x/big.vib'), Buffer.alloc(3_000_000));
    expect(run('zip', ['-q', 'b.zip', 'vib20/x/big.vib'], { cwd: w }).status).toBe(0);
    const r = dudkit(['verify', join(w, 'b.zip')], { env: { DUDKIT_MAX_MODULE_SIZE: '1M' } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/vib20\/x\/big\.vib unpacks to 3000000 bytes; .*limit 1 MiB/);
  });
});

describe('esxi-bundle without an esxi-vib target', () => {
  it('exit 2, one line naming the target and what it needs', () => {
    const m = join(dir, 'bundle-only.yaml');
    writeFileSync(m, 'name: acmenet\nversion: 2.4.1\nvendor: acme\nsummary: ACME driver\ntargets:\n  - esxi-bundle: {}\n');
    const r = dudkit(['build', m, '-o', join(dir, 'bundle-only')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/bundle-only\.yaml: targets\[0\]\.esxi-bundle: needs a target of kind esxi-vib in the manifest/);
  });
});

describe('esxi-vib: build -v names the VIB, its acceptance level and files (issue 19 conv2 item 1)', () => {
  it('the decision says partner and signed, and the files; ar p of descriptor.xml reads the same acceptance-level and file-list', () => {
    const v = dudkit(['build', '-v', join(dir, 'signed.yaml'), '-o', join(dir, 'v')], { env: { SOURCE_DATE_EPOCH: EPOCH } });
    expect(v.status, v.stderr).toBe(0);
    const line = v.stderr.split('\n').find((l) => l.startsWith(`dudkit: esxi-vib: ${VIB}: `))!;
    expect(line).toContain('acceptance partner: sig.pkcs7 signed with sign: ');
    const d = arp(join(dir, 'v', VIB), 'descriptor.xml');
    expect(d).toContain('<acceptance-level>partner</acceptance-level>');
    for (const f of ['usr/lib/vmware/vmkmod/acmenet', 'etc/vmware/default.map.d/acmenet.map']) {
      expect(line).toContain(f);
      expect(d).toContain(`<file>${f}</file>`);
    }
  });
});

describe('esxi-bundle: build -v names the VIB it holds (issue 19 conv2 item 1)', () => {
  it('the bundle passes on its VIB’s decision; unzip -l lists that VIB in the bundle', () => {
    const v = dudkit(['build', '-v', join(dir, 'plain.yaml'), '-o', join(dir, 'vb')], { env: { SOURCE_DATE_EPOCH: EPOCH } });
    expect(v.status, v.stderr).toBe(0);
    const line = v.stderr.split('\n').find((l) => l.startsWith('dudkit: esxi-bundle: ') && l.includes('.vib: '))!;
    const vibPath = line.split(': ')[2]!;
    expect(vibPath.endsWith(VIB)).toBe(true);
    expect(line).toContain(`${VIB}: VIB net-acmenet 2.4.1-1OEM.800.1.0.20613240 for ESXi 8.0.0, 7.0.0; acceptance community`);
    const zip = readdirSync(join(dir, 'vb')).find((f) => f.endsWith('-offline_bundle.zip'))!;
    expect(run('unzip', ['-l', join(dir, 'vb', zip)]).stdout).toContain(vibPath);
  });
});
