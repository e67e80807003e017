import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { parseUpdateXml, updateRpmVersion, updateXml } from '../src/formats/xenserver/update.js';
import { generateKeyPair } from '../src/sign/keygen.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import { ACME_FIRMWARE } from './helpers/manifest.js';

const dir = tempDir();
const EPOCH = 1700000000;
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const K94 = '5.14.0-427.13.1.el9_4.x86_64';
const UUID = '0d8a2a4e-5b7b-4c43-9d0f-2f7d2c9b6a11';

const must = (r: { status: number; stdout: string; stderr: string }) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

const KO = `  - ko: ${FIXTURES}/ko/${K93}/*.ko\n`;

function manifest(name: string, sources: string, target: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, `name: acmenet
version: 2.4.1
release: 3
vendor: acme
summary: ACME 25GbE network driver
description: ACME 25GbE network (acmenet) and NVMe-oF offload (acmestor) drivers.
sources:
${sources}targets:
  - xenserver-update: ${target}
`);
  return p;
}

async function buildIt(name: string, sources: string, target: string) {
  const warnings: string[] = [];
  const out = join(dir, `out-${name}`);
  const ctx = createContext({ epoch: EPOCH, onWarn: (m) => warnings.push(m) });
  const result = await build(manifest(name, sources, target), { outDir: out, ctx });
  return { out, warnings, result };
}

const qp = (rpm: string, args: string[]) => must(run('rpm', ['-qp', '--nosignature', ...args, rpm]));

beforeAll(async () => {
  const pair = await generateKeyPair({ name: 'dudkit test', bits: 2048, created: EPOCH - 60 });
  writeFileSync(join(dir, 'test.asc'), pair.secretArmored);
  writeFileSync(join(dir, 'test.pub.asc'), pair.publicArmored);
  const locked = await generateKeyPair({ name: 'locked', bits: 2048, created: EPOCH - 60, passphrase: 'sesame' });
  writeFileSync(join(dir, 'locked.asc'), locked.secretArmored);
  const ed = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: 'ed' }], date: new Date((EPOCH - 60) * 1000), format: 'armored' });
  writeFileSync(join(dir, 'ed.asc'), ed.privateKey);
  writeFileSync(join(dir, 'precheck.sh'), '#!/bin/sh\nexit 0\n');
});

describe('xenserver-update options', () => {
  it('DDK names (LABEL, TEXT, PACK_UUID, PACK_VERSION, BASE_REQUIRES, GPG_KEY_FILE) land in update.xml (xmllint) and control requires product-version', async () => {
    const { out } = await buildIt(
      'ddk',
      KO,
      `{ out: pack, key: test.asc, LABEL: acme_nic, TEXT: 'ACME "NIC" & <friends>', PACK_UUID: ${UUID}, PACK_VERSION: 1.0+pack.3, BASE_REQUIRES: product-version = 8.2.1, GPG_KEY_FILE: keys/RPM-GPG-KEY-acme-nic, kernels: { ${K93}: "4.19.0+1" } }`,
    );
    const xml = join(out, 'pack', 'update.xml');
    const xp = (q: string) => must(run('xmllint', ['--xpath', q, xml])).trim();
    expect(xp('string(/update/@name-label)')).toBe('acme_nic');
    expect(xp('string(/update/@uuid)')).toBe(UUID);
    expect(xp('string(/update/@version)')).toBe('1.0+pack.3');
    expect(xp('string(/update/@key)')).toBe('RPM-GPG-KEY-acme-nic');
    expect(xp('string(/update/name-description)')).toBe('ACME "NIC" & <friends>');
    expect(readFileSync(xml, 'utf8')).toContain('<name-description>ACME &quot;NIC&quot; &amp; &lt;friends&gt;</name-description>');
    expect(existsSync(join(out, 'RPM-GPG-KEY-acme-nic'))).toBe(true);
    const ctl = join(out, 'pack', 'Packages', 'control-acme_nic-1.0.pack.3-1.noarch.rpm');
    expect(qp(ctl, ['--requires']).split('\n')).toContain('product-version = 8.2.1');
    expect(readdirSync(join(out, 'pack', 'Packages'))).toContain('acme_nic-4.19.0+1-modules-2.4.1-3.x86_64.rpm');
  });

  it('without a uuid: a warning names the derived UUID v5, the same on a rebuild, another for another version', async () => {
    // with the firmware its module names, so the uuid is the one warning
    const a = await buildIt('nouuid-a', `${KO}${ACME_FIRMWARE}`, `{ out: pack, key: test.asc, kernels: { ${K93}: "4.19.0+1" } }`);
    const b = await buildIt('nouuid-b', KO, `{ out: pack, key: test.asc, kernels: { ${K93}: "4.19.0+1" } }`);
    const c = await buildIt('nouuid-c', KO, `{ out: pack, key: test.asc, version: 2.4.2, kernels: { ${K93}: "4.19.0+1" } }`);
    const uuidOf = (out: string) => must(run('xmllint', ['--xpath', 'string(/update/@uuid)', join(out, 'pack', 'update.xml')])).trim();
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0]).toMatch(new RegExp(`no uuid given; using ${uuidOf(a.out)}, derived from vendor "acme", label "acmenet" and version "2.4.1"`));
    expect(uuidOf(a.out)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidOf(b.out)).toBe(uuidOf(a.out));
    expect(uuidOf(c.out)).not.toBe(uuidOf(a.out));
  });

  it('given RPMs are re-signed with the pack key (rpm -K); two drivers make an update pack without a drivers group (dnf group list)', async () => {
    const sources = `  - rpm: [${FIXTURES}/rpms/signed/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm, ${FIXTURES}/rpms/kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm, ${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm]\n`;
    await expect(buildIt('given-nobase', sources, `{ out: pack, key: test.asc, uuid: ${UUID} }`)).rejects.toThrow(/baseRequires: .*say what control-<label> requires/);
    const { out } = await buildIt('given', sources, `{ out: pack, key: test.asc, uuid: ${UUID}, baseRequires: [product-version = 8.2.1], precheck: precheck.sh }`);
    const T = join(out, 'pack');
    const root = join(dir, 'given-rpmdb');
    mkdirSync(root);
    must(run('rpmkeys', ['--root', root, '--import', join(out, 'RPM-GPG-KEY-acme')]));
    const rpms = readdirSync(join(T, 'Packages')).map((f) => join(T, 'Packages', f));
    expect(rpms).toHaveLength(5);
    for (const l of must(run('rpm', ['--root', root, '-K', ...rpms])).trim().split('\n')) expect(l).toMatch(/digests signatures OK$/);
    const ctl = rpms.find((p) => p.includes('/control-'))!;
    expect(qp(ctl, ['-l']).trim()).toBe(`/var/update/${UUID}/precheck`);
    expect(qp(ctl, ['--qf', '[%{FILEMODES:perms}\n]'])).toBe('-rwxr-xr-x\n');
    const list = must(run('dnf', ['-q', '--setopt=reposdir=/dev/null', `--repofrompath=p,file://${T}`, '--repo=p', '--setopt=p.gpgcheck=0', `--installroot=${join(dir, 'given-dnf')}`, '--releasever=/', 'group', 'list', '--ids']));
    expect(list).toMatch(/\(update\)/);
    expect(list).not.toMatch(/\(drivers\)/);
  });

  it('refusals name the problem and leave nothing behind', async () => {
    const cases: [string, string, RegExp][] = [
      ['upper', `{ out: pack, key: test.asc, uuid: 6854AB19-F807-4444-B94F-3CE7D64EFE50 }`, /targets\[0\]\.xenserver-update\.uuid: must be a lower-case RFC 4122 UUID/],
      ['alias', `{ out: pack, key: test.asc, LABEL: a, label: b }`, /LABEL and label name the same option: give one/],
      ['nokey', `{ out: pack }`, /targets\[0\]\.xenserver-update\.key/],
      ['missing', `{ out: pack, key: nope.asc, uuid: ${UUID}, kernels: { ${K93}: "4.19.0+1" } }`, /nope\.asc: no such file or directory/],
      ['locked', `{ out: pack, key: locked.asc, passphraseEnv: DUDKIT_TEST_UNSET_PASS, uuid: ${UUID}, kernels: { ${K93}: "4.19.0+1" } }`, /locked\.asc: the secret key is passphrase-protected: set the environment variable DUDKIT_TEST_UNSET_PASS/],
      ['eddsa', `{ out: pack, key: ed.asc, uuid: ${UUID}, kernels: { ${K93}: "4.19.0+1" } }`, /ed\.asc: update packs need an RSA key of at least 2048 bits/],
      ['uid', `{ out: pack, key: test.asc, GPG_UID: someone-else, uuid: ${UUID}, kernels: { ${K93}: "4.19.0+1" } }`, /no user ID of this key contains "someone-else"/],
    ];
    for (const [name, target, message] of cases) {
      await expect(buildIt(name, KO, target), name).rejects.toThrow(message);
      expect(existsSync(join(dir, `out-${name}`, 'pack')), name).toBe(false);
    }
    const two = `${KO}  - ko: ${FIXTURES}/ko/${K94}/*.ko\n`;
    await expect(buildIt('twodrivers', two, `{ out: pack, key: test.asc, uuid: ${UUID}, driverDisk: true, baseRequires: product-version = 8.2.1, kernels: { ${K93}: "4.19.0+1", ${K94}: "4.19.0+2" } }`)).rejects.toThrow(
      /driverDisk: a driver disk carries exactly one driver package \(this pack has 2\)/,
    );
  });

  it('dudkit inspect shows the pack; dudkit verify --key: exit 0 on the pack, exit 1 when repomd.xml.asc is gone or a package is not signed by the key', async () => {
    const { out } = await buildIt('verify', KO, `{ out: pack.iso, key: test.asc, uuid: ${UUID}, kernels: { ${K93}: "4.19.0+1" } }`);
    const iso = join(out, 'pack.iso');
    const ok = dudkit(['verify', iso, '--key', join(out, 'RPM-GPG-KEY-acme'), '--json']);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'xenserver-update', ok: true, details: { driverDisk: true } });
    const T = join(dir, 'verify-extracted');
    must(run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', T]));
    const broken = join(dir, 'verify-broken');
    cpSync(T, broken, { recursive: true });
    rmSync(join(broken, 'repodata', 'repomd.xml.asc'), { force: true });
    const noAsc = dudkit(['verify', broken, '--key', join(out, 'RPM-GPG-KEY-acme')]);
    expect(noAsc.status).toBe(1);
    expect(noAsc.stdout).toMatch(/error: repodata\/repomd\.xml\.asc: missing: xapi refuses the upload \("Invalid signature"\)/);
    const inspected = dudkit(['inspect', iso, '--json']);
    expect(inspected.status, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ kind: 'xenserver-update', update: { uuid: UUID, nameLabel: 'acmenet' }, groups: [{ id: 'update' }, { id: 'drivers' }] });
    // without --key: the key file named by update.xml beside the medium, as dudkit writes it
    const beside = dudkit(['verify', iso, '--json']);
    expect(beside.status, beside.stdout).toBe(0);
    expect(JSON.parse(beside.stdout).findings).toContainEqual({ code: 'XS_UPDATE_KEY_BESIDE', severity: 'info', subject: '', message: `signatures checked with ${join(out, 'RPM-GPG-KEY-acme')} (found beside the medium)` });
    // no key anywhere: an unverifiable signature is an error unless the user waives it (issue 12 item 9)
    const nowhere = dudkit(['verify', broken]);
    expect(nowhere.stdout).toMatch(/error: signatures not checked, so a tampered pack would pass: give the public key users import with --key \(update\.xml names RPM-GPG-KEY-acme\), or say --no-signature-check/);
    const waived = dudkit(['verify', broken, '--no-signature-check']);
    expect(waived.stdout).toMatch(/warning: signatures not checked \(--no-signature-check\): give the public key users import with --key \(update\.xml names RPM-GPG-KEY-acme\)/);
    // another key: every signature fails
    const other = dudkit(['verify', iso, '--key', join(FIXTURES, 'rpms/signing/public.asc')]);
    expect(other.status).toBe(1);
    expect(other.stdout).toMatch(/error: update\.xml\.asc: made by key [0-9a-f]{16}, which is not among the given public keys/);
    expect(other.stdout).toMatch(/error: Packages\/update-acmenet-2\.4\.1-1\.noarch\.rpm: header signature: made by key/);
  });
});

describe('update.xml codec', () => {
  it('writes the spec example byte for byte (xmllint parses it) and reads it back', () => {
    const doc = {
      uuid: '6854ab19-f807-4444-b94f-3ce7d64efe50', nameLabel: 'foo-pack', version: '1.2.3', description: 'ACME foo driver pack', installationSize: 23040,
      afterApplyGuidance: ['restartHost' as const], key: 'RPM-GPG-KEY-acme', control: 'control-foo-pack', rollsup: [{ nameLabel: 'foo-pack-old', uuid: UUID }],
    };
    const xml = updateXml(doc);
    expect(xml).toBe(
      '  <update after-apply-guidance="restartHost" control="control-foo-pack" installation-size="23040" key="RPM-GPG-KEY-acme" name-label="foo-pack" uuid="6854ab19-f807-4444-b94f-3ce7d64efe50" version="1.2.3">\n' +
        '  <name-description>ACME foo driver pack</name-description>\n' +
        '  <rollsup name-label="foo-pack-old" uuid="0d8a2a4e-5b7b-4c43-9d0f-2f7d2c9b6a11"/>\n' +
        '  </update>\n',
    );
    writeFileSync(join(dir, 'example-update.xml'), xml);
    must(run('xmllint', ['--noout', join(dir, 'example-update.xml')]));
    expect(parseUpdateXml(xml)).toEqual({ doc, attributes: expect.any(Object), problems: [] });
  });

  it("reads what xapi's update-upload refuses: no <update>, missing uuid/name-label/version, empty description, bad uuid", () => {
    expect(parseUpdateXml('<updates/>').problems).toEqual(['missing <update> in update.xml']);
    expect(parseUpdateXml('<update').problems[0]).toMatch(/^missing update document: update\.xml is not well-formed XML/);
    expect(parseUpdateXml('<update version="1"><name-description>x</name-description></update>').problems).toEqual(['missing <uuid> in update.xml', 'missing <name-label> in update.xml']);
    expect(parseUpdateXml(`<update uuid="${UUID}" name-label="a" version="1"><name-description></name-description></update>`).problems).toEqual(['invalid <name-description> in update.xml: missing or empty']);
    expect(parseUpdateXml(`<update uuid="${UUID.toUpperCase()}" name-label="a.b" version="1"><name-description>x</name-description></update>`).problems).toEqual([
      `uuid "${UUID.toUpperCase()}" is not a lower-case RFC 4122 UUID (8-4-4-4-12 hex)`,
      'name-label "a.b" must be letters, digits, "_" or "-"',
    ]);
  });

  it('generated package version: characters outside [A-Za-z0-9._] become "."', () => {
    expect(updateRpmVersion('3.8.7+1.xcpng8.2+pack.0.1')).toBe('3.8.7.1.xcpng8.2.pack.0.1');
  });
});
