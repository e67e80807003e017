// The `suse` target (suse-dud.md §11) read by the real tools: GNU cpio, bsdtar, gzip/xz, isoinfo,
// xorriso, rpm/rpm2cpio, gpg, uuidgen (the UpdateID derivation), modinfo; and compared with the tree
// mkdud 173a908 made from the same inputs (`mkdud --create x.dud --dist sle15 acmenet.ko acmestor.ko
// <KMP> module.order`, normalised as §12 check 13 says: its UpdateID, comment line, the directory
// part of UpdateName's first field, the `.update.<id>` name, install/update.pre and update.post2
// taken out; mkdud on Debian keeps inst-sys/usr/share/doc because its `rm -rf …/{doc,…}` runs under
// dash, which has no brace expansion).
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACME } from './helpers/manifest.js';
import { dudkit, FIXTURES, run, type Ran } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const EPOCH = '1700000000';
const KS = '6.4.0-150600.21-default';
const KMP = 'acme-acmenet-kmp-default-2.4.1_k6.4.0_150600.21-1.1.x86_64';
const env = { SOURCE_DATE_EPOCH: EPOCH };

const must = (r: Ran) => {
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};
const sh = (script: string, cwd = dir) => must(run('bash', ['-eo', 'pipefail', '-c', script], { cwd }));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function manifest(name: string, targets: string, firmware = true): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, `${ACME}sources:
  - ko: ${FIXTURES}/ko/${KS}/*.ko
  - rpm: ${FIXTURES}/rpms-suse/${KMP}.rpm
${firmware ? `firmware:\n  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }\n` : ''}targets:
${targets}`);
  return p;
}

/** Every file and symlink below `root`: `path sha256` / `path -> target`, sorted. */
function listing(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.push(`${relative(root, p)} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) walk(p);
      else out.push(`${relative(root, p)} ${sha256(readFileSync(p)).slice(0, 16)}`);
    }
  };
  walk(root);
  return out.sort();
}

const extract = (cmd: string, name: string) => {
  const to = join(dir, name);
  mkdirSync(to, { recursive: true });
  sh(cmd, to);
  return to;
};

const FW = sha256(readFileSync(join(FIXTURES, 'firmware/acmenet.bin')));
const NET = sha256(readFileSync(join(FIXTURES, 'ko', KS, 'acmenet.ko')));
const STOR = sha256(readFileSync(join(FIXTURES, 'ko', KS, 'acmestor.ko')));
const RPM = sha256(readFileSync(join(FIXTURES, 'rpms-suse', `${KMP}.rpm`)));

/** The tree mkdud made (normalised), with the firmware entry dudkit adds from `firmware:`. */
const MKDUD_TREE = [
  `linux/suse/x86_64-sled15/inst-sys/lib/modules/${KS}/updates/acmenet.ko ${NET.slice(0, 16)}`,
  `linux/suse/x86_64-sled15/inst-sys/lib/modules/${KS}/updates/acmestor.ko ${STOR.slice(0, 16)}`,
  `linux/suse/x86_64-sled15/install/${KMP}.rpm ${RPM.slice(0, 16)}`,
  `linux/suse/x86_64-sled15/modules/acmenet.ko ${NET.slice(0, 16)}`,
  `linux/suse/x86_64-sled15/modules/acmestor.ko ${STOR.slice(0, 16)}`,
  `linux/suse/x86_64-sled15/modules/module.order ${sha256(Buffer.from('acmenet\nacmestor\n')).slice(0, 16)}`,
  'linux/suse/x86_64-sles15 -> x86_64-sled15',
];

const out = join(dir, 'out');
let id = '';

beforeAll(() => {
  must(dudkit(['build', manifest('all', `  - suse: { out: acmenet.dud, dist: [sle15] }
  - suse: { out: acmenet.dud.xz, dist: [sle15, "15.6"] }
  - suse: { out: acmenet.cpio, dist: [sle15] }
  - suse: { out: acmenet.iso, dist: [sle15] }
  - suse: { out: acmenet.rpm, dist: [sle15], key: ${join(FIXTURES, '../examples/acmenet/keys/example-signing-key.asc')} }
  - suse: { out: both.dud, dist: [sle15, "16.0"] }
  - suse: { out: noarch.dud, dist: [sle15], arch: [x86_64], install: false, instsys: false }
`), '-o', out], { env }));
  id = /UpdateID:\t(\S+)/.exec(sh(`zcat ${out}/acmenet.dud | cpio -i --to-stdout linux/suse/x86_64-sled15/dud.config 2>/dev/null`))![1]!;
}, 120_000);

describe('suse cpio wrapping (GNU cpio, bsdtar, gzip, xz)', () => {
  it('zcat | cpio -itv: "." first, then linux, no ./ or / names, owner root root, 0755 folders and 0644 files, gzip -9n header', () => {
    const lines = sh(`zcat ${out}/acmenet.dud | cpio -itv 2>/dev/null`).trim().split('\n');
    const names = lines.map((l) => l.split(/\s+/).slice(8).join(' '));
    expect(names.slice(0, 4)).toEqual(['.', 'linux', 'linux/suse', 'linux/suse/x86_64-sled15']);
    expect(names.every((n) => !n.startsWith('./') && !n.startsWith('/'))).toBe(true);
    for (const l of lines) {
      const [mode, , user, group] = l.split(/\s+/);
      expect([user, group]).toEqual(['root', 'root']);
      expect(mode).toMatch(/^(drwxr-xr-x|-rw-r--r--|lrwxrwxrwx)$/);
    }
    // link counts as for a real tree: x86_64-sled15 holds inst-sys, install and modules
    expect(lines.find((l) => l.endsWith(' linux/suse/x86_64-sled15'))!.split(/\s+/)[1]).toBe('5');
    expect(sh(`head -c 10 ${out}/acmenet.dud | od -An -tx1`).replace(/\s+/g, ' ').trim()).toBe('1f 8b 08 00 00 00 00 00 02 03');
    expect(sh(`set +o pipefail; zcat ${out}/acmenet.dud | head -c 6`)).toBe('070701');
  });

  it('bsdtar -tvf lists the same tree with uid/gid 0', () => {
    const bsd = sh(`bsdtar -tvf ${out}/acmenet.dud`).trim().split('\n');
    const cpio = sh(`zcat ${out}/acmenet.dud | cpio -t 2>/dev/null`).trim().split('\n');
    expect(bsd.map((l) => l.split(/\s+/).slice(8).join(' ').replace(/ -> .*/, ''))).toEqual(cpio);
    for (const l of bsd) expect(l.split(/\s+/).slice(2, 4)).toEqual(['0', '0']);
  });

  it('gzip -t and xz -t pass; xz --robot --list reports CRC32; the cpio ends with TRAILER!!! and NULs, a multiple of 512 bytes', () => {
    sh(`gzip -t ${out}/acmenet.dud && xz -t ${out}/acmenet.dud.xz`);
    expect(sh(`xz --robot --list ${out}/acmenet.dud.xz`)).toMatch(/^file\t.*\tCRC32\t/m);
    for (const raw of [readFileSync(join(out, 'acmenet.cpio')), Buffer.from(sh(`zcat ${out}/acmenet.dud | od -An -v -tx1 | tr -d ' \\n'`), 'hex')]) {
      expect(raw.length % 512).toBe(0);
      const at = raw.lastIndexOf('TRAILER!!!');
      expect(raw.subarray(at + 11).every((b) => b === 0)).toBe(true);
    }
    expect(sh(`xz -dc ${out}/acmenet.dud.xz | cpio -t 2>/dev/null | grep -c '^linux/suse/x86_64-leap15.6/modules/'`).trim()).toBe('3');
  });

  it('cpio -idm: one real folder per arch, every other entry a relative symlink that resolves; the tree equals mkdud’s (normalised)', () => {
    const t = extract(`zcat ${out}/acmenet.dud | cpio -idm 2>/dev/null`, 'x-cpio');
    const suse = join(t, 'linux/suse');
    expect(readdirSync(suse).sort()).toEqual(['x86_64-sled15', 'x86_64-sles15']);
    expect(lstatSync(join(suse, 'x86_64-sled15')).isDirectory()).toBe(true);
    expect(readlinkSync(join(suse, 'x86_64-sles15'))).toBe('x86_64-sled15');
    expect(statSync(join(suse, 'x86_64-sles15')).isDirectory()).toBe(true);
    const normalised = listing(t).filter((l) => !/\/dud\.config |\/\.update\.|\/lib\/firmware\//.test(l));
    expect(normalised).toEqual(MKDUD_TREE);
    expect(listing(t)).toContain(`linux/suse/x86_64-sled15/inst-sys/lib/firmware/acme/acmenet.bin ${FW.slice(0, 16)}`);
    expect(readFileSync(join(suse, 'x86_64-sled15/modules/module.order'), 'utf8')).toBe('acmenet\nacmestor\n');
    expect(readFileSync(join(suse, `x86_64-sled15/inst-sys/.update.${id}`), 'utf8')).toBe(`package: ${KMP}\n`);
    // modinfo reads the shipped modules: the installer kernel's release, then a space
    expect(must(run('modinfo', ['-F', 'vermagic', join(suse, 'x86_64-sled15/modules/acmenet.ko')]))).toMatch(new RegExp(`^${KS.replace(/\./g, '\\.')} `));
    expect(must(run('modinfo', ['-F', 'depends', join(suse, 'x86_64-sled15/modules/acmestor.ko')])).trim()).toBe('acmenet');
  });

  it('dud.config: the bytes of §4 (UpdateName as mkdud writes it, file names without folders), UpdateID = uuidgen --sha1 of the content listing (§11.3)', () => {
    const t = join(dir, 'x-cpio');
    const config = readFileSync(join(t, 'linux/suse/x86_64-sled15/dud.config'), 'utf8');
    expect(config).toBe(`# created by dudkit 0.1.0
UpdateID:\t${id}
UpdateProduct:\tSUSE Linux Enterprise Desktop 15, SUSE Linux Enterprise Server 15
UpdateInstaller:\tyast
UpdateName:\tacmenet.ko\t${KS}.x86_64\t2.4.1
UpdateName:\tacmestor.ko\t${KS}.x86_64\t2.4.1
UpdateName:\t${KMP}\tTue Nov 14 22:13:20 2023
`);
    // the listing by find + sha256sum, its hash, the UUID by uuidgen
    const hex = sh(`(find linux -type f ! -name dud.config ! -name '.update.*' -exec sha256sum {} + | sed 's/ \\*\\?/  /; s/   */  /'; \
      find linux -type l -printf '-> %l  %p\\n') | LC_ALL=C sort | sha256sum | cut -d' ' -f1`, t).trim();
    expect(must(run('uuidgen', ['--sha1', '--namespace', '@url', '--name', `dudkit:suse:${hex}`])).trim()).toBe(id);
  });

  it('two updates in one file: 01/ YaST (sled15 real, sles15 link), 02/ Agama (opensuse-leap16.0 real, sles16.0 link), distinct UpdateIDs', () => {
    const t = extract(`zcat ${out}/both.dud | cpio -idm 2>/dev/null`, 'x-both');
    expect(readlinkSync(join(t, '01/linux/suse/x86_64-sles15'))).toBe('x86_64-sled15');
    expect(readlinkSync(join(t, '02/linux/suse/x86_64-sles16.0'))).toBe('x86_64-opensuse-leap16.0');
    const yast = readFileSync(join(t, '01/linux/suse/x86_64-sled15/dud.config'), 'utf8');
    const agama = readFileSync(join(t, '02/linux/suse/x86_64-opensuse-leap16.0/dud.config'), 'utf8');
    expect(yast).toContain('UpdateInstaller:\tyast\n');
    expect(agama).toContain('UpdateInstaller:\tagama\n');
    expect(agama).toContain('UpdateProduct:\tSUSE Linux Enterprise Server 16.0, openSUSE Leap 16.0\n');
    const ids = [yast, agama].map((c) => /UpdateID:\t(\S+)/.exec(c)![1]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0]).toBe(id); // the YaST update has the same content as acmenet.dud
    // Agama's view: <uname -m>-<ID><VERSION_ID> under a numeric prefix holds the modules
    expect(existsSync(join(t, '02/linux/suse/x86_64-opensuse-leap16.0/modules/acmenet.ko'))).toBe(true);
    expect(existsSync(join(t, '02/linux/suse/x86_64-sles16.0/modules/acmestor.ko'))).toBe(true);
  });

  it('modules only (install: false, instsys: false): no install/ or inst-sys/, UpdateName lines for the modules only', () => {
    const names = sh(`zcat ${out}/noarch.dud | cpio -t 2>/dev/null`);
    expect(names).not.toMatch(/install|inst-sys/);
    expect(sh(`zcat ${out}/noarch.dud | cpio -i --to-stdout linux/suse/x86_64-sled15/dud.config 2>/dev/null`)).not.toContain(KMP);
  });
});

describe('suse ISO and RPM wrappings (isoinfo, xorriso, bsdtar, rpm, rpm2cpio), signature (gpg)', () => {
  it('isoinfo -d: volume id OEMDRV, application id dud <UpdateID>, system id LINUX, Rock Ridge; xorriso -extract and bsdtar give the cpio tree', () => {
    const info = must(run('isoinfo', ['-d', '-i', join(out, 'acmenet.iso')]));
    expect(info).toContain('Volume id: OEMDRV\n');
    expect(info).toContain(`Application id: dud ${id}\n`);
    expect(info).toContain('System id: LINUX\n');
    expect(info).toMatch(/Rock Ridge signatures/);
    const x = join(dir, 'x-iso');
    must(run('xorriso', ['-osirrox', 'on', '-indev', join(out, 'acmenet.iso'), '-extract', '/', x]));
    expect(listing(x)).toEqual(listing(join(dir, 'x-cpio')));
    const bsd = sh(`bsdtar -tvf ${out}/acmenet.iso`);
    expect(bsd).toMatch(/^dr-xr-xr-x .* linux\/suse\/x86_64-sled15$/m);
    expect(bsd).toMatch(/^-r--r--r-- .* linux\/suse\/x86_64-sled15\/modules\/acmenet\.ko$/m);
    expect(bsd).toMatch(/^lrwxrwxrwx .* linux\/suse\/x86_64-sles15 -> x86_64-sled15$/m);
  });

  it('rpm -qpl lists only /linux/suse/ and its parents, rpm -K is OK, no scripts; rpm2cpio | cpio -idm gives the cpio tree', () => {
    const rpm = join(out, 'acmenet.rpm');
    const files = must(run('rpm', ['-qpl', '--nosignature', rpm])).trim().split('\n');
    expect(files.slice(0, 2)).toEqual(['/linux', '/linux/suse']);
    expect(files.every((f) => f === '/linux' || f === '/linux/suse' || f.startsWith('/linux/suse/'))).toBe(true);
    expect(must(run('rpm', ['-K', '--nosignature', rpm]))).toMatch(/digests OK/);
    expect(must(run('rpm', ['-qp', '--nosignature', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}', rpm]))).toBe('acmenet-dud-2.4.1-3.noarch');
    expect(must(run('rpm', ['-qp', '--nosignature', '--scripts', rpm]))).toBe('');
    const x = extract(`rpm2cpio ${rpm} | cpio -idm 2>/dev/null`, 'x-rpm');
    expect(listing(x)).toEqual(listing(join(dir, 'x-cpio')));
  });

  it('gpg --verify <out>.asc <out>: a good signature by the example key', () => {
    const home = join(dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    must(run('gpg', ['--homedir', home, '--batch', '--import', join(FIXTURES, '../examples/acmenet/keys/example-signing-key.pub.asc')]));
    const r = run('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', join(out, 'acmenet.rpm.asc'), join(out, 'acmenet.rpm')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\[GNUPG:\] GOODSIG /);
    expect(readFileSync(join(out, 'acmenet.rpm.asc'), 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
  });
});

describe('suse: determinism and refusals', () => {
  it('a second build is byte-identical, .asc included', () => {
    const again = join(dir, 'again');
    must(dudkit(['build', join(dir, 'all.yaml'), '-o', again], { env }));
    for (const f of readdirSync(out)) expect(sha256(readFileSync(join(again, f))), f).toBe(sha256(readFileSync(join(out, f))));
  });

  it('name: with TABs gives one UpdateName line each, as written', () => {
    const o = join(dir, 'named');
    must(dudkit(['build', manifest('named', '  - suse: { out: n.dud, dist: [sle15], name: ["ACME acmenet\\t2.4.1", "second"] }\n'), '-o', o], { env }));
    expect(sh(`zcat ${o}/n.dud | cpio -i --to-stdout linux/suse/x86_64-sled15/dud.config 2>/dev/null | grep UpdateName`)).toBe('UpdateName:\tACME acmenet\t2.4.1\nUpdateName:\tsecond\n');
  });

  it('pxe and usb wrap Red Hat disks only: of: suse exits 2 naming of (a .dud is itself an initrd overlay)', () => {
    const r = dudkit(['build', manifest('pxe-suse', '  - suse: { dist: [sle15] }\n  - pxe: { of: suse }\n'), '-o', join(dir, 'pxe-suse')], { env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/targets\[1\]\.pxe\.of/);
  });

  it.each([
    ['dist: [16.0] (unquoted)', '{ dist: [16.0] }', /dist\[0\].*quote/],
    ['dist: [15] (a number)', '{ dist: [15] }', /dist\[0\].*quote it/],
    ['tw without installer', '{ dist: [tw] }', /dist\[0\]: tw may use Agama or YaST: say which with installer/],
    ['installer contradicting a dist', '{ dist: [sle15], installer: agama }', /installer: agama contradicts dist\[0\] sle15/],
    ['an unknown dist', '{ dist: [sle14] }', /dist\[0\]: sle14 is not a dist name/],
    ['an unknown key', '{ dist: [sle15], vendorId: x }', /vendorId/],
    ['rpm for Agama', '{ dist: ["16.0"], format: rpm }', /format: rpm is read by linuxrc\/YaST only/],
    ['compression for an ISO', '{ dist: [sle15], format: iso, compression: xz }', /compression: xz is for format cpio only/],
    ['moduleOrder missing a module', '{ dist: [sle15], moduleOrder: [acmestor] }', /moduleOrder: must list every shipped module exactly once.*missing acmenet/],
    ['id with two updates', '{ dist: [sle15, "16.0"], id: 0123456789abcdef }', /id: the dists give two updates/],
  ])('%s: exit 2, one line naming the option, nothing written', (name, target, message) => {
    const o = join(dir, `bad-${name.replace(/\W+/g, '-')}`);
    const r = dudkit(['build', manifest(`bad-${name.replace(/\W+/g, '-')}`, `  - suse: ${target}\n`), '-o', o], { env });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(o) ? readdirSync(o) : []).toEqual([]);
  });
});

const verify = (path: string, ...args: string[]) => dudkit(['verify', path, '--json', ...args]);
const json = (r: Ran) => JSON.parse(r.stdout) as { ok: boolean; findings: { code: string; severity: string; subject: string; message: string }[]; details: { wrapping: { form: string; compression: string; magic?: string[]; xzCheck?: string }; views: { dist: string; takes: string[] }[] } };
const codes = (r: Ran) => json(r).findings.map((f) => `${f.severity}:${f.code}`);

describe('suse inspect and verify: every wrapping, the installers’ rules (archives made by GNU cpio, GNU tar, bsdtar, genisoimage, gzip, xz, zstd)', () => {
  const tree = () => join(dir, 'x-cpio');

  it.each(['acmenet.dud', 'acmenet.dud.xz', 'acmenet.cpio', 'acmenet.iso', 'acmenet.rpm', 'both.dud'])('%s: verify --dist sle15 --kernel <SLE kernel> is OK; linuxrc takes x86_64-sles15 through its link', (f) => {
    const r = verify(join(out, f), '--dist', 'sle15', '--kernel', KS);
    expect(r.status, r.stdout).toBe(0);
    const v = json(r).details.views.find((x) => x.dist === 'sles15')!;
    expect(v.takes[0]).toMatch(/linux\/suse\/x86_64-sles15 -> x86_64-(sled15|leap15\.6)$/);
  });

  it('inspect lists the update: dud.config keys as linuxrc parses them, modules with vermagic and version, module.order, install/, inst-sys/', () => {
    const r = must(dudkit(['inspect', join(out, 'acmenet.dud')]));
    expect(r).toContain(`UpdateID: ${id}`);
    expect(r).toContain(`modules/acmestor.ko: acmestor 2.4.1 (${KS}, x86_64) depends acmenet`);
    expect(r).toContain('module.order: acmenet acmestor');
    expect(r).toContain(`install/${KMP}.rpm (${KMP})`);
  });

  it('--dist of the other installer, --kernel of another release: exit 1 naming them', () => {
    expect(codes(verify(join(out, 'acmenet.dud'), '--dist', '16.0'))).toContain('error:SUSE_NO_DIR');
    expect(codes(verify(join(out, 'acmenet.dud'), '--kernel', '6.4.0-150600.23-default'))).toContain('error:VERMAGIC_RELEASE');
  });

  it('--key: gpg’s good signature is good; a signature over other bytes is refused (linuxrc: "Invalid signature")', () => {
    const key = join(FIXTURES, '../examples/acmenet/keys/example-signing-key.pub.asc');
    expect(verify(join(out, 'acmenet.rpm'), '--key', key).status).toBe(0);
    sh(`cp ${out}/acmenet.rpm.asc ${dir}/other.dud.asc && cp ${out}/acmenet.dud ${dir}/other.dud`);
    expect(codes(verify(join(dir, 'other.dud'), '--key', key))).toContain('error:SUSE_SIGNATURE');
  });

  it('--key naming no file: exit 2 naming it, no stack trace', () => {
    const r = verify(join(out, 'acmenet.rpm'), '--key', join(dir, 'no-such-key.asc'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no-such-key.asc');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('inline-signed by gpg --sign: unwrapped as linuxrc does, read; Agama cannot read it', () => {
    const home = join(dir, 'gnupg-sign');
    mkdirSync(home, { mode: 0o700 });
    must(run('gpg', ['--homedir', home, '--batch', '--import', join(FIXTURES, '../examples/acmenet/keys/example-signing-key.asc')]));
    for (const [f, o] of [['acmenet.dud', 'signed.dud'], ['both.dud', 'signed-both.dud']]) {
      must(run('gpg', ['--homedir', home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', '--sign', '-o', join(dir, o!), join(out, f!)]));
    }
    const r = verify(join(dir, 'signed.dud'), '--dist', 'sled15', '--kernel', KS);
    expect(r.status, r.stdout).toBe(0);
    expect(codes(verify(join(dir, 'signed-both.dud')))).toContain('error:SUSE_INLINE_SIGNED');
    // --key: the inline signature checked as gpg --verify checks it; a flipped byte in the signed data, or another key, fails
    const pub = join(FIXTURES, '../examples/acmenet/keys/example-signing-key.pub.asc');
    const good = verify(join(dir, 'signed.dud'), '--dist', 'sled15', '--kernel', KS, '--key', pub);
    expect(good.status, good.stdout).toBe(0);
    expect(json(good).details.signature.ok).toBe(true);
    expect(run('gpg', ['--homedir', home, '--batch', '--verify', join(dir, 'signed.dud')]).status).toBe(0);
    const other = join(dir, 'other-key');
    mkdirSync(other, { mode: 0o700 });
    must(run('gpg', ['--homedir', other, '--batch', '--passphrase', '', '--quick-gen-key', 'other <o@example.com>', 'rsa2048', 'sign', 'never']));
    writeFileSync(join(dir, 'other.pub.asc'), must(run('gpg', ['--homedir', other, '--armor', '--export', 'o@example.com'])));
    expect(codes(verify(join(dir, 'signed.dud'), '--key', join(dir, 'other.pub.asc')))).toContain('error:SUSE_SIGNATURE');
  });

  it('an inline-signed file whose compressed packet unpacks beyond the unpack limit: exit 2, one line, never held whole', () => {
    const home = join(dir, 'gnupg-bomb');
    mkdirSync(home, { mode: 0o700 });
    must(run('gpg', ['--homedir', home, '--batch', '--import', join(FIXTURES, '../examples/acmenet/keys/example-signing-key.asc')]));
    sh(`(printf 'linux/suse/'; head -c 40M /dev/zero) | gpg --homedir ${home} --batch --yes --pinentry-mode loopback --passphrase '' --sign -o ${dir}/bomb.dud`);
    expect(statSync(join(dir, 'bomb.dud')).size).toBeLessThan(1 << 20);
    const r = dudkit(['verify', join(dir, 'bomb.dud')], { env: { DUDKIT_MAX_UNPACK_SIZE: String(16 << 20) } });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bomb\.dud: the signed data: this input unpacks to more than 16 MiB; .*DUDKIT_MAX_UNPACK_SIZE=<bytes> raises it/);
  });

  it('GNU tar (tar -cf, mkdud’s tar format): linuxrc ignores it; POSIX tar (--format=posix) and bsdtar’s ustar are read', () => {
    sh(`tar -C ${tree()} -cf ${dir}/gnu.tar . && tar -C ${tree()} --format=posix -czf ${dir}/posix.tar.gz . && bsdtar -C ${tree()} --format=ustar -cJf ${dir}/ustar.tar.xz linux`);
    expect(codes(verify(join(dir, 'gnu.tar')))).toContain('error:SUSE_TAR_GNU');
    for (const f of ['posix.tar.gz', 'ustar.tar.xz']) expect(verify(join(dir, f), '--dist', 'sles15').status, f).toBe(0);
  });

  it('cpio formats and compressions: binary (cpio -H bin) read, crc (070702) refused, zstd refused for linuxrc, xz with CRC64 warned; hard links as mkdud makes them read', () => {
    sh(`cd ${tree()} && find . | cpio -o -H crc 2>/dev/null | gzip > ${dir}/crc.dud && find . | cpio -o -H newc 2>/dev/null | zstd -q > ${dir}/z.dud && find . | cpio -o -H newc 2>/dev/null | xz > ${dir}/crc64.dud`);
    expect(codes(verify(join(dir, 'crc.dud')))).toContain('error:SUSE_CPIO_FORMAT');
    // the old binary format (cpio -H bin), which linuxrc reads too
    sh(`cd ${tree()} && find . | cpio -o -H bin 2>/dev/null | gzip > ${dir}/bin.dud`);
    const bin = verify(join(dir, 'bin.dud'), '--dist', 'sled15', '--kernel', KS);
    expect(bin.status, bin.stdout).toBe(0);
    expect(json(bin).details.wrapping.magic).toEqual(['c771']);
    expect(codes(verify(join(dir, 'z.dud')))).toContain('error:SUSE_COMPRESSION');
    const xz = verify(join(dir, 'crc64.dud'));
    expect(json(xz).details.wrapping.xzCheck).toBe('CRC64');
    expect(codes(xz)).toContain('warning:SUSE_XZ_CHECK');
    // hardlink --content: the module in modules/ and in inst-sys/ one inode, data on the last link
    const linked = join(dir, 'linked');
    sh(`cp -a ${tree()} ${linked} && cd ${linked}/linux/suse/x86_64-sled15 && ln -f inst-sys/lib/modules/${KS}/updates/acmenet.ko modules/acmenet.ko && cd ${linked} && find . | cpio -o -H newc 2>/dev/null | gzip > ${dir}/linked.dud`);
    expect(verify(join(dir, 'linked.dud'), '--kernel', KS).status).toBe(0);
  });

  it('ISO by genisoimage -R, gzip’d (mkdud’s iso.gz): read through the decompressor', () => {
    sh(`genisoimage -quiet -R -V OEMDRV -o ${dir}/g.iso ${tree()} && gzip -c ${dir}/g.iso > ${dir}/g.iso.gz`);
    const r = verify(join(dir, 'g.iso.gz'), '--dist', 'sled15');
    expect(r.status, r.stdout).toBe(0);
    expect(json(r).details.wrapping).toMatchObject({ form: 'iso', compression: 'gzip' });
  });

  it('dud.config as linuxrc parses it (=, space, quotes), 1024-byte lines, module.order out of order, two files of one module, a dangling link', () => {
    const bad = join(dir, 'bad');
    const d = join(bad, 'linux/suse/x86_64-sled15');
    sh(`cp -a ${tree()} ${bad} && cd ${d} && printf 'UpdateID = "0123456789abcdef"\\nUpdateName %s\\nUpdateInstaller=yast\\n' "$(head -c 1100 /dev/zero | tr '\\0' x)" > dud.config \
      && printf 'acmestor\\nacmenet\\n' > modules/module.order && xz -k modules/acmenet.ko && ln -s /nowhere ../x86_64-sles15sp9 \
      && cd ${bad} && find . | cpio -o -H newc 2>/dev/null | gzip > ${dir}/bad.dud`);
    const r = verify(join(dir, 'bad.dud'));
    expect(r.status).toBe(1);
    const f = json(r).findings;
    expect(f.filter((x) => x.code === 'SUSE_CONFIG_LINE')).toHaveLength(1);
    // "UpdateID = "…"" is an UpdateID to linuxrc; the .update.<id> of the old one no longer fits it
    expect(f.filter((x) => x.code === 'SUSE_UPDATE_ID').map((x) => x.subject)).toEqual([`linux/suse/x86_64-sled15/inst-sys/.update.${id}`]);
    expect(f.find((x) => x.code === 'SUSE_MODULE_ORDER')!.message).toMatch(/acmestor depends on acmenet, listed after it/);
    expect(f.find((x) => x.code === 'SUSE_MODULE_DUPLICATE')!.message).toMatch(/module acmenet is also acmenet\.ko/);
    expect(f.some((x) => x.code === 'SUSE_LINK' && x.severity === 'error')).toBe(true);
    expect(must(dudkit(['inspect', join(dir, 'bad.dud')]))).toContain('UpdateID: 0123456789abcdef');
  });
});

describe('suse: build -v names the installer, each arch’s module build, each KMP’s place and kernel (issue 19 conv2 item 1)', () => {
  it('the decisions match what rpm -qlp reads from the KMP and what cpio reads from the update', () => {
    const m = manifest('verbose', '  - suse: { out: v.dud, dist: [sle15] }\n');
    const v = dudkit(['build', '-v', m, '-o', join(dir, 'v-out')], { env });
    expect(v.status, v.stderr).toBe(0);
    const lines = v.stderr.split('\n').filter((l) => l.startsWith('dudkit: suse: '));
    expect(lines).toContain('dudkit: suse: format cpio, gzip: from the output name');
    expect(lines.find((l) => l.includes('update for linuxrc/YaST (the dists name it): dists sled15, sles15')), lines.join('\n')).toBeDefined();
    expect(lines).toContain(`dudkit: suse: x86_64: modules/ acmenet, acmestor from the ${KS} build: the one x86_64 build`);
    const kmpLine = lines.find((l) => l.startsWith(`dudkit: suse: ${KMP}.rpm: `))!;
    expect(kmpLine).toContain('install/ (installed on the target) and inst-sys/ (unpacked into the installer)');
    const kernels = [...new Set(must(run('rpm', ['-qlp', '--nosignature', join(FIXTURES, 'rpms-suse', `${KMP}.rpm`)])).split('\n').map((f) => /^\/lib\/modules\/([^/]+)\//.exec(f)?.[1]).filter(Boolean))];
    expect(kmpLine).toContain(`its modules are for kernel ${kernels.join(', ')}`);
    const listed = sh(`zcat ${join(dir, 'v-out/v.dud')} | cpio -t 2>/dev/null`);
    expect(listed).toContain(`linux/suse/x86_64-sled15/install/${KMP}.rpm`);
    expect(listed).toContain('linux/suse/x86_64-sled15/modules/acmenet.ko');
  });
});
