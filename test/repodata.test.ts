import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import {
  buildRepodata, checkRepository, compsXml, parseFilelists, parseOther, parsePrimary, parseRepomd, readMetadataBytes, readRepoPackage, repodataDir, repomdXml,
  type RepodataFile, type RepodataOptions, type RepoInput,
} from '../src/formats/repodata/index.js';
import { encodeHeader } from '../src/formats/rpm/header.js';
import { RPM_TYPE, SIGTAG, TAG } from '../src/formats/rpm/tags.js';
import { satisfies } from '../src/formats/rpm/vercmp.js';
import { withHashLanes } from '../src/emit/hash-pool.js';
import { silentProgress } from '../src/progress.js';
import type { HashingScope } from '../src/tree/hashing.js';
import { Scratch } from '../src/tree/scratch.js';
import { bytesSource, fileSource, readSource } from '../src/tree/source.js';
import { tempDir } from './helpers/tmp.js';

const EPOCH = 1700000000;
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'rpms');
const dir = tempDir('dudkit-repodata-');

/** Packages that exercise createrepo_c's corner cases (escaping, requires filter, changelogs). */
const EDGE_SPECS: Record<string, string> = {
  edge: `Name: edge
Version: 1.0~rc1
Release: 2^git3
Epoch: 3
Summary: Edge <cases> & "quotes" — ünïcode\ttab
License: MIT & BSD
Group: Applications/<Odd>
BuildArch: noarch
AutoReqProv: no
Provides: selfprov = 1
Provides: /usr/bin/virtual
Provides: plain
Requires: selfprov >= 2
Requires: selfprov
Requires: /usr/bin/edge-tool
Requires: /usr/share/edge/data
Requires: /usr/bin/virtual
Requires: dup >= 1
Requires: dup >= 1
Requires: libc.so.6(GLIBC_2.2.5)(64bit)
Requires: libc.so.6(GLIBC_2.14)(64bit)
Requires: libc.so.6()(64bit)
Requires: libc.so.6(GLIBC_2.3)(64bit)
Requires(pre): prereq-pkg
Requires(post): post-pkg >= 0:1.0-1
Requires(preun): preun-pkg
Requires: epochdep >= 2:3.4-5.el9
Requires: tilde < 1.0~beta
Conflicts: conf < 1
Obsoletes: obs <= 0.9
Suggests: sugg
Enhances: enh = 2
Supplements: supp
Recommends: reco > 1

%description
Line one with <tags> & ampersands "quoted" 'apos'.
\tTabbed line, ünïcode ✓ 😀.
Last line.

%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/opt/foobin %{buildroot}/etc/edge %{buildroot}/usr/share/edge %{buildroot}/usr/lib
echo a > %{buildroot}/usr/bin/edge-tool
echo b > %{buildroot}/opt/foobin/x
echo c > %{buildroot}/etc/edge/edge.conf
echo d > %{buildroot}/usr/share/edge/data
echo e > "%{buildroot}/usr/share/edge/we<ir>d & name ü"
echo f > %{buildroot}/usr/lib/sendmail

%files
/usr/bin/edge-tool
/opt/foobin/x
%config /etc/edge/edge.conf
%dir /etc/edge
/usr/share/edge/data
"/usr/share/edge/we<ir>d & name ü"
/usr/lib/sendmail
%ghost %dir /var/lib/edge
%ghost /var/log/edge.log

%changelog
${[12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
  .map((n) => {
    // runs of equal dates (12-10 and 6-5) exercise createrepo_c's date bumping
    const day = { 12: 14, 11: 14, 10: 14, 6: 10, 5: 10 }[n] ?? n + 1;
    const author = n === 12 ? 'Dev Elöper <dev@example.com>    ' : 'Dev <dev@example.com>';
    const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(Date.UTC(2023, 10, day)).getUTCDay()];
    return `* ${weekday} Nov ${String(day).padStart(2, '0')} 2023 ${author} - 1.0-${n}\n- entry ${n} <&>\n`;
  })
  .join('\n')}`,
  selfreq: `Name: selfreq
Version: 1
Release: 1
Summary: self-satisfied requirements
License: MIT
BuildArch: noarch
AutoReqProv: no
Provides: plain
Provides: /opt/virt2
Provides: pv = 1
Provides: foo = 1
Provides: foo = 2
Provides: pz = 0:1
Requires(pre): plain
Requires: /opt/virt2
Requires: pv = 1
Requires: pv
Requires: foo = 1
Requires: foo = 2
Requires: pz = 1
Requires: /etc/selfreq
Requires: /var/log/selfreq.log
Requires: selfreq = 1-1
Requires: libc.so.6(GLIBC_2.2.5)
Requires(pre): libc.so.6
Requires: libc.so.6(GLIBC_2.3)
%description
d
%install
mkdir -p %{buildroot}/etc/selfreq
%files
%dir /etc/selfreq
%ghost /var/log/selfreq.log
`,
};

/**
 * Fixture RPMs plus the edge packages; the firmware goes to `Packages/` and the signed kmod to
 * `signed/` (same base name as its unsigned twin: createrepo_c's tie-break). Every mtime = EPOCH.
 */
function makeRepo(into: string, rpms: string[]): void {
  for (const rpm of rpms) {
    const sub = rpm.includes('/signed/') ? 'signed' : basename(rpm).startsWith('acme-acmenet-firmware') && rpm.endsWith('noarch.rpm') ? 'Packages' : '';
    mkdirSync(join(into, sub), { recursive: true });
    const target = join(into, sub, basename(rpm));
    copyFileSync(rpm, target);
    utimesSync(target, EPOCH, EPOCH);
  }
}

function listRpms(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.rpm')).sort();
}

async function writeRepodata(root: string, opts: Partial<RepodataOptions> = {}, hashing?: HashingScope): Promise<RepodataFile[]> {
  const inputs: RepoInput[] = [];
  for (const href of listRpms(root)) inputs.push({ href, source: await fileSource(join(root, href)) });
  return Scratch.with(async (scratch) => {
    const files = await buildRepodata(inputs, { epoch: EPOCH, ...opts }, scratch, hashing);
    mkdirSync(join(root, 'repodata'), { recursive: true });
    for (const f of files) writeFileSync(join(root, f.path), await readSource(f.source));
    return files;
  });
}

function createrepo(root: string, ...extra: string[]): void {
  execFileSync('createrepo_c', ['-q', '--no-database', '--general-compress-type=gz', '--revision', String(EPOCH), '--set-timestamp-to-revision', ...extra, root]);
}

/** repomd.xml of a repository folder, parsed, and each data file's uncompressed XML. */
function readRepo(root: string): { repomd: ReturnType<typeof parseRepomd>; xml: Record<string, string> } {
  const repomd = parseRepomd(readFileSync(join(root, 'repodata', 'repomd.xml')));
  const xml: Record<string, string> = {};
  for (const d of repomd.data) {
    const raw = readFileSync(join(root, d.href));
    xml[d.type] = (d.href.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  }
  return { repomd, xml };
}

function dnf(root: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('dnf', [
    '-q', '--setopt=reposdir=/dev/null', `--installroot=${join(dir, 'dnfroot')}`, '--releasever=9',
    `--repofrompath=r,file://${root}`, '--repo=r', '--setopt=r.gpgcheck=0', ...args,
  ], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The build's hash pool with `lanes` workers; `warm`: each has hashed once before the first
 * package, so every package is read and hashed on a worker (else the first ones are hashed here
 * while the workers start); `widenFrom`: one lane, the others started by the first file that large.
 */
function poolScope(lanes: number, warm: boolean, widenFrom?: number): HashingScope {
  return (algorithm, _total, fn) =>
    withHashLanes(algorithm, lanes, async (hashing) => {
      if (warm) await Promise.all(Array.from({ length: lanes }, () => hashing.hash(async (h) => h.update(new Uint8Array(1)))));
      return fn(hashing);
    }, widenFrom);
}

let rpms: string[];
const ours = join(dir, 'ours');
const theirs = join(dir, 'theirs');

beforeAll(() => {
  const build = join(dir, 'build');
  mkdirSync(join(build, 'out'), { recursive: true });
  for (const [name, spec] of Object.entries(EDGE_SPECS)) {
    writeFileSync(join(build, `${name}.spec`), spec);
    execFileSync('rpmbuild', [
      '-bb', '--quiet', '--define', `_topdir ${build}/top`, '--define', `_rpmdir ${build}/out`, '--define', '_buildhost edge',
      '--define', 'use_source_date_epoch_as_buildtime 1', '--define', 'clamp_mtime_to_source_date_epoch 1',
      '--define', '_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm', join(build, `${name}.spec`),
    ], { env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), TZ: 'UTC', LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] });
  }
  rpms = [...listRpms(FIXTURES).map((f) => join(FIXTURES, f)), ...listRpms(join(build, 'out')).map((f) => join(build, 'out', f))];
  makeRepo(ours, rpms);
  makeRepo(theirs, rpms);
  createrepo(theirs);
}, 60_000);

describe('repodata writer', () => {
  let files: RepodataFile[];
  beforeAll(async () => {
    files = await writeRepodata(ours);
  });

  it('createrepo_c writes byte-identical primary, filelists and other XML (same open-checksums)', () => {
    const a = readRepo(ours);
    const b = readRepo(theirs);
    for (const type of ['primary', 'filelists', 'other']) expect(a.xml[type], type).toBe(b.xml[type]);
    const open = (r: typeof a): (string | undefined)[] => r.repomd.data.map((d) => `${d.type} ${d.openChecksum?.value} ${d.openSize}`);
    expect(open(a)).toEqual(open(b));
    expect(a.repomd.data.map((d) => d.type)).toEqual(['primary', 'filelists', 'other']);
  });

  it('parsed primary, filelists and other agree with createrepo_c: packages, checksums, sizes, header ranges, deps, files', () => {
    const a = readRepo(ours).xml;
    const b = readRepo(theirs).xml;
    const primary = parsePrimary(a.primary!);
    expect(primary).toEqual(parsePrimary(b.primary!));
    expect(parseFilelists(a.filelists!)).toEqual(parseFilelists(b.filelists!));
    expect(parseOther(a.other!)).toEqual(parseOther(b.other!));
    // and they are the real values
    expect(primary.map((p) => p.href)).toEqual(listRpms(ours).sort((x, y) => Buffer.compare(Buffer.from(basename(x)), Buffer.from(basename(y)))));
    for (const p of primary) {
      const bytes = readFileSync(join(ours, p.href));
      expect(p.checksum.value).toBe(execFileSync('sha256sum', [join(ours, p.href)], { encoding: 'utf8' }).slice(0, 64));
      expect(p.size.package).toBe(bytes.length);
      expect(p.time.file).toBe(EPOCH);
    }
    const edge = primary.find((p) => p.name === 'edge')!;
    expect(edge.summary).toBe('Edge <cases> & "quotes" — ünïcode\ttab');
    expect(edge.deps.requires.at(-1)).toEqual({ name: 'libc.so.6(GLIBC_2.14)(64bit)' });
  });

  it('rpm -qp agrees with the parsed provides and requires of every binary package', () => {
    const primary = parsePrimary(readRepo(ours).xml.primary!);
    for (const p of primary.filter((x) => x.arch !== 'src' && x.name.startsWith('kmod'))) {
      const q = (what: string): string[] => execFileSync('rpm', ['-qp', '--nosignature', what, join(ours, p.href)], { encoding: 'utf8' }).trim().split('\n');
      const fmt = (d: { name: string; flags?: string; epoch?: string; ver?: string; rel?: string }): string => {
        if (!d.flags) return d.name;
        const op = { LT: '<', GT: '>', EQ: '=', LE: '<=', GE: '>=' }[d.flags];
        return `${d.name} ${op} ${d.epoch !== '0' ? `${d.epoch}:` : ''}${d.ver}${d.rel !== undefined ? `-${d.rel}` : ''}`;
      };
      expect(p.deps.provides.map(fmt).sort()).toEqual(q('--provides').sort());
      // repodata drops rpmlib(); rpm lists /bin/sh once per scriptlet, repodata once per (name, pre)
      const unique = (l: string[]): string[] => [...new Set(l)].sort();
      expect(unique(p.deps.requires.map(fmt))).toEqual(unique(q('--requires').filter((r) => !r.startsWith('rpmlib('))));
    }
  });

  it('xmllint --noout accepts every XML file and gzip -t every compressed one', () => {
    for (const f of files) {
      const path = join(ours, f.path);
      if (f.path.endsWith('.gz')) {
        execFileSync('gzip', ['-t', path]);
        execFileSync('sh', ['-c', 'zcat "$1" | xmllint --noout -', 'sh', path]);
      } else {
        execFileSync('xmllint', ['--noout', path]);
      }
    }
    // gzip header: mtime 0, OS 3 (Unix)
    const gz = readFileSync(join(ours, files.find((f) => f.path.endsWith('primary.xml.gz'))!.path));
    expect([...gz.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, gz[8], 3]);
  });

  it('names metadata files <checksum>-<type>.xml.gz with the checksums and sizes repomd.xml gives', () => {
    const { repomd } = readRepo(ours);
    expect(repomd.revision).toBe(String(EPOCH));
    for (const d of repomd.data) {
      const bytes = readFileSync(join(ours, d.href));
      expect(d.href).toBe(`repodata/${d.checksum.value}-${d.type}.xml.gz`);
      expect(d.checksum.value).toBe(execFileSync('sha256sum', [join(ours, d.href)], { encoding: 'utf8' }).slice(0, 64));
      expect(d.size).toBe(bytes.length);
      expect(d.timestamp).toBe(EPOCH);
    }
    expect(files.map((f) => f.path).sort()).toEqual(['repodata/repomd.xml', ...repomd.data.map((d) => d.href)].sort());
  });

  it("repomd.xml has createrepo_c's exact layout", () => {
    const theirsXml = readFileSync(join(theirs, 'repodata', 'repomd.xml'), 'utf8');
    const parsed = parseRepomd(theirsXml);
    const records = parsed.data.map((d) => ({
      type: d.type, checksum: d.checksum.value, openChecksum: d.openChecksum?.value, href: d.href, timestamp: d.timestamp!, size: d.size!, openSize: d.openSize,
    }));
    expect(repomdXml(parsed.revision, records, 'sha256')).toBe(theirsXml);
  });

  it('dnf repoquery lists every package with its location', () => {
    const r = dnf(ours, 'repoquery', '--qf', '%{name}-%{evr}.%{arch} %{location}');
    expect(r.stderr).toBe('');
    const want = parsePrimary(readRepo(ours).xml.primary!).map((p) => `${p.name}-${p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch} ${p.href}`);
    expect(r.stdout.trim().split('\n').sort()).toEqual(want.sort());
    expect(want).toHaveLength(listRpms(ours).length);
  });

  it("dnf repoquery --whatprovides 'kernel-modules = K' finds the kmods that satisfies() predicts", () => {
    const primary = parsePrimary(readRepo(ours).xml.primary!);
    const nevra = (p: (typeof primary)[number]): string => `${p.name}-${p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch}`;
    const kernels = ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-427.13.1.el9_4.x86_64', '4.18.0-513.5.1.el8_9.x86_64', '4.18.0-477.10.1.el8_8.x86_64', '6.1.0-56'];
    for (const k of kernels) {
      const r = dnf(ours, 'repoquery', '--qf', '%{name}-%{evr}.%{arch}', '--whatprovides', `kernel-modules = ${k}`);
      const got = r.stdout.trim().split('\n').filter(Boolean).sort();
      const predicted = primary
        .filter((p) => p.deps.provides.some((d) => satisfies(
          { name: d.name, op: d.flags ? ({ LT: '<', GT: '>', EQ: '=', LE: '<=', GE: '>=' } as const)[d.flags] : undefined, evr: d.flags ? `${d.epoch}:${d.ver}${d.rel !== undefined ? `-${d.rel}` : ''}` : '' },
          { name: 'kernel-modules', op: '=', evr: k },
        )))
        .map(nevra);
      // the signed twin has the same NEVRA as its unsigned copy: dnf prints it once
      expect(got, k).toEqual([...new Set(predicted)].sort());
    }
    // of the el9 kmods (`=`), exactly the one for that installer kernel; the el8 one says `>=`
    const releases = dnf(ours, 'repoquery', '--qf', '%{release}', '--whatprovides', 'kernel-modules = 5.14.0-362.8.1.el9_3.x86_64').stdout.trim().split('\n');
    expect(releases.sort()).toEqual(['3.el8_9', '3.el9_3']);
  });

  it('dnf refuses the repository when one byte of primary changes (checksum mismatch)', () => {
    const broken = join(dir, 'broken');
    makeRepo(broken, rpms);
    mkdirSync(join(broken, 'repodata'));
    for (const f of readdirSync(join(ours, 'repodata'))) copyFileSync(join(ours, 'repodata', f), join(broken, 'repodata', f));
    const primary = readRepo(broken).repomd.data.find((d) => d.type === 'primary')!.href;
    const bytes = readFileSync(join(broken, primary));
    bytes[bytes.length - 5] ^= 0xff;
    writeFileSync(join(broken, primary), bytes);
    expect(dnf(broken, '--setopt=skip_if_unavailable=False', 'repoquery').status).not.toBe(0);
    expect(dnf(ours, '--setopt=skip_if_unavailable=False', 'repoquery').status).toBe(0);
  });

  it('createrepo_c --update on our repository keeps every XML byte; modifyrepo_c adds a group dnf reads', () => {
    const copy = join(dir, 'update');
    makeRepo(copy, rpms);
    mkdirSync(join(copy, 'repodata'));
    for (const f of readdirSync(join(ours, 'repodata'))) copyFileSync(join(ours, 'repodata', f), join(copy, 'repodata', f));
    createrepo(copy, '--update');
    expect(readRepo(copy).xml).toEqual(readRepo(ours).xml);

    const groupFile = join(dir, 'modify-groups.xml');
    writeFileSync(groupFile, compsXml([{ id: 'drivers', name: 'Drivers', packages: [{ name: 'kmod-acme-acmenet' }] }]));
    execFileSync('modifyrepo_c', ['--mdtype=group', groupFile, join(copy, 'repodata')]);
    expect(readRepo(copy).repomd.data.map((d) => d.type)).toContain('group');
    expect(dnf(copy, 'group', 'list', '--hidden').stdout).toMatch(/Drivers/);
  });

  it('hashed on worker threads (1 and 3 lanes of the build\'s hash pool, workers starting or up, a second lane started by a large file), the files are byte-identical to those hashed inline, which createrepo_c matched', async () => {
    const largest = Math.max(...rpms.map((r) => statSync(r).size));
    for (const [lanes, warm, widenFrom] of [[1, false], [1, true], [3, true], [2, false, largest]] as const) {
      const pooled = join(dir, `pooled-${lanes}-${warm}-${widenFrom}`);
      makeRepo(pooled, rpms);
      const second = await writeRepodata(pooled, {}, poolScope(lanes, warm, widenFrom));
      expect(second.map((f) => f.path)).toEqual(files.map((f) => f.path));
      for (const f of files) expect(readFileSync(join(pooled, f.path)).equals(readFileSync(join(ours, f.path))), `${lanes} lanes: ${f.path}`).toBe(true);
    }
  });

  it('a package file that shrank after it was planned fails on a worker lane as it does inline, naming the file; the lane then hashes the next file', async () => {
    const shrunk = join(dir, 'shrunk.rpm');
    copyFileSync(rpms.find((r) => r.includes('el9_3'))!, shrunk);
    const inputs = [{ href: 'shrunk.rpm', source: await fileSource(shrunk) }];
    writeFileSync(shrunk, readFileSync(shrunk).subarray(0, 5000));
    for (const hashing of [undefined, poolScope(1, true)]) {
      await expect(Scratch.with((s) => buildRepodata(inputs, { epoch: EPOCH }, s, hashing))).rejects.toThrow(`${shrunk}: changed while being read (expected`);
    }
    // the lane that met the failure hashes the next file (a file's failure is not the worker's)
    const good = rpms.find((r) => r.includes('el9_3'))!;
    await poolScope(1, true)('sha256', 0, async (hashing) => {
      await expect(hashing.hashFile!(shrunk, 0, 9000, 16)).rejects.toThrow(/changed while being read/);
      const [head, digest] = await hashing.hashFile!(good, 0, statSync(good).size, 16);
      expect(Buffer.from(head).toString('hex')).toBe(readFileSync(good).subarray(0, 16).toString('hex'));
      expect(digest).toBe(execFileSync('sha256sum', [good], { encoding: 'utf8' }).split(' ')[0]);
    });
  });

  it('a package that fails on a worker lane is reported like inline, and the pool hashes the packages after it', async () => {
    const rpm = readFileSync(rpms.find((r) => r.includes('el9_3'))!);
    const inputs = [{ href: 'a.rpm', source: bytesSource(rpm, 'a.rpm') }, { href: 'b.rpm', source: bytesSource(rpm.subarray(0, 3000), 'b.rpm') }];
    await withHashLanes('sha256', 1, async (hashing) => {
      await expect(Scratch.with((s) => buildRepodata(inputs, { epoch: EPOCH }, s, (_a, _t, fn) => fn(hashing)))).rejects.toThrow(/^b\.rpm: .*truncated/);
      const [, digest] = await hashing.hash(async (h) => h.update(rpm));
      expect(digest).toBe(createHash('sha256').update(rpm).digest('hex'));
    });
  });

  it('is deterministic: the same packages and epoch give the same bytes', async () => {
    const again = join(dir, 'again');
    makeRepo(again, rpms);
    const second = await writeRepodata(again);
    expect(second.map((f) => f.path)).toEqual(files.map((f) => f.path));
    for (const f of files) expect(readFileSync(join(again, f.path)).equals(readFileSync(join(ours, f.path))), f.path).toBe(true);
  });
});

describe('readRepoPackage read buffers', () => {
  it('headers spread over many small reads of one reused buffer decode as from one read, with the sha256sum checksum', async () => {
    const path = join(FIXTURES, 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm');
    const whole = await readRepoPackage(await fileSource(path), 'sha256');
    // 100 bytes: the lead, each header and the payload each take many reads into the same buffer
    const pieces = await readRepoPackage(await fileSource(path), 'sha256', undefined, new Uint8Array(100));
    expect(pieces).toEqual(whole);
    expect(whole.checksum).toBe(execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]);
  });
});

describe('checkRepository and dudkit inspect (what verify relies on)', () => {
  const lookupIn = (root: string) => async (path: string) => {
    try {
      return await fileSource(join(root, path));
    } catch {
      return undefined;
    }
  };

  it("finds no problem in our repository or createrepo_c's, and lists its packages", async () => {
    for (const root of [ours, theirs]) {
      const c = await checkRepository(lookupIn(root), listRpms(root));
      expect(c.problems).toEqual([]);
      expect(c.packages).toHaveLength(listRpms(root).length);
    }
  });

  it('reports a corrupted metadata file, a stale package, and RPMs metadata does not describe', async () => {
    const root = join(dir, 'stale');
    makeRepo(root, rpms.filter((r) => r.includes('kmod-acme') && !r.includes('/signed/')));
    await writeRepodata(root);
    const { repomd } = readRepo(root);
    const other = repomd.data.find((d) => d.type === 'other')!.href;
    writeFileSync(join(root, other), Buffer.concat([readFileSync(join(root, other)), Buffer.from('x')]));
    // a package changed after the metadata was made (e.g. signed later), and one added
    copyFileSync(rpms.find((r) => r.includes('/signed/'))!, join(root, 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'));
    copyFileSync(rpms.find((r) => r.endsWith('noarch.rpm') && r.includes('firmware'))!, join(root, 'extra.rpm'));
    const c = await checkRepository(lookupIn(root), listRpms(root));
    expect(c.problems).toEqual([
      expect.stringMatching(new RegExp(`^${other}: \\d+ bytes, repomd.xml says \\d+$`)),
      `${other}: checksum doesn't match repomd.xml (sha256 ${execFileSync('sha256sum', [join(root, other)], { encoding: 'utf8' }).slice(0, 64)})`,
      expect.stringMatching(new RegExp(`^${other}: corrupt gzip data`)),
      'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm: checksum doesn\'t match primary.xml (stale repodata?)',
      'extra.rpm is not described by primary.xml',
    ]);
  });

  it('dudkit inspect DIR --json shows the repository (built CLI)', () => {
    const cli = join(import.meta.dirname, '..', 'dist', 'src', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'inspect', ours, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.kind).toBe('repository');
    expect(doc.problems).toEqual([]);
    expect(doc.packages.find((p: { href: string }) => p.href === 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm').kernelModules).toEqual(['EQ 5.14.0-362.8.1.el9_3.x86_64']);
    const text = spawnSync(process.execPath, [cli, 'inspect', join(ours, 'repodata', 'repomd.xml')], { encoding: 'utf8' });
    expect(text.stdout).toMatch(/no problems found/);
  });
});

describe('repodata options', () => {
  it('groups: createrepo_c -g stores the same group file; dnf group list shows the groups', async () => {
    const root = join(dir, 'groups');
    makeRepo(root, rpms.filter((r) => r.includes('kmod-acme')));
    const groups = [
      { id: 'update', name: 'Update', description: 'Update <acme> & co', packages: [{ name: 'kmod-acme-acmenet' }] },
      { id: 'drivers', name: 'Drivers', description: 'Driver packages', packages: [{ name: 'kmod-acme-acmenet', type: 'default' as const }] },
    ];
    await writeRepodata(root, { groups });
    const a = readRepo(root);
    expect(a.repomd.data.map((d) => d.type)).toEqual(['primary', 'filelists', 'other', 'group', 'group_gz']);
    const group = a.repomd.data.find((d) => d.type === 'group')!;
    const groupGz = a.repomd.data.find((d) => d.type === 'group_gz')!;
    expect(group.openChecksum).toBeUndefined();
    expect(groupGz.openChecksum?.value).toBe(group.checksum.value);
    expect(group.href).toBe(`repodata/${group.checksum.value}-groups.xml`);
    expect(groupGz.href).toBe(`repodata/${groupGz.checksum.value}-groups.xml.gz`);
    execFileSync('xmllint', ['--noout', join(root, group.href)]);

    const ref = join(dir, 'groups-ref');
    makeRepo(ref, rpms.filter((r) => r.includes('kmod-acme')));
    const groupFile = join(dir, 'groups.xml');
    copyFileSync(join(root, group.href), groupFile);
    createrepo(ref, '-g', groupFile);
    const b = readRepo(ref);
    const pick = (r: typeof a, t: string): unknown => {
      const d = r.repomd.data.find((x) => x.type === t)!;
      return { checksum: d.type === 'group' ? d.checksum.value : d.openChecksum?.value, openSize: d.openSize ?? d.size };
    };
    expect(pick(a, 'group')).toEqual(pick(b, 'group'));
    expect(pick(a, 'group_gz')).toEqual(pick(b, 'group_gz'));
    expect(a.xml.primary).toBe(b.xml.primary);

    const list = dnf(root, 'group', 'list', '-v', '--hidden');
    expect(list.stdout).toMatch(/Update \(update\)/);
    expect(list.stdout).toMatch(/Drivers \(drivers\)/);
    const info = dnf(root, 'group', 'info', 'drivers');
    expect(info.stdout).toMatch(/Default Packages:\s+kmod-acme-acmenet/);
  });

  it('sha1 (RHEL 5 yum): the same open-checksums as createrepo_c -s sha1', async () => {
    const root = join(dir, 'sha1');
    const ref = join(dir, 'sha1-ref');
    const some = rpms.filter((r) => r.includes('kmod-acme'));
    makeRepo(root, some);
    makeRepo(ref, some);
    await writeRepodata(root, { checksum: 'sha1' });
    createrepo(ref, '-s', 'sha1');
    const a = readRepo(root);
    const b = readRepo(ref);
    expect(a.xml.primary).toBe(b.xml.primary);
    expect(a.repomd.data.map((d) => [d.checksum.type, d.openChecksum?.value])).toEqual(b.repomd.data.map((d) => [d.checksum.type, d.openChecksum?.value]));
    expect(parsePrimary(a.xml.primary!)[0]!.checksum.type).toBe('sha1');
  });

  it('plain names and the generated-folder adapter: files named relative to repodata/', async () => {
    const some = rpms.filter((r) => r.includes('kmod-acme') && !r.includes('/signed/'));
    const gen = repodataDir(some.map((r) => ({ path: `rpms/x86_64/${basename(r)}`, href: basename(r) })), { epoch: EPOCH, uniqueNames: false });
    expect(gen.deps).toEqual(some.map((r) => `rpms/x86_64/${basename(r)}`));
    const built = await Scratch.with(async (s) => {
      const out = await gen.build(await Promise.all(some.map((r) => fileSource(r))), s, { progress: silentProgress });
      return Promise.all(out.map(async (f) => ({ path: f.path, bytes: await readSource(f.source) })));
    });
    expect(built.map((f) => f.path)).toEqual(['repomd.xml', 'primary.xml.gz', 'filelists.xml.gz', 'other.xml.gz']);
    const repomd = parseRepomd(built[0]!.bytes);
    expect(repomd.data.map((d) => d.href)).toEqual(['repodata/primary.xml.gz', 'repodata/filelists.xml.gz', 'repodata/other.xml.gz']);
    const primary = parsePrimary(await readMetadataBytes(bytesSource(built[1]!.bytes)));
    expect(primary.map((p) => p.href)).toEqual(some.map((r) => basename(r)).sort());
  });

  it('signRepomd: repomd.xml.asc is a detached signature gpg --verify accepts for the repomd.xml bytes', async () => {
    const home = join(dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    const gpg = (args: string[], input?: Uint8Array): Buffer => execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { input, stdio: ['pipe', 'pipe', 'pipe'] });
    gpg(['--quick-gen-key', 'dudkit test <test@example.com>', 'ed25519', 'sign', 'never']);
    const root = join(dir, 'signed-repo');
    makeRepo(root, rpms.filter((r) => r.includes('kmod-acme') && !r.includes('/signed/')));
    const files = await writeRepodata(root, { signRepomd: async (bytes) => gpg(['--armor', '--detach-sign'], bytes) });
    expect(files.map((f) => f.path)).toContain('repodata/repomd.xml.asc');
    expect(readFileSync(join(root, 'repodata', 'repomd.xml.asc'), 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    gpg(['--verify', join(root, 'repodata', 'repomd.xml.asc'), join(root, 'repodata', 'repomd.xml')]);
  });

  it('an empty repository is valid for dnf', async () => {
    const root = join(dir, 'empty');
    mkdirSync(root);
    await writeRepodata(root);
    const ref = join(dir, 'empty-ref');
    mkdirSync(ref);
    createrepo(ref);
    expect(readRepo(root).xml).toEqual(readRepo(ref).xml);
    expect(dnf(root, '--setopt=skip_if_unavailable=False', 'repoquery').status).toBe(0);
  });
});

/**
 * A minimal RPM made with the header codec, to feed the writer what rpmbuild refuses to make:
 * CR, TAB, LF, quotes and astral characters in text and attributes.
 */
function handmadeRpm(summary: string, name = 'odd'): Uint8Array {
  const s = (tag: number, value: string) => ({ tag, type: RPM_TYPE.STRING, value });
  const a = (tag: number, value: string[]) => ({ tag, type: RPM_TYPE.STRING_ARRAY, value });
  const i = (tag: number, value: number[]) => ({ tag, type: RPM_TYPE.INT32, value });
  const main = encodeHeader([
    a(TAG.HEADERI18NTABLE, ['C']),
    s(TAG.NAME, name), s(TAG.VERSION, '1'), s(TAG.RELEASE, '1'),
    { tag: TAG.SUMMARY, type: RPM_TYPE.I18NSTRING, value: [summary] },
    { tag: TAG.DESCRIPTION, type: RPM_TYPE.I18NSTRING, value: ['carriage\r\nreturn, tab\there, "quotes" & <tags> 😀'] },
    s(TAG.LICENSE, 'MIT'), s(TAG.ARCH, 'noarch'), ...(name === 'odd' ? [s(TAG.SOURCERPM, 'odd-1-1.src.rpm')] : []),
    i(TAG.FILEFLAGS, [0, 64]),
    { tag: TAG.FILEMODES, type: RPM_TYPE.INT16, value: [0o100644, 0o100644] },
    i(TAG.PROVIDEFLAGS, [8, 0]), a(TAG.PROVIDENAME, ['odd', 'caf\u00e9 "q"\t<x>']), a(TAG.PROVIDEVERSION, ['1-1', '']),
    i(TAG.DIRINDEXES, [0, 0]), a(TAG.BASENAMES, ['a\rb', 'ghost "\u00e9"']), a(TAG.DIRNAMES, ['/etc/odd/']),
    i(TAG.CHANGELOGTIME, [1700000000, 1700000000]),
    a(TAG.CHANGELOGNAME, ['Tab\tNew\nLine "Q" \u00e9 😀 <a@b> - 1-1  ', ' ']),
    a(TAG.CHANGELOGTEXT, ['- text with\r\nCRLF', '- single-space author']),
  ], 63);
  const sig = encodeHeader([{ tag: SIGTAG.SIZE, type: RPM_TYPE.INT32, value: [main.length] }], 62);
  const lead = new Uint8Array(96);
  lead.set([0xed, 0xab, 0xee, 0xdb, 3, 0]);
  lead[79] = 5;
  const pad = new Uint8Array((8 - (sig.length % 8)) % 8);
  return Buffer.concat([lead, sig, pad, main]);
}

describe('repodata input errors', () => {
  const run = (inputs: RepoInput[]): Promise<unknown> => Scratch.with((s) => buildRepodata(inputs, { epoch: EPOCH }, s));

  it('createrepo_c escapes CR, TAB, LF, quotes and non-ASCII in text and attributes as we do', async () => {
    const root = join(dir, 'handmade');
    mkdirSync(root);
    writeFileSync(join(root, 'odd-1-1.noarch.rpm'), handmadeRpm('fine'));
    // no SOURCERPM: rpm takes it for a binary package whose source is "(none)"
    writeFileSync(join(root, 'nosrc-1-1.noarch.rpm'), handmadeRpm('no source rpm', 'nosrc'));
    for (const f of listRpms(root)) utimesSync(join(root, f), EPOCH, EPOCH);
    await writeRepodata(root);
    const ref = join(dir, 'handmade-ref');
    makeRepo(ref, listRpms(root).map((f) => join(root, f)));
    createrepo(ref);
    expect(readRepo(root).xml).toEqual(readRepo(ref).xml);
    expect(readRepo(root).xml.primary).toContain('<rpm:sourcerpm>(none)</rpm:sourcerpm>');
    expect(readRepo(root).xml.primary).toContain('<description>carriage&#13;\nreturn, tab\there, "quotes" &amp; &lt;tags&gt; 😀</description>');
    expect(readRepo(root).xml.filelists).toContain('<file>/etc/odd/a&#13;b</file>');
    expect(readRepo(root).xml.other).toContain('author="Tab&#9;New&#10;Line &quot;Q&quot; &#xE9; &#x1F600; &lt;a@b&gt; - 1-1"');
  });

  it('refuses a package whose summary holds a control character, naming the file', async () => {
    const p = run([{ href: 'odd.rpm', source: bytesSource(handmadeRpm('bell\x07'), 'odd.rpm') }]);
    await expect(p).rejects.toThrow(UserError);
    await expect(p).rejects.toThrow(/^odd\.rpm: summary contains the control character U\+0007/);
  });

  it('refuses files that are not RPMs, truncated RPMs and unsafe locations', async () => {
    await expect(run([{ href: 'x.rpm', source: bytesSource('not an rpm at all, just text', 'x.rpm') }])).rejects.toThrow(/^x\.rpm: not an RPM package/);
    const rpm = readFileSync(rpms.find((r) => r.includes('el9_3'))!);
    await expect(run([{ href: 'y.rpm', source: bytesSource(rpm.subarray(0, 3000), 'y.rpm') }])).rejects.toThrow(/^y\.rpm: .*truncated/);
    await expect(run([{ href: '../y.rpm', source: bytesSource(rpm, 'y.rpm') }])).rejects.toThrow(/relative path/);
    await expect(run([{ href: 'a.rpm', source: bytesSource(rpm) }, { href: 'a.rpm', source: bytesSource(rpm) }])).rejects.toThrow(/twice/);
  });
});
