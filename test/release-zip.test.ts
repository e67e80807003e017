import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { emitZip } from '../src/emit/zip.js';
import { checksumFiles, writeDerivedOf } from '../src/emit/derived.js';
import { bytesSource } from '../src/tree/source.js';
import { dudkit, FIXTURES, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import { ACME } from './helpers/manifest.js';

const dir = tempDir();
const EPOCH = 1700000000;
const DEB = readdirSync(join(FIXTURES, 'ko')).find((k) => k.endsWith('-amd64'))!;
const SRPM = 'acme-acmenet-firmware-2.4.1-1.src.rpm';

function manifest(name: string, targets: string, sources = `  - rpm: ${FIXTURES}/rpms/${SRPM}\n`): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `${ACME}vendorName: ACME Networks
sources:
  - ko: ${FIXTURES}/ko/${DEB}/*.ko
    kernel: 3.10.0+2
${sources}targets:
${targets}`,
  );
  return p;
}

const TARGETS = `  - xenserver-legacy: { text: ACME acmenet driver, xenserver: 6.5.0 }
  - release-zip: { source: ${FIXTURES}/src/acme, checksums: [sha256] }
`;

async function buildAt(out: string, env: Record<string, string> = {}): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    await build(manifest('zip.yaml', TARGETS), { outDir: out, ctx: createContext({ epoch: EPOCH, onWarn: () => {} }) });
  } finally {
    process.env = saved;
  }
}

describe('release-zip of a legacy pack (xenserver.md §5)', () => {
  const out = join(dir, 'out');
  const zip = join(out, 'acmenet-2.4.1.zip');
  const x = join(dir, 'x');
  beforeAll(async () => {
    await buildAt(out);
    run('mkdir', ['-p', x]);
    run('unzip', ['-q', zip, '-d', x]);
  });

  it('unzip -t passes; unzip -l lists the ISO, its MD5 files and the source archive at the root', () => {
    const t = run('unzip', ['-t', zip]);
    expect(t.status, t.stdout).toBe(0);
    expect(t.stdout).toMatch(/No errors detected/);
    const names = run('unzip', ['-Z1', zip]).stdout.trim().split('\n');
    expect(names).toEqual(['acmenet-2.4.1-src.tar.gz', 'acmenet.iso', 'acmenet.iso.md5', 'acmenet.metadata.md5']);
    expect(run('unzip', ['-l', zip]).stdout).toMatch(/2023-11-14 22:13 +acmenet\.iso\n/);
    expect(run('zipinfo', [zip]).stdout).toMatch(/-rw-r--r-- .* defX .* acmenet\.iso\n/);
  });

  it('md5sum -c accepts <name>.iso.md5 in the unzipped folder; the entries equal the pack target outputs', () => {
    const c = run('md5sum', ['-c', 'acmenet.iso.md5'], { cwd: x });
    expect(c.status, c.stdout + c.stderr).toBe(0);
    for (const f of ['acmenet.iso', 'acmenet.iso.md5', 'acmenet.metadata.md5']) expect(run('cmp', [join(x, f), join(out, f)]).status, f).toBe(0);
    const t = join(dir, 'iso');
    run('xorriso', ['-osirrox', 'on', '-indev', join(x, 'acmenet.iso'), '-extract', '/', t]);
    expect(readFileSync(join(x, 'acmenet.metadata.md5'), 'utf8')).toBe(run('sh', ['-c', 'cat XS-REPOSITORY XS-PACKAGES | md5sum | cut -c1-32'], { cwd: t }).stdout);
  });

  it('tar lists the driver sources and the source RPM under <label>-<RPM_VERSION>/, owned by root, at SOURCE_DATE_EPOCH', () => {
    const l = run('tar', ['tvzf', join(x, 'acmenet-2.4.1-src.tar.gz'), '--full-time']);
    expect(l.status, l.stderr).toBe(0);
    const lines = l.stdout.trim().split('\n');
    expect(lines.map((s) => s.split(/\s+/).pop())).toEqual(['acmenet-2.4.1/', 'acmenet-2.4.1/Kbuild', 'acmenet-2.4.1/acmenet.c', 'acmenet-2.4.1/acmestor.c', `acmenet-2.4.1/${SRPM}`]);
    for (const s of lines) expect(s).toMatch(/ root\/root .* 2023-11-14 22:13:20 /);
    const src = join(dir, 'src');
    run('mkdir', ['-p', src]);
    expect(run('tar', ['xzf', join(x, 'acmenet-2.4.1-src.tar.gz'), '-C', src]).status).toBe(0);
    expect(run('cmp', [join(src, 'acmenet-2.4.1/acmenet.c'), join(FIXTURES, 'src/acme/acmenet.c')]).status).toBe(0);
    expect(run('rpm', ['-qp', '--qf', '%{NAME}', join(src, 'acmenet-2.4.1', SRPM)]).stdout).toBe('acme-acmenet-firmware');
  });

  it('sha256sum -c accepts the zip sidecar; two builds (another TZ) are byte-identical', async () => {
    expect(run('sha256sum', ['-c', 'acmenet-2.4.1.zip.sha256'], { cwd: out }).status).toBe(0);
    const again = join(dir, 'again');
    await buildAt(again, { TZ: 'America/New_York' });
    expect(run('cmp', [zip, join(again, 'acmenet-2.4.1.zip')]).status).toBe(0);
  });
});

describe('release-zip of a signed update pack (of: xenserver-update)', () => {
  it('ships the ISO, its MD5 files (metadata = MD5 of update.xml), the public key and a README; md5sum -c passes', async () => {
    const out = join(dir, 'update');
    const m = manifest(
      'update.yaml',
      `  - xenserver-update: { out: acmenet-2.4.1.iso, uuid: 519c916d-1c07-4c77-ba72-ddd5fbd51af0, key: ${ROOT}/examples/acmenet/keys/example-signing-key.asc, kernels: { 3.10.0+2: "4.19.0+1" } }
  - release-zip: { of: xenserver-update, source: ${FIXTURES}/src/acme }
`,
    );
    await build(m, { outDir: out, ctx: createContext({ epoch: EPOCH, onWarn: () => {} }) });
    const zip = join(out, 'acmenet-2.4.1.zip');
    expect(run('unzip', ['-t', zip]).status).toBe(0);
    expect(run('unzip', ['-Z1', zip]).stdout.trim().split('\n')).toEqual(['README', 'RPM-GPG-KEY-acme', 'acmenet-2.4.1-src.tar.gz', 'acmenet-2.4.1.iso', 'acmenet-2.4.1.iso.md5', 'acmenet-2.4.1.metadata.md5']);
    const x = join(dir, 'update-x');
    run('unzip', ['-q', zip, '-d', x]);
    expect(run('md5sum', ['-c', 'acmenet-2.4.1.iso.md5'], { cwd: x }).status).toBe(0);
    expect(readFileSync(join(x, 'README'), 'utf8')).toContain('/opt/xensource/debug/import-update-key RPM-GPG-KEY-acme');
    expect(run('cmp', [join(x, 'RPM-GPG-KEY-acme'), join(out, 'RPM-GPG-KEY-acme')]).status).toBe(0);
    const t = join(dir, 'update-t');
    run('xorriso', ['-osirrox', 'on', '-indev', join(x, 'acmenet-2.4.1.iso'), '-extract', '/update.xml', t]);
    expect(readFileSync(join(x, 'acmenet-2.4.1.metadata.md5'), 'utf8')).toBe(`${run('md5sum', [t]).stdout.slice(0, 32)}\n`);
  });
});

describe('zip emitter', () => {
  it('unzip and zipinfo read folders, modes and a symlink; times clamp to 1980', async () => {
    const out = join(dir, 'tree.zip');
    const ctx = createContext({ epoch: 0, onWarn: () => {} });
    const big = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff);
    const emitted = await emitZip(
      [
        { type: 'dir', path: 'a', mode: 0o755 },
        { type: 'file', path: 'a/big.bin', mode: 0o600, content: bytesSource(big) },
        { type: 'file', path: 'a/empty', mode: 0o644, content: bytesSource('') },
        { type: 'symlink', path: 'a/link', target: 'big.bin' },
      ],
      out,
      ['md5'],
      ctx,
    );
    await writeDerivedOf(out, checksumFiles(['md5']), emitted);
    expect(run('unzip', ['-t', out]).status).toBe(0);
    const info = run('zipinfo', [out]).stdout;
    expect(info).toMatch(/drwxr-xr-x .* 80-Jan-01 00:00 a\/\n/);
    expect(info).toMatch(/-rw------- .* defX 80-Jan-01 00:00 a\/big\.bin\n/);
    expect(info).toMatch(/lrwxrwxrwx .* a\/link\n/);
    const x = join(dir, 'tree');
    run('unzip', ['-q', out, '-d', x]);
    expect(readFileSync(join(x, 'a/big.bin')).equals(Buffer.from(big))).toBe(true);
    expect(run('readlink', [join(x, 'a/link')]).stdout.trim()).toBe('big.bin');
    expect(run('md5sum', ['-c', 'tree.zip.md5'], { cwd: dir }).status).toBe(0);
  });
});

describe('release-zip refusals', () => {
  it('dudkit build exits 2 with nothing written when there are no driver sources', () => {
    const out = join(dir, 'nosrc');
    const r = dudkit(['build', manifest('nosrc.yaml', `  - xenserver-legacy: { text: ACME }\n  - release-zip: {}\n`, ''), '-o', out, '--only', 'release-zip']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no driver sources to ship.*GPL/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
