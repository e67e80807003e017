import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UserError } from '../src/errors.js';
import { formatDependency, openRpm, verifyDigests } from '../src/formats/rpm/index.js';
import { writeRpm, type RpmPackage, type WriteRpmOptions } from '../src/formats/rpm/write.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource, fileSource, readSource, type Source } from '../src/tree/source.js';
import { tempDir } from './helpers/tmp.js';

const EPOCH = 1700000000;
const KO = 'fixtures/ko/5.14.0-362.8.1.el9_3.x86_64/acmenet.ko';
const dir = tempDir('dudkit-rpm-write-');
let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.dispose();
});

function run(cmd: string, args: string[], input?: Buffer): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}
const q = (file: string, ...args: string[]): string => run('rpm', ['-qp', '--nosignature', ...args, file]);

async function pkg(over: Partial<RpmPackage> = {}): Promise<RpmPackage> {
  return {
    name: 'acme-test',
    version: '2.4.1',
    release: '3.el9',
    arch: 'x86_64',
    summary: 'ACME test package',
    description: 'A package written by dudkit.\nSecond line.',
    license: 'GPLv2',
    url: 'https://example.com/acme',
    vendor: 'ACME Networks',
    packager: 'ACME <build@example.com>',
    buildTime: EPOCH,
    provides: [{ name: 'kernel-modules', op: '>=', version: '5.14.0-362.el9.x86_64' }],
    requires: [{ name: 'kernel', op: '>=', version: '5.14.0' }, { name: '/usr/sbin/depmod', phases: ['post'] }],
    conflicts: [{ name: 'acme-old', op: '<', version: '1:2.0' }],
    obsoletes: [{ name: 'acme-legacy' }],
    scripts: {
      post: { body: 'echo post\n' },
      postun: { body: 'echo postun\n' },
      posttrans: { body: 'true\n', interpreter: ['/bin/sh', '-e'] },
    },
    changelog: [
      { time: 1690000000, name: 'ACME <build@example.com> - 2.4.0-1', text: '- older' },
      { time: 1695000000, name: 'ACME <build@example.com> - 2.4.1-3', text: '- newer' },
    ],
    files: [
      { type: 'dir', path: '/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet' },
      { type: 'file', path: '/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet/acmenet.ko', content: await fileSource(KO), mode: 0o644 },
      { type: 'file', path: '/etc/acme/acme.conf', content: bytesSource('rx_ring=512\n'), flags: ['noreplace'] },
      { type: 'file', path: '/usr/share/doc/acme-test/README', content: bytesSource('read me\n'), flags: ['doc'] },
      { type: 'file', path: '/usr/bin/acme-tool', content: bytesSource('#!/bin/sh\necho acme\n'), mode: 0o755 },
      { type: 'file', path: '/var/log/acme.log', flags: ['ghost'], mode: 0o600 },
      { type: 'file', path: '/etc/acme/empty', content: bytesSource('') },
      { type: 'symlink', path: '/usr/bin/acme', target: 'acme-tool' },
    ],
    ...over,
  };
}

async function save(p: RpmPackage, opts: WriteRpmOptions = {}, name?: string): Promise<string> {
  const built = await writeRpm(p, scratch, opts);
  const bytes = await readSource(built);
  expect(bytes.length).toBe(built.size);
  const out = join(dir, name ?? built.fileName);
  writeFileSync(out, bytes);
  return out;
}

describe('RPM writer', () => {
  let file: string;
  beforeAll(async () => {
    file = await save(await pkg(), {}, 'main.rpm');
  });

  test('rpm -Kv checks every digest (header SHA256/SHA1, payload SHA256, MD5)', () => {
    const out = run('rpm', ['-Kv', '--nosignature', file]);
    for (const line of ['Header SHA256 digest: OK', 'Header SHA1 digest: OK', 'Payload SHA256 digest: OK', 'MD5 digest: OK']) expect(out).toContain(line);
    expect(out).not.toMatch(/BAD|NOT OK/);
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
  });

  test('rpm -qp --qf prints the intended tags', () => {
    const qf = '%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SIZE}|%{PAYLOADFORMAT}|%{PAYLOADCOMPRESSOR}|%{PAYLOADFLAGS}|%{SOURCERPM}|%{BUILDTIME}|%{BUILDHOST}|%{LICENSE}|%{GROUP}|%{URL}|%{VENDOR}|%{PACKAGER}|%{OS}|%{FILEDIGESTALGO}|%{SUMMARY}';
    const size = statSync(KO).size + 12 + 8 + 20 + 0 + 9;
    expect(q(file, '--qf', qf)).toBe(
      `acme-test|(none)|2.4.1|3.el9|x86_64|${size}|cpio|xz|2|acme-test-2.4.1-3.el9.src.rpm|${EPOCH}|dudkit|GPLv2|Unspecified|https://example.com/acme|ACME Networks|ACME <build@example.com>|linux|8|ACME test package`,
    );
    expect(q(file, '--qf', '%{DESCRIPTION}')).toBe('A package written by dudkit.\nSecond line.');
  });

  test('rpm -qp --provides/--requires/--conflicts/--obsoletes list exactly the declared and derived dependencies', () => {
    expect(q(file, '--provides').trim().split('\n')).toEqual([
      'acme-test = 2.4.1-3.el9',
      'acme-test(x86-64) = 2.4.1-3.el9',
      'config(acme-test) = 2.4.1-3.el9',
      'kernel-modules >= 5.14.0-362.el9.x86_64',
    ]);
    expect(q(file, '--qf', '[%{REQUIRENAME}|%{REQUIREFLAGS:hex}|%{REQUIREVERSION}\n]').trim().split('\n')).toEqual([
      '/bin/sh|120|',
      '/bin/sh|500|',
      '/bin/sh|1100|',
      '/usr/sbin/depmod|400|',
      'config(acme-test)|10000008|2.4.1-3.el9',
      'kernel|c|5.14.0',
      'rpmlib(CompressedFileNames)|100000a|3.0.4-1',
      'rpmlib(FileDigests)|100000a|4.6.0-1',
      'rpmlib(PayloadFilesHavePrefix)|100000a|4.0-1',
      'rpmlib(PayloadIsXz)|100000a|5.2-1',
      'rpmlib(ScriptletInterpreterArgs)|100000a|4.0.3-1',
    ]);
    expect(q(file, '--conflicts').trim()).toBe('acme-old < 1:2.0');
    expect(q(file, '--obsoletes').trim()).toBe('acme-legacy');
  });

  test('rpm -qlvp shows modes, owners, sizes, mtimes and link targets; flags mark config, doc and ghost', () => {
    const lines = q(file, '-lv').trim().split('\n').map((l) => l.split(/\s+/).filter((w) => !/^(Nov|14|2023)$/.test(w)).join(' '));
    expect(lines).toEqual([
      '-rw-r--r-- 1 root root 12 /etc/acme/acme.conf',
      '-rw-r--r-- 1 root root 0 /etc/acme/empty',
      `drwxr-xr-x 2 root root 0 /lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet`,
      `-rw-r--r-- 1 root root ${statSync(KO).size} /lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet/acmenet.ko`,
      'lrwxrwxrwx 1 root root 9 /usr/bin/acme -> acme-tool',
      '-rwxr-xr-x 1 root root 20 /usr/bin/acme-tool',
      '-rw-r--r-- 1 root root 8 /usr/share/doc/acme-test/README',
      '-rw------- 1 root root 0 /var/log/acme.log',
    ]);
    expect(q(file, '--qf', '[%{FILENAMES} %{FILEFLAGS} %{FILEINODES} %{FILEMTIMES}\n]').trim().split('\n')).toEqual([
      `/etc/acme/acme.conf 17 1 ${EPOCH}`,
      `/etc/acme/empty 0 2 ${EPOCH}`,
      `/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet 0 3 ${EPOCH}`,
      `/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet/acmenet.ko 0 4 ${EPOCH}`,
      `/usr/bin/acme 0 5 ${EPOCH}`,
      `/usr/bin/acme-tool 0 6 ${EPOCH}`,
      `/usr/share/doc/acme-test/README 2 7 ${EPOCH}`,
      `/var/log/acme.log 64 8 ${EPOCH}`,
    ]);
    const sha = createHash('sha256').update(readFileSync(KO)).digest('hex');
    expect(q(file, '--qf', '[%{FILEDIGESTS}\n]')).toContain(`${sha}\n`);
  });

  test('rpm -qp --scripts and --changelog show the scriptlets with their interpreters, newest change first', () => {
    const scripts = q(file, '--scripts');
    expect(scripts).toContain('postinstall scriptlet (using /bin/sh):\necho post');
    expect(scripts).toContain('postuninstall scriptlet (using /bin/sh):\necho postun');
    expect(scripts).toContain('posttrans scriptlet (using /bin/sh -e):\ntrue');
    expect(q(file, '--qf', '[%{CHANGELOGTIME} %{CHANGELOGTEXT}\n]')).toBe('1695000000 - newer\n1690000000 - older\n');
  });

  test('rpm2cpio | cpio -t lists ./-prefixed names in header order, ghosts left out', () => {
    const cpio = execFileSync('rpm2cpio', [file]);
    const names = run('cpio', ['-t', '--quiet'], cpio).trim().split('\n');
    expect(names).toEqual([
      './etc/acme/acme.conf',
      './etc/acme/empty',
      './lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet',
      './lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet/acmenet.ko',
      './usr/bin/acme',
      './usr/bin/acme-tool',
      './usr/share/doc/acme-test/README',
    ]);
    expect(q(file, '--qf', '%{ARCHIVESIZE}')).toBe(String(cpio.length));
    expect(q(file, '--qf', '%{PAYLOADDIGESTALT}')).toBe(createHash('sha256').update(cpio).digest('hex'));
  });

  test('rpm -i --root installs the files with the right bytes and modes; rpm -V finds nothing to report', () => {
    const root = join(dir, 'root');
    mkdirSync(root);
    run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', file]);
    const ko = join(root, 'lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet/acmenet.ko');
    expect(readFileSync(ko).equals(readFileSync(KO))).toBe(true);
    expect(statSync(ko).mode & 0o7777).toBe(0o644);
    expect(statSync(join(root, 'usr/bin/acme-tool')).mode & 0o7777).toBe(0o755);
    expect(readFileSync(join(root, 'usr/bin/acme'), 'utf8')).toBe('#!/bin/sh\necho acme\n');
    expect(run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-qa']).trim()).toBe('acme-test-2.4.1-3.el9.x86_64');
    const verify = spawnSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-V', '--nodeps', 'acme-test'], { encoding: 'utf8' });
    expect([verify.status, verify.stdout]).toEqual([0, '']);
  });

  test("dudkit's own reader reads back the files, the dependencies, and every digest (header, MD5, payload, payload ALT, per file) as OK", async () => {
    const pkgRead = await openRpm(file);
    expect(pkgRead.files.map((f) => `${f.path} ${f.type} ${f.size} ${f.inode}${f.ghost ? ' ghost' : ''}${f.config ? ' config' : ''}`)).toEqual([
      '/etc/acme/acme.conf file 12 1 config',
      '/etc/acme/empty file 0 2',
      '/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet dir 0 3',
      `/lib/modules/5.14.0-362.8.1.el9_3.x86_64/extra/acmenet/acmenet.ko file ${statSync(KO).size} 4`,
      '/usr/bin/acme symlink 9 5',
      '/usr/bin/acme-tool file 20 6',
      '/usr/share/doc/acme-test/README file 8 7',
      '/var/log/acme.log file 0 8 ghost',
    ]);
    expect(pkgRead.isSource).toBe(false);
    expect(pkgRead.provides.map(formatDependency)).toContain('kernel-modules >= 5.14.0-362.el9.x86_64');
    const checks = await verifyDigests(pkgRead, { payload: true });
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  test('the same description and SOURCE_DATE_EPOCH give the same bytes', async () => {
    const again = await save(await pkg(), {}, 'again.rpm');
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
    const later = await save(await pkg({ buildTime: EPOCH + 1 }), {}, 'later.rpm');
    expect(readFileSync(later).equals(readFileSync(file))).toBe(false);
  });
});

describe('RPM writer variants', () => {
  test('gzip payload: rpm -K OK, PAYLOADCOMPRESSOR gzip level 9, no rpmlib(PayloadIsXz)', async () => {
    const file = await save(await pkg(), { compressor: 'gzip' }, 'gzip.rpm');
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
    expect(q(file, '--qf', '%{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS}')).toBe('gzip 9');
    expect(q(file, '--requires')).not.toContain('PayloadIsXz');
    const cpio = execFileSync('rpm2cpio', [file]);
    expect(run('cpio', ['-t', '--quiet'], cpio)).toContain('./usr/bin/acme-tool');
  });

  test('MD5 file digests for rpm < 4.6 (gzip): rpm -K OK, no FILEDIGESTALGO, no rpmlib(FileDigests), install verifies', async () => {
    const file = await save(await pkg(), { compressor: 'gzip', fileDigest: 'md5' }, 'md5.rpm');
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
    expect(q(file, '--qf', '%{FILEDIGESTALGO}')).toBe('(none)');
    expect(q(file, '--requires')).not.toContain('FileDigests');
    const md5 = createHash('md5').update(readFileSync(KO)).digest('hex');
    expect(q(file, '--qf', '[%{FILEDIGESTS}\n]')).toContain(`${md5}\n`);
    const root = join(dir, 'root-md5');
    mkdirSync(root);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', file]);
    const verify = spawnSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-V', '--nodeps', 'acme-test'], { encoding: 'utf8' });
    expect([verify.status, verify.stdout]).toEqual([0, '']);
  });

  test('a noarch package with an epoch and no scriptlets: rpm -qp shows the epoch, no ISA provide, no /bin/sh', async () => {
    const file = await save(await pkg({ arch: 'noarch', epoch: 2, scripts: {}, requires: [], conflicts: [], obsoletes: [], provides: [] }), {}, 'noarch.rpm');
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
    expect(q(file, '--qf', '%{EPOCH} %{ARCH}')).toBe('2 noarch');
    expect(q(file, '--provides').trim().split('\n')).toEqual(['acme-test = 2:2.4.1-3.el9', 'config(acme-test) = 2:2.4.1-3.el9']);
    expect(q(file, '--requires')).not.toContain('/bin/sh');
  });

  test('a package without files: rpm -K OK, rpm -qlp lists nothing, rpm -i registers it', async () => {
    const file = await save(await pkg({ files: [], scripts: {}, changelog: [] }), {}, 'empty.rpm');
    expect(run('rpm', ['-K', '--nosignature', file])).toMatch(/digests OK/);
    expect(q(file, '-l').trim()).toBe('(contains no files)');
    const root = join(dir, 'root-empty');
    mkdirSync(root);
    run('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', file]);
    expect(run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-qa']).trim()).toBe('acme-test-2.4.1-3.el9.x86_64');
  });

  test('signing hook: receives the exact main header, its entries land in the signature header (rpm -Kv still OK)', async () => {
    let seen: Uint8Array | undefined;
    const built = await writeRpm(await pkg(), scratch, {
      sign: async (header) => {
        seen = header;
        return [];
      },
    });
    const bytes = Buffer.from(await readSource(built));
    expect(bytes.subarray(built.headerRange.start, built.headerRange.end).equals(seen!)).toBe(true);
    const file = join(dir, 'hook.rpm');
    writeFileSync(file, bytes);
    expect(run('rpm', ['-Kv', '--nosignature', file])).toContain('Header SHA256 digest: OK');
    expect(run('rpm', ['-qp', '--nosignature', '--qf', '%{NAME}', file])).toBe('acme-test');
    await expect(writeRpm(await pkg(), scratch, { sign: async () => [{ tag: 1004, type: 7, value: new Uint8Array(16) }] })).rejects.toThrow(/computes itself/);
  });
});

describe('RPM writer signing', () => {
  test('a gpg detached signature over the main header, added through the hook, verifies with rpmkeys -K', async () => {
    const home = join(dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    const env = { ...process.env, GNUPGHOME: home };
    execFileSync('gpg', ['--batch', '--quiet', '--passphrase', '', '--quick-gen-key', 'dudkit test <test@example.com>', 'rsa2048', 'sign', 'never'], { env, stdio: 'pipe' });
    writeFileSync(join(home, 'key.asc'), execFileSync('gpg', ['--armor', '--export'], { env }));
    const plain = await writeRpm(await pkg(), scratch);
    const built = await writeRpm(await pkg(), scratch, {
      sign: async (header) => [{ tag: 268, type: 7, value: execFileSync('gpg', ['--batch', '--detach-sign', '--no-armor', '--digest-algo', 'sha256'], { env, input: header }) }],
    });
    // the signature takes its room from the reserved space: same layout as unsigned
    expect(built.size).toBe(plain.size);
    const file = join(dir, 'signed.rpm');
    writeFileSync(file, await readSource(built));
    const root = join(dir, 'root-keys');
    mkdirSync(root);
    run('rpmkeys', ['--root', root, '--dbpath', '/var/lib/rpm', '--import', join(home, 'key.asc')]);
    const out = run('rpmkeys', ['--root', root, '--dbpath', '/var/lib/rpm', '-Kv', file]);
    expect(out).toMatch(/Header V4 RSA\/SHA256 Signature, key ID [0-9a-f]+: OK/);
    expect(out).not.toMatch(/BAD|NOKEY|NOT OK/);
    expect(run('rpmkeys', ['--root', root, '--dbpath', '/var/lib/rpm', '-K', file])).toMatch(/digests signatures OK/);
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env });
  });
});

describe('RPM writer refusals', () => {
  const huge = (size: number): Source => ({
    size,
    origin: 'huge.bin',
    open() {
      throw new Error('must not be read');
    },
  });
  const withFile = async (size: number): Promise<RpmPackage> => pkg({ files: [{ type: 'file', path: '/opt/huge.bin', content: huge(size) }] });

  test('a file of 4 GiB - 1 bytes or more is refused from its declared size, before any read', async () => {
    await expect(writeRpm(await withFile(0xffffffff), scratch)).rejects.toThrow(UserError);
    await expect(writeRpm(await withFile(2 ** 32), scratch)).rejects.toThrow(/huge\.bin.*4 GiB/);
  });

  test('files totalling 4 GiB - 1 bytes or more are refused, and a payload that would reach it too', async () => {
    const p = await pkg({ files: [{ type: 'file', path: '/opt/a', content: huge(2 ** 31) }, { type: 'file', path: '/opt/b', content: huge(2 ** 31) }] });
    await expect(writeRpm(p, scratch)).rejects.toThrow(/total .* 4 GiB/);
    const q2 = await pkg({ files: [{ type: 'file', path: '/opt/a', content: huge(0xffffffff - 200) }] });
    await expect(writeRpm(q2, scratch)).rejects.toThrow(/payload would be .* 4 GiB/);
  });

  test('bad descriptions are one-line user errors naming the package file', async () => {
    const cases: [Partial<RpmPackage>, RegExp][] = [
      [{ version: '1-2' }, /bad version/],
      [{ name: 'a b' }, /bad package name/],
      [{ summary: 'two\nlines' }, /one non-empty line/],
      [{ provides: [{ name: 'x', op: '=' }] }, /operator and a version/],
      [{ requires: [{ name: '(a or b)' }] }, /rich/],
      [{ files: [{ type: 'file', path: 'relative', content: bytesSource('') }] }, /absolute/],
      [{ files: [{ type: 'file', path: '/a/../b', content: bytesSource('') }] }, /component/],
      [{ files: [{ type: 'dir', path: '/a' }, { type: 'dir', path: '/a' }] }, /twice/],
      [{ files: [{ type: 'symlink', path: '/a', target: 'b' }, { type: 'dir', path: '/a/c' }] }, /below \/a, which is not a directory/],
      [{ scripts: { post: { body: 'x', interpreter: 'sh' } } }, /absolute path/],
    ];
    for (const [over, re] of cases) {
      const err = await writeRpm(await pkg(over), scratch).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).toMatch(/\.rpm: /);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
