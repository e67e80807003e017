import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dudkit, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const out = join(tempDir(), 'out');
const VIB = 'acme_bootbank_net-acmenet_2.4.1-1OEM.800.1.0.20613240.vib';
const BUNDLE = 'acme-net-acmenet_2.4.1-1OEM.800.1.0.20613240-offline_bundle.zip';
let built = { status: -1, stdout: '', stderr: '' };

beforeAll(() => {
  // the README's first command, through the compiled CLI
  built = dudkit(['build', join(ROOT, 'examples/acmenet/dudkit.yaml'), '-o', out, '--json'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
});

describe('the bundled example manifest', () => {
  it('builds every target with exit 0 and one JSON document', () => {
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const doc = JSON.parse(built.stdout) as { targets: { target: string; path: string }[] };
    expect(doc.targets.map((t) => t.target)).toEqual(['rhdd3', 'rhdd3', 'pxe', 'usb', 'attach', 'suse', 'xenserver-update', 'xenserver-legacy', 'release-zip', 'esxi-vib', 'esxi-bundle']);
    for (const t of doc.targets) expect(existsSync(t.path)).toBe(true);
  });

  it('every medium passes dudkit verify (the consumers\' checks)', () => {
    for (const m of ['dd-acmenet.iso', 'dd-acmenet', 'dd-acmenet.cpio.gz', 'dd-acmenet-usb.img', 'test-9.4-dd.iso', 'acmenet.iso', 'acmenet.dud', VIB, BUNDLE]) {
      const r = dudkit(['verify', join(out, m)]);
      expect([m, r.status, r.stderr]).toEqual([m, 0, '']);
    }
    const u = dudkit(['verify', join(out, 'acmenet-2.4.1.iso'), '--key', join(out, 'RPM-GPG-KEY-acme')]);
    expect(u.status).toBe(0);
  });

  it('the real tools accept the headline media: checkisomd5, sha256sum -c, cpio -t, unzip -t, ar t', () => {
    const check = run('checkisomd5', [join(out, 'test-9.4-dd.iso')]);
    expect(check.status).toBe(0);
    expect(check.stdout + check.stderr).toMatch(/PASS/);
    expect(run('sha256sum', ['-c', 'dd-acmenet.iso.sha256'], { cwd: out }).status).toBe(0);
    expect(run('sh', ['-c', 'zcat "$0" | cpio -t --quiet', join(out, 'dd-acmenet.cpio.gz')]).stdout).toBe('dd.iso\n');
    expect(run('unzip', ['-t', join(out, 'acmenet-2.4.1.zip')]).status).toBe(0);
    expect(run('ar', ['t', join(out, VIB)]).stdout).toBe('descriptor.xml\nsig.pkcs7\nnet-acme\n');
    expect(run('unzip', ['-tq', join(out, BUNDLE)]).status).toBe(0);
    expect(run('sh', ['-c', 'unzip -p "$0" "vib20/net-acmenet/$1" | cmp - "$2"', join(out, BUNDLE), VIB, join(out, VIB)]).status).toBe(0);
  });

  it('each medium, read by its real tool: isoinfo/bsdtar/rpm -K on the disk, cpio on the overlay, blkid/mdir on the USB image, xorriso on the installer, md5sum -c on the pack', () => {
    const sh = (script: string) => run('sh', ['-c', script], { cwd: out, env: { MTOOLS_SKIP_CHECK: '1' } });
    expect(run('isoinfo', ['-d', '-i', join(out, 'dd-acmenet.iso')]).stdout).toMatch(/^Volume id: OEMDRV$/m);
    const x = join(tempDir(), 'iso');
    expect(sh(`mkdir -p ${x} && bsdtar -xf dd-acmenet.iso -C ${x}`).status).toBe(0);
    expect(existsSync(join(x, 'rhdd3'))).toBe(true);
    const rpms = sh(`find ${x}/rpms -name '*.rpm' | LC_ALL=C sort`).stdout.split('\n').filter(Boolean);
    expect(rpms.length).toBe(3);
    const k = run('rpm', ['-K', '--nosignature', ...rpms]);
    expect(k.status, k.stdout + k.stderr).toBe(0);
    expect(k.stdout.match(/: digests OK$/gm)?.length).toBe(3);
    for (const r of rpms) expect(run('rpm', ['-qp', '--provides', r]).stdout).toMatch(/^(kmod-acme-acmenet|acme-acmenet-firmware) = /m);
    // the PXE overlay holds the very same disk
    expect(sh('zcat dd-acmenet.cpio.gz | cpio -i --quiet --to-stdout dd.iso | cmp - dd-acmenet.iso').status).toBe(0);
    expect(run('blkid', ['-p', '-O', String(1 << 20), join(out, 'dd-acmenet-usb.img')]).stdout).toMatch(/LABEL="OEMDRV".* TYPE="vfat"/);
    expect(sh(`mdir -b -i dd-acmenet-usb.img@@1M ::/`).stdout.split('\n')).toContain('::/rhdd3');
    const eltorito = sh('xorriso -indev test-9.4-dd.iso -report_el_torito plain 2>/dev/null').stdout;
    expect(eltorito).toMatch(/El Torito boot img : +1 +BIOS +y/);
    expect(eltorito).toMatch(/El Torito boot img : +2 +UEFI +y/);
    expect(sh('md5sum -c --quiet acmenet.iso.md5').status).toBe(0);
    // the SUSE update: GNU cpio lists its tree, the module.order the dependencies give
    expect(sh('zcat acmenet.dud | cpio -t --quiet').stdout.split('\n').slice(0, 4)).toEqual(['.', 'linux', 'linux/suse', 'linux/suse/x86_64-sled15']);
    expect(sh('zcat acmenet.dud | cpio -i --quiet --to-stdout linux/suse/x86_64-sled15/modules/module.order').stdout).toBe('acmenet\nacmestor\n');
  });

  it('dnf repoquery reads the rhdd3 disk\'s repository (--repofrompath) and lists exactly its packages, as rpm -qp names them', () => {
    const x = join(tempDir(), 'dd');
    expect(run('sh', ['-c', `mkdir -p ${x} && bsdtar -xf dd-acmenet.iso -C ${x}`], { cwd: out }).status).toBe(0);
    const repo = join(x, 'rpms/x86_64');
    const d = tempDir();
    const q = run('dnf', ['-q', `--installroot=${d}/root`, '--releasever=9', '--setopt=reposdir=/nonexistent', `--setopt=cachedir=${d}/cache`, '--setopt=skip_if_unavailable=False', `--repofrompath=dd,file://${repo}`, '--repo=dd', 'repoquery', '--qf', '%{name}-%{evr}.%{arch}']);
    expect(q.status, q.stderr).toBe(0);
    const rpms = run('sh', ['-c', 'rpm -qp --qf "%{name}-%{evr}.%{arch}\\n" "$0"/*.rpm', repo]).stdout;
    const sorted = (text: string) => text.split('\n').filter(Boolean).sort();
    expect(sorted(q.stdout)).toEqual(sorted(rpms));
    expect(sorted(q.stdout)).toHaveLength(3);
  });

  it('the XenServer update pack is signed by the key written beside it: gpg --verify (update.xml, repomd.xml), rpmkeys -K (every package)', () => {
    const x = join(tempDir(), 'pack');
    expect(run('xorriso', ['-osirrox', 'on', '-indev', join(out, 'acmenet-2.4.1.iso'), '-extract', '/', x]).status).toBe(0);
    const home = tempDir();
    expect(run('gpg', ['--homedir', home, '--batch', '--import', join(out, 'RPM-GPG-KEY-acme')]).status).toBe(0);
    for (const f of ['update.xml', 'repodata/repomd.xml']) {
      const v = run('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', join(x, `${f}.asc`), join(x, f)]);
      expect([f, v.status]).toEqual([f, 0]);
      expect(v.stdout).toMatch(/^\[GNUPG:\] GOODSIG /m);
    }
    const db = tempDir();
    expect(run('rpmkeys', ['--dbpath', db, '--import', join(out, 'RPM-GPG-KEY-acme')]).status).toBe(0);
    const k = run('sh', ['-c', 'rpmkeys --dbpath "$0" -K "$1"/Packages/*.rpm', db, x]);
    expect(k.status, k.stdout + k.stderr).toBe(0);
    const lines = k.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(l).toMatch(/: digests signatures OK$/);
  });

  it('is deterministic: a second build (another time zone, later) gives byte-identical files', () => {
    const again = join(tempDir(), 'again');
    const r = dudkit(['build', join(ROOT, 'examples/acmenet/dudkit.yaml'), '-o', again], { env: { SOURCE_DATE_EPOCH: '1700000000', TZ: 'America/New_York' } });
    expect(r.status).toBe(0);
    const hashes = (d: string) => run('sh', ['-c', 'cd "$0" && find . -type f | LC_ALL=C sort | xargs sha256sum', d]).stdout;
    expect(hashes(again)).toBe(hashes(out));
    expect(hashes(out).split('\n').length).toBeGreaterThan(20);
  });
});
