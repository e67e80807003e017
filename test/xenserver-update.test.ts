import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { writeRpm } from '../src/formats/rpm/write.js';
import { generateKeyPair } from '../src/sign/keygen.js';
import { bytesSource } from '../src/tree/source.js';
import { Scratch } from '../src/tree/scratch.js';
import { verify as verifyMedium } from '../src/readers/index.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import { ACME_FULL } from './helpers/manifest.js';

const dir = tempDir();
const EPOCH = 1700000000;
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const DOM0 = '4.19.0+1';
const UUID = '6854ab19-f807-4444-b94f-3ce7d64efe50';
let fingerprint = '';

function manifest(name: string, target: string): string {
  const p = join(dir, name);
  writeFileSync(p, `${ACME_FULL}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
firmware:
  - file: ${FIXTURES}/firmware/acmenet.bin
    dest: acme/acmenet.bin
targets:
${target}`);
  return p;
}

async function buildQuiet(path: string, out: string) {
  const warnings: string[] = [];
  const ctx = createContext({ epoch: EPOCH, onWarn: (m) => warnings.push(m) });
  const result = await build(path, { outDir: out, ctx });
  return { result, warnings };
}

const must = (r: { status: number; stdout: string; stderr: string }) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

const TARGET = `  - xenserver-update: { out: pack.iso, key: keys/test.asc, uuid: ${UUID}, kernels: { ${K93}: "${DOM0}" } }
  - xenserver-update: { out: pack, format: directory, key: keys/test.asc, uuid: ${UUID}, kernels: { ${K93}: "${DOM0}" } }
`;

beforeAll(async () => {
  mkdirSync(join(dir, 'keys'));
  const pair = await generateKeyPair({ name: 'dudkit test', email: 'test@example.com', bits: 2048, created: EPOCH - 86400 });
  writeFileSync(join(dir, 'keys', 'test.asc'), pair.secretArmored);
  writeFileSync(join(dir, 'keys', 'RPM-GPG-KEY-acme'), pair.publicArmored);
  fingerprint = pair.fingerprint;
});

describe('xenserver-update: driver disk from modules + firmware, signed with a test key', () => {
  const out = join(dir, 'one');
  const T = join(dir, 'one-extracted');
  let warnings: string[] = [];
  beforeAll(async () => {
    ({ warnings } = await buildQuiet(manifest('one.yaml', TARGET), out));
    must(run('xorriso', ['-osirrox', 'on', '-indev', join(out, 'pack.iso'), '-extract', '/', T]));
  });

  it('isoinfo: volume id = label, Rock Ridge and Joliet; the tree of §4.1 with no legacy files', () => {
    expect(warnings).toEqual([]);
    const d = must(run('isoinfo', ['-d', '-i', join(out, 'pack.iso')]));
    expect(d).toMatch(/Volume id: acmenet\n/);
    expect(d).toMatch(/Rock Ridge signatures/);
    expect(d).toMatch(/Joliet with UCS level/);
    const names = must(run('isoinfo', ['-R', '-f', '-i', join(out, 'pack.iso')])).trim().split('\n').sort();
    const rpms = names.filter((n) => n.startsWith('/Packages/')).map((n) => n.slice('/Packages/'.length));
    expect(rpms).toEqual([
      'acmenet-4.19.0+1-modules-2.4.1-3.x86_64.rpm',
      'acmenet-data-2.4.1-3.noarch.rpm',
      'control-acmenet-2.4.1-1.noarch.rpm',
      'update-acmenet-2.4.1-1.noarch.rpm',
    ]);
    for (const f of ['/update.xml', '/update.xml.asc', '/repodata/repomd.xml', '/repodata/repomd.xml.asc']) expect(names).toContain(f);
    expect(names.filter((n) => /XS-|treeinfo/.test(n))).toEqual([]);
    expect(readFileSync(join(out, 'RPM-GPG-KEY-acme'), 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  });

  it('xmllint parses update.xml; its bytes are the DDK form, installation-size = Σ rpm -qp %{SIZE} of the payload', () => {
    const xml = join(T, 'update.xml');
    must(run('xmllint', ['--noout', xml]));
    const xp = (q: string) => must(run('xmllint', ['--xpath', q, xml])).trim();
    expect(xp('name(/*)')).toBe('update');
    expect(xp('string(/update/@uuid)')).toBe(UUID);
    expect(xp('string(/update/@control)')).toBe('control-acmenet');
    expect(xp('string(/update/name-description)')).toBe('ACME 25GbE network driver');
    const payload = ['acmenet-4.19.0+1-modules-2.4.1-3.x86_64.rpm', 'acmenet-data-2.4.1-3.noarch.rpm'].map((f) => join(T, 'Packages', f));
    const size = payload.map((p) => Number(must(run('rpm', ['-qp', '--nosignature', '--qf', '%{SIZE}', p])))).reduce((a, b) => a + b, 0);
    expect(readFileSync(xml, 'utf8')).toBe(
      `  <update after-apply-guidance="restartHost" control="control-acmenet" installation-size="${size}" key="RPM-GPG-KEY-acme" name-label="acmenet" uuid="${UUID}" version="2.4.1">\n` +
        '  <name-description>ACME 25GbE network driver</name-description>\n' +
        '  </update>\n',
    );
  });

  it('gpg --status-fd 1 --verify: GOODSIG, VALIDSIG and (after ownertrust 6) TRUST_ULTIMATE for update.xml.asc and repomd.xml.asc', () => {
    const home = join(dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    must(run('gpg', ['--homedir', home, '--batch', '--import', join(out, 'RPM-GPG-KEY-acme')]));
    must(run('gpg', ['--homedir', home, '--batch', '--import-ownertrust'], { input: `${fingerprint}:6:\n` }));
    for (const f of ['update.xml', 'repodata/repomd.xml']) {
      const status = run('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', join(T, `${f}.asc`), join(T, f)]).stdout;
      expect(status).toMatch(/^\[GNUPG:\] GOODSIG /m);
      expect(status).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG ${fingerprint} 2023-11-14 ${EPOCH} `, 'm'));
      expect(status).toMatch(/^\[GNUPG:\] TRUST_ULTIMATE/m);
    }
    // a changed update.xml no longer verifies
    const bad = join(dir, 'update-bad.xml');
    writeFileSync(bad, readFileSync(join(T, 'update.xml'), 'utf8').replace('2.4.1', '2.4.2'));
    const status = run('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', join(T, 'update.xml.asc'), bad]);
    expect(status.status).not.toBe(0);
    expect(status.stdout).toMatch(/^\[GNUPG:\] BADSIG /m);
  });

  it('rpm -K with the key imported into a scratch rpmdb: every package "digests signatures OK"', () => {
    const root = join(dir, 'rpmroot');
    mkdirSync(root);
    must(run('rpmkeys', ['--root', root, '--import', join(out, 'RPM-GPG-KEY-acme')]));
    const rpms = readdirSync(join(T, 'Packages')).map((f) => join(T, 'Packages', f));
    const lines = must(run('rpm', ['--root', root, '-K', ...rpms])).trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(/: digests signatures OK$/);
    expect(must(run('rpm', ['--root', root, '-Kv', rpms[0]!]))).toMatch(new RegExp(`Header V4 RSA/SHA256 Signature, key ID ${fingerprint.slice(-8).toLowerCase()}: OK`));
  });

  it('generated packages (rpm -qp): update-acmenet requires every payload >= its EVR and owns the stamp; control requires kernel-uname-r', () => {
    const P = (f: string) => join(T, 'Packages', f);
    const upd = P('update-acmenet-2.4.1-1.noarch.rpm');
    const requires = must(run('rpm', ['-qp', '--nosignature', '--requires', upd])).split('\n');
    expect(requires).toContain('acmenet-4.19.0+1-modules >= 2.4.1-3');
    expect(requires).toContain('acmenet-data >= 2.4.1-3');
    expect(must(run('rpm', ['-qp', '--nosignature', '-l', upd])).trim()).toBe(`/var/update/applied/${UUID}`);
    expect(must(run('rpm', ['-qp', '--nosignature', '--qf', '%{POSTTRANS}', upd]))).toBe(`echo ${UUID} >> /run/reboot-required.hfxs\n`);
    const stamp = must(run('sh', ['-c', `rpm2cpio '${upd}' | cpio -i --to-stdout --quiet ./var/update/applied/${UUID}`]));
    expect(stamp).toBe(readFileSync(join(T, 'update.xml'), 'utf8').replace(' key="RPM-GPG-KEY-acme"', ''));
    const ctl = P('control-acmenet-2.4.1-1.noarch.rpm');
    expect(must(run('rpm', ['-qp', '--nosignature', '--requires', ctl])).split('\n')).toContain(`kernel-uname-r = ${DOM0}`);
  });

  it('repodata: only sha256 checksums in primary.xml.gz, every location exists; createrepo_c finds the same packages', () => {
    const repodata = join(T, 'repodata');
    const primary = readdirSync(repodata).find((f) => f.endsWith('-primary.xml.gz'))!;
    const xml = must(run('sh', ['-c', `zcat '${join(repodata, primary)}'`]));
    const count = must(run('sh', ['-c', `zcat '${join(repodata, primary)}' | xmllint --xpath 'count(//*[local-name()="checksum"][@type!="sha256"])' -`]));
    expect(count.trim()).toBe('0');
    const hrefs = [...xml.matchAll(/<location href="([^"]+)"/g)].map((m) => m[1]!);
    expect(hrefs.sort()).toEqual(readdirSync(join(T, 'Packages')).map((f) => `Packages/${f}`).sort());
    const copy = join(dir, 'repo-copy');
    cpSync(join(T, 'Packages'), join(copy, 'Packages'), { recursive: true });
    must(run('createrepo_c', ['--no-database', '--general-compress-type=gz', copy]));
    const theirs = readdirSync(join(copy, 'repodata')).find((f) => f.endsWith('-primary.xml.gz'))!;
    const theirHrefs = [...must(run('sh', ['-c', `zcat '${join(copy, 'repodata', theirs)}'`])).matchAll(/<location href="([^"]+)"/g)].map((m) => m[1]!);
    expect(theirHrefs.sort()).toEqual(hrefs.sort());
  });

  it('dnf group list --ids shows (update) and (drivers); group info update lists update-acmenet', () => {
    const root = join(dir, 'dnfroot-groups');
    mkdirSync(root);
    const dnf = (args: string[]) =>
      must(run('dnf', ['-q', '--setopt=reposdir=/dev/null', `--repofrompath=p,file://${T}`, '--repo=p', '--setopt=p.gpgcheck=0', `--installroot=${root}`, '--releasever=/', `--setopt=cachedir=${join(root, 'cache')}`, ...args]));
    const list = dnf(['group', 'list', '--ids']);
    expect(list).toMatch(/\(update\)/);
    expect(list).toMatch(/\(drivers\)/);
    expect(dnf(['group', 'info', 'update'])).toMatch(/update-acmenet/);
  });

  it('the directory target holds the same files, byte for byte, as the ISO', () => {
    const list = (root: string, rel = ''): string[] =>
      readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? list(root, join(rel, e.name)) : [join(rel, e.name)]));
    const files = list(join(out, 'pack')).sort();
    expect(files).toEqual(list(T).sort());
    for (const f of files) expect(readFileSync(join(out, 'pack', f)).equals(readFileSync(join(T, f)))).toBe(true);
  });

  it('two builds are byte-identical (ISO and public key)', async () => {
    const again = join(dir, 'again');
    await buildQuiet(manifest('again.yaml', TARGET), again);
    expect(readFileSync(join(again, 'pack.iso')).equals(readFileSync(join(out, 'pack.iso')))).toBe(true);
    expect(readFileSync(join(again, 'RPM-GPG-KEY-acme')).equals(readFileSync(join(out, 'RPM-GPG-KEY-acme')))).toBe(true);
  });

  it('dudkit verify accepts the pack with the public key, and catches a tampered update.xml', async () => {
    const key = join(out, 'RPM-GPG-KEY-acme');
    const good = await verifyMedium(join(out, 'pack.iso'), { key });
    expect(good.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(good.kind).toBe('xenserver-update');
    const tampered = join(dir, 'tampered');
    cpSync(T, tampered, { recursive: true });
    writeFileSync(join(tampered, 'update.xml'), readFileSync(join(T, 'update.xml'), 'utf8').replace('ACME 25GbE', 'ACME 40GbE'));
    const bad = await verifyMedium(tampered, { key });
    expect(bad.ok).toBe(false);
    expect(bad.findings.some((f) => f.severity === 'error' && f.subject === 'update.xml.asc' && /BADSIG|bad signature/.test(f.message))).toBe(true);
  });

  it('a tampered pack verified without any key fails (issue 12 item 9); --no-signature-check makes it a warning, never a good signature', async () => {
    // xen-api ocaml/xapi/gpg.ml (`with_signed_cleartext` via update-upload) accepts only GOODSIG +
    // TRUST_ULTIMATE: real gpg says BADSIG on this update.xml, so xapi refuses it ("Invalid signature")
    const tampered = join(dir, 'tampered-nokey');
    cpSync(T, tampered, { recursive: true });
    writeFileSync(join(tampered, 'update.xml'), readFileSync(join(T, 'update.xml'), 'utf8').replace('ACME 25GbE', 'ACME 40GbE'));
    const home = join(dir, 'gnupg-tampered');
    mkdirSync(home, { mode: 0o700 });
    must(run('gpg', ['--homedir', home, '--batch', '--import', join(out, 'RPM-GPG-KEY-acme')]));
    expect(run('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', join(tampered, 'update.xml.asc'), join(tampered, 'update.xml')]).stdout).toMatch(/^\[GNUPG:\] BADSIG /m);
    const strict = await verifyMedium(tampered);
    expect(strict.ok).toBe(false);
    expect(strict.findings).toContainEqual(expect.objectContaining({ code: 'XS_UPDATE_SIGNATURES_UNCHECKED', severity: 'error' }));
    const waived = await verifyMedium(tampered, { signatureCheck: false });
    expect(waived.findings).toContainEqual(expect.objectContaining({ code: 'XS_UPDATE_SIGNATURES_UNCHECKED', severity: 'warning' }));
    expect((waived.details as { signatures: { status: string }[] }).signatures.map((x) => x.status)).toEqual(['unchecked', 'unchecked']);
    const cli = dudkit(['verify', tampered]);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/error: signatures not checked, so a tampered pack would pass/);
  });
});

describe('xenserver-update: xapi replay with real dnf (§4.7 config, gpgcheck and repo_gpgcheck on)', () => {
  const out = join(dir, 'replay');
  const T = join(out, 'pack');
  const conf = join(dir, 'xapi.conf');

  /** A stand-in for the host's release and kernel packages: what the pack's Requires name. */
  async function fakeHost(root: string, kernel: string, product: string): Promise<void> {
    mkdirSync(root, { recursive: true });
    await Scratch.with(async (scratch) => {
      const rpm = await writeRpm(
        {
          name: 'fake-xenserver-release', version: product, release: '1', arch: 'noarch', summary: 'stand-in host', description: 'stand-in host', license: 'MIT', buildTime: EPOCH,
          provides: [{ name: 'product-version', op: '=', version: product }, { name: 'kernel-uname-r', op: '=', version: kernel }],
          files: [{ type: 'file', path: '/bin/sh', mode: 0o755, content: bytesSource('#!/bin/true\n') }],
        },
        scratch,
      );
      const path = join(root, '..', `${root.split('/').pop()}-host.rpm`);
      const chunks: Uint8Array[] = [];
      for await (const c of rpm.open()) chunks.push(c);
      writeFileSync(path, Buffer.concat(chunks));
      must(run('rpm', ['--root', root, '--nosignature', '--noscripts', '-i', path]));
    });
  }

  const dnf = (root: string, args: string[]) =>
    run('dnf', ['-c', conf, `--installroot=${root}`, '--releasever=/', '--noplugins', '--setopt=tsflags=noscripts', `--setopt=cachedir=${join(root, 'var/cache/dnf')}`, ...args]);

  beforeAll(async () => {
    await buildQuiet(manifest('replay.yaml', `  - xenserver-update: { out: pack, key: keys/test.asc, uuid: ${UUID}, kernels: { ${K93}: "${DOM0}" } }\n`), out);
    writeFileSync(
      conf,
      `[main]\nkeepcache=0\nreposdir=/dev/null\ngpgcheck=1\nrepo_gpgcheck=1\ninstallonlypkgs=\ngroup_command=compat\n\n[acmenet]\nname=acmenet\nbaseurl=file://${T}\ngpgkey=file://${join(out, 'RPM-GPG-KEY-acme')}\n`,
    );
  });

  it('dnf installs control-acmenet, then @update: the stamp and the modules land in the root', async () => {
    const root = join(dir, 'host-ok');
    await fakeHost(root, DOM0, '8.2.1');
    const ctl = dnf(root, ['install', '-y', 'control-acmenet']);
    expect(ctl.status, ctl.stderr).toBe(0);
    const upd = dnf(root, ['install', '-y', '@update']);
    expect(upd.status, upd.stderr).toBe(0);
    expect(existsSync(join(root, 'var/update/applied', UUID))).toBe(true);
    expect(readdirSync(join(root, 'lib/modules', DOM0, 'updates')).sort()).toEqual(['acmenet.ko', 'acmestor.ko']);
    // what dnf did on this host, verify predicts for its kernel
    const v = await verifyMedium(T, { key: join(out, 'RPM-GPG-KEY-acme'), kernels: [DOM0] });
    expect(v.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  it('on a host with another kernel, control-acmenet fails with "nothing provides kernel-uname-r = …"', async () => {
    const root = join(dir, 'host-other');
    await fakeHost(root, '4.19.0+2', '8.2.1');
    const ctl = dnf(root, ['install', '-y', 'control-acmenet']);
    expect(ctl.status).not.toBe(0);
    expect(ctl.stderr + ctl.stdout).toMatch(new RegExp(`nothing provides kernel-uname-r = 4\\.19\\.0\\+1 needed by control-acmenet`));
    // xen-api python3/extensions/pool_update.precheck, classify_dnf_failure: "nothing provides X = V
    // needed by P" is UPDATE_PRECHECK_FAILED_WRONG_SERVER_VERSION; verify --kernel says so (issue 12 item 8)
    const v = dudkit(['verify', T, '--key', join(out, 'RPM-GPG-KEY-acme'), '--kernel', '4.19.0+2', '--json']);
    expect(v.status).toBe(1);
    const findings = (JSON.parse(v.stdout) as { findings: { code: string; severity: string; message: string }[] }).findings.filter((f) => f.severity === 'error');
    expect(findings.map((f) => f.code).sort()).toEqual(['XS_UPDATE_NO_MODULES_FOR_KERNEL', 'XS_UPDATE_WRONG_KERNEL']);
    expect(findings.find((f) => f.code === 'XS_UPDATE_WRONG_KERNEL')!.message).toMatch(/nothing provides kernel-uname-r = 4\.19\.0\+1.*UPDATE_PRECHECK_FAILED_WRONG_SERVER_VERSION/);
    expect(findings.find((f) => f.code === 'XS_UPDATE_NO_MODULES_FOR_KERNEL')!.message).toMatch(/no package has modules under \/lib\/modules\/4\.19\.0\+2\/.*for 4\.19\.0\+1/);
  });

  it('a key file under another name: dnf with xapi\'s gpgkey=…/<key attribute> cannot get the key, and verify --key says so (issue 12 item 9)', async () => {
    // scripts/import-update-key copies the key to /etc/pki/rpm-gpg/<its basename>; xen-api
    // ocaml/xapi/xapi_pool_update.ml writes gpgkey=file:///etc/pki/rpm-gpg/<update.xml key>
    const pki = join(dir, 'rpm-gpg');
    mkdirSync(pki);
    cpSync(join(out, 'RPM-GPG-KEY-acme'), join(pki, 'other-name.asc'));
    const misnamed = join(dir, 'xapi-misnamed.conf');
    writeFileSync(misnamed, readFileSync(conf, 'utf8').replace(/^gpgkey=.*$/m, `gpgkey=file://${join(pki, 'RPM-GPG-KEY-acme')}`));
    const root = join(dir, 'host-misnamed');
    await fakeHost(root, DOM0, '8.2.1');
    const ctl = run('dnf', ['-c', misnamed, `--installroot=${root}`, '--releasever=/', '--noplugins', '--setopt=tsflags=noscripts', `--setopt=cachedir=${join(root, 'var/cache/dnf')}`, 'install', '-y', 'control-acmenet']);
    expect(ctl.status).not.toBe(0);
    expect(ctl.stderr + ctl.stdout).toMatch(/Failed to retrieve GPG key for repo 'acmenet'.*Couldn't open file .*\/rpm-gpg\/RPM-GPG-KEY-acme/);
    const v = dudkit(['verify', T, '--key', join(pki, 'other-name.asc'), '--json']);
    expect(v.status).toBe(1);
    expect(JSON.parse(v.stdout).findings).toContainEqual(expect.objectContaining({ code: 'XS_UPDATE_KEY_NAME', severity: 'error' }));
    expect(dudkit(['verify', T, '--key', join(out, 'RPM-GPG-KEY-acme')]).status).toBe(0);
  });
});

describe('xenserver-update: build -v names the dom0 kernel each RPM is for (issue 19 conv2 item 1)', () => {
  it('the modules package is for the dom0 kernel kernels: maps the build to; rpm -qlp lists its modules under /lib/modules/<that kernel>/', () => {
    const m = manifest('v.yaml', `  - xenserver-update: { out: vpack, format: directory, key: keys/test.asc, uuid: ${UUID}, kernels: { ${K93}: "${DOM0}" } }\n`);
    const v = dudkit(['build', '-v', m, '-o', join(dir, 'v-out')], { env: { SOURCE_DATE_EPOCH: String(EPOCH) } });
    expect(v.status, v.stderr).toBe(0);
    const line = v.stderr.split('\n').find((l) => /^dudkit: xenserver-update: \S+-modules-\S+\.rpm: /.test(l))!;
    expect(line).toContain(`for dom0 kernel ${DOM0}: kernels: maps build kernel ${K93} to it; Requires `);
    const rpm = join(dir, 'v-out/vpack/Packages', line.split(': ')[2]!);
    const files = run('rpm', ['-qlp', '--nosignature', rpm]).stdout.split('\n').filter(Boolean);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f.startsWith(`/lib/modules/${DOM0}/`)).toBe(true);
    const requires = run('rpm', ['-qp', '--nosignature', '--requires', rpm]).stdout;
    expect(requires).toContain(line.split('; Requires ')[1]!.split(' ')[0]!);
    expect(v.stderr).toContain(`dudkit: xenserver-update: control-`);
    expect(v.stderr).toMatch(new RegExp(`Requires kernel-uname-r = ${DOM0.replace(/[.+]/g, '\\$&')}: the one dom0 kernel`));
  });
});
