import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import type { Compression } from '../src/formats/compress/index.js';
import { rpmFileName, writeRpm, type RpmPackage } from '../src/formats/rpm/write.js';
import type { DriverMeta } from '../src/model/driverset.js';
import { firmwarePackage } from '../src/packages/firmware.js';
import { kmodPackage, type KmodBuild, type KmodInput, type KmodModule } from '../src/packages/kmod.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource, fileSource, readSource } from '../src/tree/source.js';
import { tempDir } from './helpers/tmp.js';

const EPOCH = 1700000000;
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const K94 = '5.14.0-427.13.1.el9_4.x86_64';
const dir = tempDir('dudkit-rpm-kmod-');
let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.dispose();
});

const meta: DriverMeta = {
  name: 'acmenet',
  version: '2.4.1',
  release: '3',
  vendor: 'acme',
  vendorName: 'ACME Networks',
  summary: 'ACME 25GbE network driver',
  description: 'ACME 25GbE network (acmenet) and NVMe-oF offload (acmestor) drivers.',
  license: 'GPLv2',
  url: 'https://example.com/acmenet',
};

const MODS = ['acmenet', 'acmestor'];

async function kernelBuild(kernel: string, original: Compression = 'none'): Promise<KmodBuild> {
  const suffix = { none: '', gzip: '.gz', xz: '.xz', zstd: '.zst', bzip2: '.bz2' }[original];
  const modules = await Promise.all(
    MODS.map(async (name): Promise<KmodModule> => ({
      facts: { name },
      origin: `fixtures/ko/${kernel}/${name}.ko${suffix}`,
      original: await fileSource(`fixtures/ko/${kernel}/${name}.ko${suffix}`),
      compression: original,
      plain: await fileSource(`fixtures/ko/${kernel}/${name}.ko`),
    })),
  );
  return { kernelRelease: kernel, arch: 'x86_64', modules };
}

function run(cmd: string, args: string[], input?: Buffer): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}
const q = (file: string, ...args: string[]): string => run('rpm', ['-qp', '--nosignature', ...args, file]);

async function save(p: RpmPackage, name?: string): Promise<string> {
  const built = await writeRpm(p, scratch);
  const out = join(dir, name ?? built.fileName);
  writeFileSync(out, await readSource(built));
  return out;
}

async function kmod(over: Partial<KmodInput> & { kernel?: string } = {}): Promise<RpmPackage> {
  const { kernel = K93, ...rest } = over;
  return kmodPackage({ meta, build: await kernelBuild(kernel), kernelModules: { op: '>=' }, firmwarePackage: { name: 'acme-acmenet-firmware', evr: '2.4.1-3' }, buildTime: EPOCH, ...rest });
}

/** anaconda dd_list's test (redhat-dud.md §3.2), with rpm's own rpmvercmp through its Lua API. */
function ddListMatches(file: string, kernels: string[]): Record<string, boolean> {
  const entries = q(file, '--qf', '[%{PROVIDENAME}|%{PROVIDEFLAGS}|%{PROVIDEVERSION}\n]')
    .trim()
    .split('\n')
    .map((l) => l.split('|'))
    .filter(([n, , v]) => n === 'kernel-modules' && v !== '');
  const lua = kernels.flatMap((k) => entries.map(([, , v]) => `print(rpm.vercmp("${k}", "${v}") .. ",")`)).join(' ');
  const cmp = run('rpm', ['--eval', `%{lua: ${lua}}`]).trim().split(',').slice(0, -1).map(Number);
  const result: Record<string, boolean> = {};
  kernels.forEach((k, i) => {
    result[k] = entries.some(([, f], j) => {
      const r = cmp[i * entries.length + j]!;
      const flags = Number(f);
      return (r < 0 && (flags & 2) !== 0) || (r === 0 && (flags & 8) !== 0) || (r > 0 && (flags & 4) !== 0);
    });
  });
  return result;
}

describe('kmod package recipe', () => {
  let file: string;
  let p: RpmPackage;
  const evr = `2.4.1-3.362.8.1.el9_3`;
  beforeAll(async () => {
    p = await kmod();
    file = await save(p, 'ge-main.rpm');
  });

  test('rpm -K OK; name, release with the kernel tag, group and vendor as specified', () => {
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
    expect(rpmFileName(p)).toBe(`kmod-acme-acmenet-${evr}.x86_64.rpm`);
    expect(q(file, '--qf', '%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{GROUP}|%{VENDOR}|%{URL}|%{PAYLOADCOMPRESSOR}|%{SOURCERPM}')).toBe(
      `kmod-acme-acmenet|2.4.1|3.362.8.1.el9_3|x86_64|System Environment/Kernel|ACME Networks|https://example.com/acmenet|xz|kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.src.rpm`,
    );
  });

  test('rpm -qp --provides: kernel-modules >= K with the arch suffix, kmod-<module> = V-R per module', () => {
    expect(q(file, '--qf', '[%{PROVIDENAME}|%{PROVIDEFLAGS}|%{PROVIDEVERSION}\n]').trim().split('\n')).toEqual([
      `config(kmod-acme-acmenet)|268435464|${evr}`,
      `kernel-modules|12|${K93}`,
      'kmod(acmenet.ko)|0|',
      'kmod(acmestor.ko)|0|',
      `kmod-acme-acmenet|8|${evr}`,
      `kmod-acme-acmenet(x86-64)|8|${evr}`,
      `kmod-acmenet|8|${evr}`,
      `kmod-acmestor|8|${evr}`,
    ]);
  });

  test('rpm -qp --requires: depmod for %post/%postun, the kernel pin, the firmware package', () => {
    expect(q(file, '--qf', '[%{REQUIRENAME}|%{REQUIREFLAGS:hex}|%{REQUIREVERSION}\n]').trim().split('\n')).toEqual([
      '/bin/sh|500|',
      '/bin/sh|1100|',
      '/usr/sbin/depmod|400|',
      '/usr/sbin/depmod|1000|',
      'acme-acmenet-firmware|8|2.4.1-3',
      `config(kmod-acme-acmenet)|10000008|${evr}`,
      'kernel|c|5.14.0-362.8.1.el9_3',
      'rpmlib(CompressedFileNames)|100000a|3.0.4-1',
      'rpmlib(FileDigests)|100000a|4.6.0-1',
      'rpmlib(PayloadFilesHavePrefix)|100000a|4.0-1',
      'rpmlib(PayloadIsXz)|100000a|5.2-1',
    ]);
  });

  test('rpm -qlvp: the module folder, uncompressed .ko files, the depmod.d override as %config', () => {
    const lines = q(file, '-lv').trim().split('\n').map((l) => l.split(/\s+/));
    expect(lines.map((l) => [l[0], l[2], l[3], l[4], l[8]])).toEqual([
      ['-rw-r--r--', 'root', 'root', '148', '/etc/depmod.d/acmenet.conf'],
      ['drwxr-xr-x', 'root', 'root', '0', `/lib/modules/${K93}/extra/acmenet`],
      ['-rw-r--r--', 'root', 'root', String(statSync(`fixtures/ko/${K93}/acmenet.ko`).size), `/lib/modules/${K93}/extra/acmenet/acmenet.ko`],
      ['-rw-r--r--', 'root', 'root', String(statSync(`fixtures/ko/${K93}/acmestor.ko`).size), `/lib/modules/${K93}/extra/acmenet/acmestor.ko`],
    ]);
    expect(q(file, '--configfiles').trim()).toBe('/etc/depmod.d/acmenet.conf');
  });

  test('rpm -qp --scripts: %post/%postun run depmod for K and weak-modules; sh -n accepts them', () => {
    const scripts = q(file, '--scripts');
    expect(scripts).toContain(`/usr/sbin/depmod' -aeF '/boot/System.map-${K93}' '${K93}'`);
    expect(scripts).toContain(`'/lib/modules/${K93}/extra/acmenet/acmenet.ko' '/lib/modules/${K93}/extra/acmenet/acmestor.ko' | /sbin/weak-modules --add-modules`);
    expect(scripts).toContain('/sbin/weak-modules --remove-modules');
    for (const tag of ['POSTIN', 'POSTUN']) {
      const body = q(file, '--qf', `%{${tag}}`);
      expect(spawnSync('sh', ['-n'], { input: body }).status).toBe(0);
    }
  });

  test('sh runs %post and %postun: depmod -a K for the package kernel (a stand-in depmod records its arguments)', async () => {
    const fake = join(dir, 'fake-depmod');
    const log = join(dir, 'depmod.log');
    writeFileSync(fake, `#!/bin/sh\necho "$@" >> '${log}'\n`, { mode: 0o755 });
    const withFake = await kmod({ depmod: fake, weakModules: false });
    expect(withFake.requires).toContainEqual({ name: fake, phases: ['post'] });
    for (const s of [withFake.scripts!.post!, withFake.scripts!.postun!]) {
      const r = spawnSync('sh', ['-c', s.body], { encoding: 'utf8' });
      expect([r.status, r.stderr]).toEqual([0, '']);
    }
    expect(readFileSync(log, 'utf8')).toBe(`-a ${K93}\n-a ${K93}\n`);
  });

  test('rpm -i --root installs the modules under /lib/modules/K/extra/<name>/ byte for byte; modinfo reads them', () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', file]);
    for (const m of ['acmenet', 'acmestor']) {
      const installed = join(root, `lib/modules/${K93}/extra/acmenet/${m}.ko`);
      expect(readFileSync(installed).equals(readFileSync(`fixtures/ko/${K93}/${m}.ko`))).toBe(true);
      expect(statSync(installed).mode & 0o7777).toBe(0o644);
      expect(run('modinfo', ['-F', 'vermagic', installed]).startsWith(`${K93} `)).toBe(true);
    }
    expect(readFileSync(join(root, 'etc/depmod.d/acmenet.conf'), 'utf8')).toBe(
      'override acmenet * weak-updates/acmenet\noverride acmenet * extra/acmenet\noverride acmestor * weak-updates/acmenet\noverride acmestor * extra/acmenet\n',
    );
    const verify = spawnSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-V', '--nodeps', 'kmod-acme-acmenet'], { encoding: 'utf8' });
    expect([verify.status, verify.stdout]).toEqual([0, '']);
  });

  test('rpm2cpio | cpio -t lists ./-prefixed names in header order', () => {
    const names = run('cpio', ['-t', '--quiet'], execFileSync('rpm2cpio', [file])).trim().split('\n');
    expect(names).toEqual(['./etc/depmod.d/acmenet.conf', `./lib/modules/${K93}/extra/acmenet`, `./lib/modules/${K93}/extra/acmenet/acmenet.ko`, `./lib/modules/${K93}/extra/acmenet/acmestor.ko`]);
  });

  test('deterministic: the same modules and SOURCE_DATE_EPOCH give identical packages', async () => {
    const a = await readSource(await writeRpm(await kmod(), scratch));
    const b = await readSource(await writeRpm(await kmod(), scratch));
    expect(Buffer.from(a).equals(b)).toBe(true);
    expect(Buffer.from(a).equals(readFileSync(file))).toBe(true);
  });

  test('keepCompression ships the modules as given (.ko.xz); gzip payload on request; no weak-modules when off', async () => {
    const kept = kmodPackage({ meta, build: await kernelBuild(K93, 'xz'), kernelModules: { op: '>=' }, buildTime: EPOCH, keepCompression: true, weakModules: false });
    const keptFile = join(dir, 'kept.rpm');
    writeFileSync(keptFile, await readSource(await writeRpm(kept, scratch, { compressor: 'gzip' })));
    expect(run('rpm', ['-K', '--nosignature', keptFile])).toMatch(/digests OK/);
    expect(q(keptFile, '--qf', '%{PAYLOADCOMPRESSOR}')).toBe('gzip');
    expect(q(keptFile, '--qf', '[%{FILENAMES}\n]')).toContain(`/lib/modules/${K93}/extra/acmenet/acmenet.ko.xz\n`);
    expect(q(keptFile, '--requires')).not.toContain('firmware');
    expect(q(keptFile, '--scripts')).not.toContain('weak-modules');
    const root = join(dir, 'root-xz');
    mkdirSync(root);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', keptFile]);
    expect(readFileSync(join(root, `lib/modules/${K93}/extra/acmenet/acmenet.ko.xz`)).equals(readFileSync(`fixtures/ko/${K93}/acmenet.ko.xz`))).toBe(true);
    // by default the plain module is shipped even when the input was compressed
    const plain = kmodPackage({ meta, build: await kernelBuild(K93, 'xz'), kernelModules: { op: '>=' }, buildTime: EPOCH });
    expect(plain.files.map((f) => f.path)).toContain(`/lib/modules/${K93}/extra/acmenet/acmenet.ko`);
  });

  test('rpmbuild -bb of the equivalent spec gives the same rpm -qp --qf output for every tag dudkit writes', async () => {
    const top = join(dir, 'rpmbuild');
    for (const d of ['SPECS', 'BUILD', 'BUILDROOT', 'RPMS', 'SRPMS', 'SOURCES']) mkdirSync(join(top, d), { recursive: true });
    writeFileSync(join(top, 'post.sh'), p.scripts!.post!.body);
    writeFileSync(join(top, 'postun.sh'), p.scripts!.postun!.body);
    const conf = p.files.find((f) => f.path === '/etc/depmod.d/acmenet.conf');
    writeFileSync(join(top, 'acmenet.conf'), conf?.type === 'file' ? await readSource(conf.content!) : '');
    const ko = (m: string): string => `/lib/modules/${K93}/extra/acmenet/${m}.ko`;
    const spec = [
      'Name: kmod-acme-acmenet',
      'Version: 2.4.1',
      'Release: 3.362.8.1.el9_3',
      `Summary: ${meta.summary}`,
      'License: GPLv2',
      'Group: System Environment/Kernel',
      `URL: ${meta.url}`,
      'Vendor: ACME Networks',
      'BuildArch: x86_64',
      `Provides: kernel-modules >= ${K93}`,
      'Provides: kmod-acmenet = %{version}-%{release}',
      'Provides: kmod-acmestor = %{version}-%{release}',
      'Provides: kmod(acmenet.ko)',
      'Provides: kmod(acmestor.ko)',
      'Requires(post): /usr/sbin/depmod',
      'Requires(postun): /usr/sbin/depmod',
      'Requires: kernel >= 5.14.0-362.8.1.el9_3',
      'Requires: acme-acmenet-firmware = 2.4.1-3',
      '%description',
      meta.description,
      '%install',
      `mkdir -p %{buildroot}/lib/modules/${K93}/extra/acmenet %{buildroot}/etc/depmod.d`,
      `cp ${process.cwd()}/fixtures/ko/${K93}/acmenet.ko ${process.cwd()}/fixtures/ko/${K93}/acmestor.ko %{buildroot}/lib/modules/${K93}/extra/acmenet/`,
      `cp ${join(top, 'acmenet.conf')} %{buildroot}/etc/depmod.d/`,
      `%post -f ${join(top, 'post.sh')}`,
      `%postun -f ${join(top, 'postun.sh')}`,
      '%files',
      `%dir /lib/modules/${K93}/extra/acmenet`,
      ko('acmenet'),
      ko('acmestor'),
      '%config /etc/depmod.d/acmenet.conf',
      '',
    ].join('\n');
    writeFileSync(join(top, 'SPECS/kmod.spec'), spec);
    const defines = ['_topdir ' + top, '_binary_payload w2.xzdio', 'use_source_date_epoch_as_buildtime 1', 'clamp_mtime_to_source_date_epoch 1', '__os_install_post %{nil}', 'debug_package %{nil}', '_build_id_links none', '_buildhost dudkit'];
    execFileSync('rpmbuild', [...defines.flatMap((d) => ['--define', d]), '--target', 'x86_64', '--quiet', '-bb', join(top, 'SPECS/kmod.spec')], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) }, stdio: 'pipe' });
    const theirs = join(top, `RPMS/x86_64/kmod-acme-acmenet-${evr}.x86_64.rpm`);
    const qf = [
      '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SIZE}|%{GROUP}|%{LICENSE}|%{URL}|%{VENDOR}|%{SUMMARY}|%{DESCRIPTION}|%{SOURCERPM}|%{OS}|%{BUILDTIME}|%{BUILDHOST}',
      '|%{PAYLOADFORMAT}|%{PAYLOADCOMPRESSOR}|%{PAYLOADFLAGS}|%{FILEDIGESTALGO}|%{PAYLOADDIGESTALGO}\n',
      '[%{FILENAMES}|%{FILEMODES:octal}|%{FILESIZES}|%{FILEDIGESTS}|%{FILEFLAGS}|%{FILEMTIMES}|%{FILEUSERNAME}|%{FILEGROUPNAME}|%{FILELINKTOS}|%{FILEVERIFYFLAGS}|%{FILEINODES}|%{FILEDEVICES}|%{FILERDEVS}|%{FILELANGS}\n]',
      '[%{PROVIDENAME}|%{PROVIDEFLAGS}|%{PROVIDEVERSION}\n][%{REQUIRENAME}|%{REQUIREFLAGS}|%{REQUIREVERSION}\n]',
      '%{POSTINPROG}|%{POSTUNPROG}\n%{POSTIN}\n%{POSTUN}\n',
    ].join('');
    expect(q(file, '--qf', qf)).toBe(q(theirs, '--qf', qf));
  });

  test('a description line "---" is refused with a one-line UserError (anaconda dd_list)', async () => {
    const bad = { ...meta, description: 'Line one\n---\nLine three' };
    const err = await kernelBuild(K93).then((build) => {
      try {
        kmodPackage({ meta: bad, build, kernelModules: { op: '>=' }, buildTime: EPOCH });
      } catch (e) {
        return e;
      }
      return undefined;
    });
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^kmod-acme-acmenet: description line 2 is "---"/);
    expect(() => firmwarePackage({ meta: bad, files: [{ dest: 'acme/acmenet.bin', source: bytesSource('fw'), origin: 'fw' }], buildTime: EPOCH })).toThrow(/line 2/);
  });
});

describe('two-kernel disk: one kmod per installer kernel', () => {
  let files: Record<string, string>;
  beforeAll(async () => {
    files = {};
    for (const k of [K93, K94]) files[k] = await save(await kmod({ kernel: k, kernelModules: { op: '=' } }));
  });

  test('with rpm.vercmp (rpm --eval Lua) and the dd_list sense rule, each package matches exactly its own kernel', () => {
    expect(ddListMatches(files[K93]!, [K93, K94, '5.14.0-362.el9.x86_64', '5.14.0-362.8.1.el9_3'])).toEqual({ [K93]: true, [K94]: false, '5.14.0-362.el9.x86_64': false, '5.14.0-362.8.1.el9_3': false });
    expect(ddListMatches(files[K94]!, [K93, K94])).toEqual({ [K93]: false, [K94]: true });
  });

  test('a >= package serves its kernel and later z-streams, not older kernels', async () => {
    const ge = await save(await kmod({ kernel: K93, kernelModules: { op: '>=' } }), 'ge.rpm');
    expect(ddListMatches(ge, [K93, K94, '5.14.0-362.13.1.el9_3.x86_64', '5.14.0-284.11.1.el9_2.x86_64'])).toEqual({
      [K93]: true,
      [K94]: true,
      '5.14.0-362.13.1.el9_3.x86_64': true,
      '5.14.0-284.11.1.el9_2.x86_64': false,
    });
  });

  test('both install side by side in a scratch rpmdb (distinct NEVRA, no file conflict); rpm -q --whatprovides finds both; the pins differ', () => {
    const root = join(dir, 'root-two');
    mkdirSync(root);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', files[K93]!, files[K94]!]);
    const rpmq = (...args: string[]): string[] => run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-q', ...args]).trim().split('\n').sort();
    const both = ['kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64', 'kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64'];
    expect(rpmq('--whatprovides', 'kernel-modules')).toEqual(both);
    expect(rpmq('--whatprovides', 'kmod-acmestor')).toEqual(both);
    expect(rpmq('--provides', both[0]!).filter((l) => l.startsWith('kernel-modules'))).toEqual([`kernel-modules = ${K93}`]);
    expect(rpmq('--provides', both[1]!).filter((l) => l.startsWith('kernel-modules'))).toEqual([`kernel-modules = ${K94}`]);
    expect(q(files[K93]!, '--qf', '[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]')).toContain('kernel >= 5.14.0-362.8.1.el9_3\nkernel < 5.14.0-363.el9\n');
    expect(q(files[K94]!, '--qf', '[%{REQUIRENAME} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]')).toContain('kernel >= 5.14.0-427.13.1.el9_4\nkernel < 5.14.0-428.el9\n');
  });

  test('one build serving several installer kernels lists one = entry each; a build newer than a served kernel is refused', async () => {
    const multi = await save(await kmod({ kernel: K93, kernelModules: { op: '=', kernels: [K94, K93] } }), 'multi.rpm');
    expect(ddListMatches(multi, [K93, K94, '5.14.0-503.11.1.el9_5.x86_64'])).toEqual({ [K93]: true, [K94]: true, '5.14.0-503.11.1.el9_5.x86_64': false });
    expect(q(multi, '--qf', '[%{FILENAMES}\n]')).toContain(`/lib/modules/${K93}/extra/acmenet/acmenet.ko`);
    await expect(kmod({ kernel: K94, kernelModules: { op: '=', kernels: [K93] } })).rejects.toThrow(/cannot serve the older installer kernel/);
  });
});

describe('firmware package recipe', () => {
  test('noarch, /lib/firmware/<dest>, owns its vendor folder, versioned kernel-modules; rpm -K and rpm -i accept it', async () => {
    const fw = bytesSource(new Uint8Array(4096).map((_, i) => i & 0xff), 'fw/acmenet.bin');
    const p = firmwarePackage({
      meta,
      files: [{ dest: 'acme/acmenet.bin', source: fw, origin: 'fw/acmenet.bin' }],
      kernelModules: [{ op: '=', version: K93 }, { op: '=', version: K94 }],
      buildTime: EPOCH,
    });
    const file = await save(p);
    expect(file.endsWith('acme-acmenet-firmware-2.4.1-3.noarch.rpm')).toBe(true);
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
    expect(q(file, '--qf', '%{ARCH}|%{GROUP}')).toBe('noarch|System Environment/Kernel');
    expect(q(file, '--qf', '[%{FILEMODES:perms} %{FILENAMES}\n]')).toBe('drwxr-xr-x /lib/firmware/acme\n-rw-r--r-- /lib/firmware/acme/acmenet.bin\n');
    expect(q(file, '--provides').trim().split('\n')).toEqual(['acme-acmenet-firmware = 2.4.1-3', `kernel-modules = ${K93}`, `kernel-modules = ${K94}`]);
    expect(ddListMatches(file, [K93, K94, '5.14.0-503.11.1.el9_5.x86_64'])).toEqual({ [K93]: true, [K94]: true, '5.14.0-503.11.1.el9_5.x86_64': false });
    const root = join(dir, 'root-fw');
    mkdirSync(root);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', file]);
    expect(readFileSync(join(root, 'lib/firmware/acme/acmenet.bin')).equals(await readSource(fw))).toBe(true);
  });

  test('unsafe firmware destinations are refused naming the input', () => {
    for (const dest of ['../etc/passwd', '/abs.bin', 'a//b.bin']) {
      expect(() => firmwarePackage({ meta, files: [{ dest, source: bytesSource('x'), origin: 'fw/x.bin' }], buildTime: EPOCH })).toThrow(/^fw\/x\.bin: firmware destination/);
    }
  });
});
