/**
 * Manifest layering (issue 19): the defaults file, then the manifest, then `--set`; later wins.
 * The winning values are read back from the built kmod RPM with rpm -qp and from its module with
 * modinfo; `--print-manifest` names each value's file and line; a bad layer is one line naming it.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { build, printManifest } from '../src/api.js';
import { loadManifest } from '../src/manifest/load.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const KO = join(FIXTURES, 'ko', K93, 'acmenet.ko');
const EPOCH = { SOURCE_DATE_EPOCH: '1700000000' };

/** `XDG_CONFIG_HOME/dudkit/defaults.yaml` with `text`; the env that makes dudkit look there. */
function xdgDefaults(name: string, text: string): { file: string; env: NodeJS.ProcessEnv } {
  const config = join(dir, name);
  mkdirSync(join(config, 'dudkit'), { recursive: true });
  const file = join(config, 'dudkit', 'defaults.yaml');
  writeFileSync(file, text);
  // undefined drops the harness's DUDKIT_DEFAULTS= (vitest.config.ts), so the XDG lookup runs
  return { file, env: { ...EPOCH, XDG_CONFIG_HOME: config, DUDKIT_DEFAULTS: undefined } };
}

function manifestAt(folder: string, text: string): string {
  mkdirSync(join(dir, folder), { recursive: true });
  const path = join(dir, folder, 'dudkit.yaml');
  writeFileSync(path, text);
  return path;
}

/** name, version, summary, one module and a directory rhdd3 target; no vendor: the defaults give it. */
const DRIVER = `name: acmenet
version: 2.4.1
summary: ACME 25GbE network driver
vendorName: ACME Networks
sources:
  - ko: ${KO}
targets:
  - rhdd3: { out: dd, format: directory }
`;

const DEFAULTS = `vendor: globex
vendorName: Globex Corporation
license: GPL-2.0-or-later
url: https://globex.example/drivers
`;

function kmodRpm(out: string): string {
  const folder = join(out, 'dd/rpms/x86_64');
  return join(folder, readdirSync(folder).find((f) => f.startsWith('kmod-'))!);
}

describe('defaults < manifest < --set, read back from the built kmod RPM (rpm -qp)', () => {
  const { file: defaults, env } = xdgDefaults('precedence', DEFAULTS);
  const manifest = manifestAt('precedence', DRIVER);

  it('vendor and license from the defaults, vendorName from the manifest, url from --set', () => {
    const out = join(dir, 'precedence/out');
    const r = dudkit(['build', manifest, '-o', out, '--set', 'url=https://set.example/acmenet'], { env });
    expect(r.status, r.stderr).toBe(0);
    const q = run('rpm', ['-qp', '--qf', '%{NAME}|%{VENDOR}|%{LICENSE}|%{URL}', kmodRpm(out)]);
    expect(q.status, q.stderr).toBe(0);
    expect(q.stdout).toBe('kmod-globex-acmenet|ACME Networks|GPL-2.0-or-later|https://set.example/acmenet');
  });

  it('a later --set wins over an earlier one, and --set over the manifest (rpm -qp %{VENDOR} %{RELEASE})', () => {
    const out = join(dir, 'precedence/out-set');
    const r = dudkit(['build', manifest, '-o', out, '--set', 'vendorName=First', '--set', 'vendorName=Initech Ltd', '--set', 'release=7'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(run('rpm', ['-qp', '--qf', '%{VENDOR}|%{RELEASE}', kmodRpm(out)]).stdout).toBe(`Initech Ltd|7.${K93.replace(/^5\.14\.0-/, '').replace(/\.x86_64$/, '')}`);
  });

  it('--no-defaults and DUDKIT_DEFAULTS= (empty) read no defaults file: the manifest then lacks vendor', () => {
    for (const [args, extra] of [[['--no-defaults'], {}], [[], { DUDKIT_DEFAULTS: '' }]] as const) {
      const r = dudkit(['build', manifest, '-o', join(dir, 'precedence/none'), ...args], { env: { ...env, ...extra } });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`dudkit: ${manifest}: vendor: missing: give a string (line 1, column 1)\n`);
    }
    expect(existsSync(join(dir, 'precedence/none'))).toBe(false);
  });

  it('-v says which defaults file was read (its license read back with rpm -qp), or why none was (issue 19 conv item 2)', () => {
    const read = dudkit(['build', '-v', manifest, '-o', join(dir, 'precedence/v')], { env });
    expect(read.status, read.stderr).toBe(0);
    expect(read.stderr).toContain(`dudkit: defaults file ${defaults} read\n`);
    expect(run('rpm', ['-qp', '--qf', '%{LICENSE}', kmodRpm(join(dir, 'precedence/v'))]).stdout).toBe('GPL-2.0-or-later');
    const named = dudkit(['build', '-v', manifest, '-o', join(dir, 'precedence/v-named')], { env: { ...EPOCH, DUDKIT_DEFAULTS: defaults } });
    expect(named.stderr).toContain(`dudkit: defaults file ${defaults} read (named by DUDKIT_DEFAULTS)\n`);
    const asJson = dudkit(['build', '--json', manifest, '-o', join(dir, 'precedence/v-json')], { env: { ...EPOCH, DUDKIT_DEFAULTS: defaults } });
    expect(JSON.parse(asJson.stdout).defaults).toBe(`defaults file ${defaults} read (named by DUDKIT_DEFAULTS)`);
    const off = dudkit(['build', '-v', manifest, '-o', join(dir, 'precedence/v-off'), '--no-defaults', '--set', 'vendor=x'], { env });
    expect(off.stderr).toContain('dudkit: no defaults file: turned off (--no-defaults)\n');
    const empty = dudkit(['build', '-v', manifest, '-o', join(dir, 'precedence/v-empty'), '--set', 'vendor=x'], { env: { ...env, DUDKIT_DEFAULTS: '' } });
    expect(empty.stderr).toContain('dudkit: no defaults file: DUDKIT_DEFAULTS is set but empty\n');
    const absent = join(dir, 'precedence/no-config');
    const none = dudkit(['build', '-v', manifest, '-o', join(dir, 'precedence/v-none'), '--set', 'vendor=x'], { env: { ...env, XDG_CONFIG_HOME: absent } });
    expect(none.stderr).toContain(`dudkit: no defaults file: ${join(absent, 'dudkit/defaults.yaml')} does not exist\n`);
  });

  it('--print-manifest prints the merged YAML with each value’s origin and builds nothing', () => {
    const out = join(dir, 'precedence/printed-out');
    const r = dudkit(['build', manifest, '-o', out, '--print-manifest', '--set', 'release=5'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(false);
    const lines = r.stdout.split('\n');
    expect(lines).toContain(`vendor: globex # defaults: ${defaults}:1`);
    expect(lines).toContain(`vendorName: ACME Networks # manifest: ${manifest}:4`);
    expect(lines).toContain(`license: GPL-2.0-or-later # defaults: ${defaults}:3`);
    expect(lines).toContain(`release: "5" # --set release`);
    expect(lines).toContain(`  - ko: ${KO} # manifest: ${manifest}:6`);
    expect(lines).toContain(`firmware: [] # dudkit's default`);
    expect(parse(r.stdout)).toMatchObject({ vendor: 'globex', vendorName: 'ACME Networks', release: '5', url: 'https://globex.example/drivers' });
  });

  it('the printed manifest, saved beside the manifest, is a manifest that reads the same without layers', async () => {
    const r = dudkit(['build', manifest, '--print-manifest', '--set', 'release=5'], { env });
    const saved = join(dir, 'precedence/merged.yaml');
    writeFileSync(saved, r.stdout);
    const merged = await loadManifest(manifest, { defaults, set: ['release=5'] });
    expect((await loadManifest(saved, { defaults: false })).manifest).toEqual(merged.manifest);
  });

  it('the library takes the same layers: printManifest and build with defaults: and set:', async () => {
    const text = await printManifest(manifest, { defaults, set: ['vendorName=Library Inc'] });
    expect(text).toContain('vendorName: Library Inc # --set vendorName');
    const out = join(dir, 'precedence/lib');
    const result = await build(manifest, { outDir: out, defaults, set: ['vendorName=Library Inc'] });
    expect(result.targets[0]!.path).toBe(join(out, 'dd'));
    expect(run('rpm', ['-qp', '--qf', '%{VENDOR}', kmodRpm(out)]).stdout).toBe('Library Inc');
    await expect(build(manifest, { outDir: out, defaults: false })).rejects.toThrow(`${manifest}: vendor: missing: give a string (line 1, column 1)`);
  });
});

describe('relative paths resolve against the layer that gives them', () => {
  // the defaults file and its key in one folder, the manifest in another, the command run in a third
  const vendorDir = join(dir, 'paths/vendor');
  mkdirSync(join(vendorDir, 'keys'), { recursive: true });
  copyFileSync(join(FIXTURES, 'src/signing/signing_key.pem'), join(vendorDir, 'keys/signing_key.pem'));
  const defaults = join(vendorDir, 'defaults.yaml');
  writeFileSync(defaults, `${DEFAULTS}signing: { key: keys/signing_key.pem }\n`);
  // the manifest's own module path relative to its folder
  const ko = relative(join(dir, 'paths/driver'), KO);
  const manifest = manifestAt('paths/driver', DRIVER.replace(`- ko: ${KO}`, `- ko: ${ko}`));
  const cwd = join(dir, 'paths/cwd');
  mkdirSync(join(cwd, 'keys'), { recursive: true });
  copyFileSync(join(FIXTURES, 'src/signing/signing_key.pem'), join(cwd, 'keys/other.pem'));

  it('a signing key in the defaults file resolves against the defaults file’s folder; modinfo -F signer reads the signature', () => {
    const out = join(dir, 'paths/out');
    const r = dudkit(['build', manifest, '-o', out], { cwd, env: { ...EPOCH, DUDKIT_DEFAULTS: defaults } });
    expect(r.status, r.stderr).toBe(0);
    const unpacked = join(dir, 'paths/kmod');
    mkdirSync(unpacked);
    expect(run('sh', ['-c', 'rpm2cpio "$1" | cpio -idm --quiet', 'sh', kmodRpm(out)], { cwd: unpacked }).status).toBe(0);
    expect(run('modinfo', ['-F', 'signer', join(unpacked, 'lib/modules', K93, 'extra/acmenet/acmenet.ko')]).stdout.trim()).toBe('dudkit fixture signing key');
  });

  it('--print-manifest shows the defaults’ key and a --set key as absolute paths; the manifest’s own paths as written', () => {
    const printed = (set: string[]) => dudkit(['build', manifest, '--print-manifest', ...set.flatMap((s) => ['--set', s])], { cwd, env: { DUDKIT_DEFAULTS: defaults } });
    const a = printed([]);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stdout).toContain(`  key: ${join(vendorDir, 'keys/signing_key.pem')} # defaults: ${defaults}:5\n`);
    expect(a.stdout).toContain(`  - ko: ${ko} # manifest: ${manifest}:6\n`);
    // a --set path is relative to the current folder, not the manifest's or the defaults file's
    const b = printed(['signing.key=keys/other.pem', 'sources[0].ko=mods/x.ko']);
    expect(b.stdout).toContain(`  key: ${join(cwd, 'keys/other.pem')} # --set signing.key\n`);
    expect(b.stdout).toContain(`  - ko: ${join(cwd, 'mods/x.ko')} # --set sources[0].ko\n`);
  });

  it('a --set key relative to the current folder signs the build (modinfo -F signer)', () => {
    const out = join(dir, 'paths/out-set');
    const r = dudkit(['build', manifest, '-o', out, '--no-defaults', '--set', 'vendor=initech', '--set', 'signing.key=keys/other.pem'], { cwd, env: EPOCH });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(join(out, 'initech-module-signing.der'));
  });

  it('a missing key file names the layer that gave it: the defaults file, or the --set', () => {
    writeFileSync(join(vendorDir, 'bad.yaml'), 'vendor: globex\nsigning:\n  key: keys/missing.pem\n');
    const a = dudkit(['build', manifest, '-o', join(dir, 'paths/no')], { cwd, env: { DUDKIT_DEFAULTS: join(vendorDir, 'bad.yaml') } });
    expect(a.status).toBe(2);
    expect(a.stderr).toBe(`dudkit: ${join(vendorDir, 'bad.yaml')}: signing: ${join(vendorDir, 'keys/missing.pem')}: no such file or directory (line 2, column 1)\n`);
    const b = dudkit(['build', manifest, '-o', join(dir, 'paths/no'), '--set', 'signing.key=nope.pem'], { cwd, env: { DUDKIT_DEFAULTS: defaults } });
    expect(b.status).toBe(2);
    expect(b.stderr).toBe(`dudkit: --set signing.key: signing: ${join(cwd, 'nope.pem')}: no such file or directory\n`);
    const c = dudkit(['build', manifest, '-o', join(dir, 'paths/no'), '--set', 'sources[0].ko=nope.ko'], { cwd, env: { DUDKIT_DEFAULTS: defaults } });
    expect(c.stderr).toBe(`dudkit: --set sources[0].ko: sources[0].ko: ${join(cwd, 'nope.ko')}: no such file or directory: correct the path\n`);
    const d = dudkit(['build', manifest, '-o', join(dir, 'paths/no'), '--set', 'sources[0].kernel=rhel-99.9'], { cwd, env: { DUDKIT_DEFAULTS: defaults } });
    expect(d.stderr).toMatch(/^dudkit: --set sources\[0\]\.kernel: sources\[0\]\.kernel: kernel: unknown release "rhel-99\.9" \(known: .*\)\n$/);
    expect(existsSync(join(dir, 'paths/no'))).toBe(false);
  });
});

describe('a bad layer is one line naming it, exit 2', () => {
  const manifest = manifestAt('bad', DRIVER);
  let n = 0;
  const withDefaults = (text: string, args: string[] = []) => {
    const file = join(dir, 'bad', `defaults-${n++}.yaml`);
    writeFileSync(file, text);
    return { file, r: dudkit(['build', manifest, '--print-manifest', ...args], { env: { DUDKIT_DEFAULTS: file } }) };
  };

  it.each([
    ['a driver’s own key', 'vendor: globex\nname: other\n', "`name` cannot be a default (line 2, column 1): it belongs to each driver's manifest; a defaults file holds only vendor, vendorName, license, url, signing, kabi"],
    ['a typo', 'vendor: globex\nvendr: x\n', 'unknown key `vendr`: did you mean `vendor`? (line 2, column 1) (a defaults file holds only vendor, vendorName, license, url, signing, kabi)'],
    ['a bad value, even one the manifest overrides', 'vendor: globex\nvendorName: ACME\nurl: [a, b]\n', '`url` must be a string, got a list (line 3, column 1)'],
    ['not YAML', 'vendor: [globex\n', 'not valid YAML/JSON: '],
    ['a list', '- vendor: globex\n', 'a defaults file is a mapping of manifest keys (vendor, vendorName, license, url, signing, kabi), got a list'],
    ['a number written as another', 'vendor: globex\nlicense: 1.10\n', 'license: YAML reads 1.10 as the number 1.1; quote it ("1.10") to keep it as written'],
  ])('the defaults file: %s', (_what, text, message) => {
    const { file, r } = withDefaults(text);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toContain(`dudkit: ${file}: ${message}`);
  });

  it('an empty defaults file gives nothing', () => {
    expect(withDefaults('', ['--set', 'vendor=x']).r.status).toBe(0);
  });

  it('DUDKIT_DEFAULTS naming no file is an error; the usual place holding none is not', () => {
    const missing = join(dir, 'bad/none.yaml');
    const r = dudkit(['build', manifest, '--print-manifest'], { env: { DUDKIT_DEFAULTS: missing } });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dudkit: ${missing}: no such file or directory (named by DUDKIT_DEFAULTS): correct the path, or set DUDKIT_DEFAULTS= (empty) or --no-defaults for no defaults\n`);
    const implicit = dudkit(['build', manifest, '--print-manifest', '--set', 'vendor=x'], { env: { DUDKIT_DEFAULTS: undefined, XDG_CONFIG_HOME: join(dir, 'bad/empty-config') } });
    expect(implicit.status, implicit.stderr).toBe(0);
    expect(implicit.stdout).toContain('no defaults file');
  });

  it('without XDG_CONFIG_HOME (or with a relative one, which the XDG spec ignores) the file is ~/.config/dudkit/defaults.yaml', () => {
    const home = join(dir, 'bad/home');
    mkdirSync(join(home, '.config/dudkit'), { recursive: true });
    writeFileSync(join(home, '.config/dudkit/defaults.yaml'), 'vendor: homevendor\n');
    for (const xdg of [undefined, 'relative/config']) {
      const r = dudkit(['build', manifest, '--print-manifest'], { env: { DUDKIT_DEFAULTS: undefined, HOME: home, XDG_CONFIG_HOME: xdg } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`vendor: homevendor # defaults: ${join(home, '.config/dudkit/defaults.yaml')}:1\n`);
    }
  });

  it('a value from the defaults file that the schema refuses names the defaults file and line; one from the manifest names the manifest', () => {
    const { file, r } = withDefaults('vendor: glo bex\n');
    expect(r.stderr).toBe(`dudkit: ${file}: vendor: must match [A-Za-z0-9._-]+ (line 1, column 1)\n`);
  });

  it.each([
    [['vendor=a b'], '--set vendor: vendor: must match [A-Za-z0-9._-]+'],
    [['version=2.40'], '--set version: version: YAML reads 2.40 as the number 2.4; quote it ("2.40") to keep it as written'],
    [['sumary=x'], '--set sumary: unknown key `sumary`: did you mean `summary`?'],
    [['targets[0].rhdd3.out=x'], '--set targets[0].rhdd3.out: targets cannot be set from the command line: edit the manifest, or choose targets with --only'],
    [['name=[a]'], `--set name: the value must be one YAML scalar (a string, number or boolean; quote it to keep it as text, e.g. --set 'name="[a]"')`],
    [['name'], '--set name: give KEY=VALUE, e.g. --set vendor=acme'],
    [['a..b=1'], '--set a..b: not a key path: give names joined with dots and [N] list indexes, e.g. signing.key or sources[0].kernel'],
    [['sources[99999999999].ko=x.ko'], '--set sources[99999999999].ko: list indexes go up to 9999'],
    [['sources[3].ko=x.ko'], '--set sources[3].ko: `sources` has 1 item(s): use an index up to 1 (1 adds one)'],
    [['name.x=1'], '--set name.x: `name` is not a mapping here, so .x names nothing: set `name` itself, or give it as a mapping in the manifest'],
    [['vendor=ok', 'signing.cert=c.pem'], '--set signing.cert: signing.key: missing: give a string'],
    [['vendor=ok', 'url='], '--set url: `url` must be a string, got nothing (null)'],
  ])('--set %j', (sets, message) => {
    const r = dudkit(['build', manifest, '--print-manifest', ...sets.flatMap((s) => ['--set', s])], { env: { DUDKIT_DEFAULTS: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dudkit: ${message}\n`);
  });
});

it('build --help names --set, --no-defaults, --print-manifest and where the defaults file is', () => {
  const r = dudkit(['build', '--help']);
  for (const w of ['--set <key=value>', '--no-defaults', '--print-manifest', '$DUDKIT_DEFAULTS', '~/.config/dudkit/defaults.yaml']) expect(r.stdout).toContain(w);
});

it('the test harness reads no developer defaults (vitest.config.ts sets DUDKIT_DEFAULTS= empty)', () => {
  expect(process.env.DUDKIT_DEFAULTS).toBe('');
});

