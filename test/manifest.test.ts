import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build, createContext, UserError } from '../src/api.js';
import { loadManifest } from '../src/manifest/load.js';
import { expandGlob } from '../src/manifest/glob.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();

function manifest(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const base = `name: acmenet
version: 2.4.1
vendor: acme
summary: ACME driver
sources:
  - ko: ko/*.ko
targets:
  - rhdd3: { out: dd.iso }
`;

describe('manifest', () => {
  it('reads YAML and JSON, with defaults', async () => {
    const y = await loadManifest(manifest('m.yaml', base));
    expect(y.manifest.release).toBe('1');
    expect(y.manifest.license).toBe('GPL-2.0-only');
    expect(y.targets).toEqual([{ kind: 'rhdd3', index: 0, options: { out: 'dd.iso' } }]);
    const j = await loadManifest(manifest('m.json', JSON.stringify({ name: 'x', version: 1.2, release: 3, vendor: 'v', summary: 's', sources: [{ rpm: 'a.rpm' }], targets: [{ rhdd3: {} }] })));
    expect(j.manifest.version).toBe('1.2');
    expect(j.manifest.release).toBe('3');
  });

  it('names the file and the key path of every mistake', async () => {
    const cases: [string, RegExp][] = [
      [base.replace('vendor: acme', 'vendor: "ac me"'), /m\d\.yaml: vendor: must match/],
      [base.replace('version: 2.4.1', 'version: 2.4-1'), /version: must be an RPM version/],
      [base.replace('  - ko: ko/*.ko', '  - kox: ko/*.ko'), /sources\[0\]/],
      [base.replace('summary: ACME driver\n', ''), /summary/],
      [base + 'colour: blue\n', /colour/],
      [base.replace('  - rhdd3: { out: dd.iso }', '  - { rhdd3: {}, suse: {} }'), /targets\[0\]: each target is one key/],
      ['name: [unclosed', /not valid YAML\/JSON/],
    ];
    let i = 0;
    for (const [text, re] of cases) await expect(loadManifest(manifest(`m${i++}.yaml`, text))).rejects.toThrow(re);
    await expect(loadManifest(join(dir, 'missing.yaml'))).rejects.toThrow(/missing.yaml: no such file/);
  });
});

describe('glob', () => {
  it('expands *, ? and ** in path byte order', async () => {
    for (const f of ['a/x1.ko', 'a/x2.ko', 'a/b/y.ko', 'a/n.txt']) {
      const p = join(dir, 'g', f);
      (await import('node:fs')).mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, '');
    }
    const g = join(dir, 'g');
    expect(await expandGlob('a/*.ko', g)).toEqual([join(g, 'a/x1.ko'), join(g, 'a/x2.ko')]);
    expect(await expandGlob('a/x?.ko', g)).toHaveLength(2);
    expect(await expandGlob('**/*.ko', g)).toEqual([join(g, 'a/b/y.ko'), join(g, 'a/x1.ko'), join(g, 'a/x2.ko')]);
    expect(await expandGlob('a/none*.ko', g)).toEqual([]);
  });
});

describe('build errors from the file system', () => {
  it('an output folder that is a file: exit 2, one line naming it, no stack trace', async () => {
    const m = manifest('fs.yaml', `${ACME_FIRMWARE}${base.replace('ko/*.ko', `${FIXTURES}/ko/5.14.0-362.8.1.el9_3.x86_64/*.ko`)}`);
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const r = dudkit(['build', m, '-o', blocker]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dudkit: ${blocker}: exists and is in the way (a file where a folder is needed, or the reverse)\n`);
  });
});

/** Every file under `dir`, relative, sorted: what a refused build must leave as it was. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const ELF = `${FIXTURES}/elf`;
const KO = `${FIXTURES}/ko/${K93}`;

/** A manifest with the example's metadata (or `head`), these sources and targets; with the acmenet modules, the firmware they name unless `head` has a firmware: of its own. */
function acme(name: string, sources: string, targets = '  - rhdd3: { out: dd.iso }\n', head = ACME): string {
  const firmware = sources.includes(KO) && !head.includes('firmware:') ? ACME_FIRMWARE : '';
  return manifest(name, `${head}${firmware}sources:\n${sources}targets:\n${targets}`);
}

/**
 * Build each manifest into an -o folder holding a sentinel; each must fail with one line naming
 * the manifest and matching `line`, and leave the folder as it was. The first case runs the
 * real CLI (exit 2, one stderr line); the others call the library's `build` in-process, which
 * throws the error the CLI prints, so the suite stays fast.
 */
async function refused(cases: [path: string, line: RegExp][]): Promise<void> {
  for (const [i, [path, line]] of cases.entries()) {
    const out = join(dir, `out-${basename(path)}-${i}`);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'sentinel'), 'kept');
    let message: string;
    if (i === 0) {
      const r = dudkit(['build', path, '-o', out]);
      expect({ path, status: r.status }).toEqual({ path, status: 2 });
      expect(r.stderr.split('\n')).toHaveLength(2); // one line and its LF
      message = r.stderr.replace(/^dudkit: /, '').trimEnd();
    } else {
      const err = await build(path, { outDir: out, ctx: createContext({ onWarn: () => undefined }) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, path).toBeInstanceOf(UserError);
      message = (err as UserError).message;
      expect(message).not.toContain('\n');
    }
    expect(message.startsWith(`${path}: `), message).toBe(true);
    expect(message).toMatch(line);
    expect(listing(out)).toEqual(['sentinel']);
  }
}

describe('wrong input refused at its manifest key, nothing written (issue 10, item 6)', () => {
  it('a module whose ELF machine is not the arch of the kernel it is filed for (vermagic or kernel:)', async () => {
    await refused([
      [
        acme('arch-kernel.yaml', `  - ko: ${ELF}/modlike-aarch64.ko\n    kernel: ${K93}\n`),
        new RegExp(`sources\\[0\\]\\.ko: \\S+modlike-aarch64\\.ko is an aarch64 module but kernel ${K93} \\(sources\\[0\\]\\.kernel\\) is x86_64: give the module built for x86_64`),
      ],
      [acme('arch-vermagic.yaml', `  - ko: ${ELF}/modlike-aarch64-x86_64-vermagic.ko\n`), /sources\[0\]\.ko: \S+ is an aarch64 module but kernel 5\.14\.0-362\.8\.1\.el9_3\.x86_64 \(its vermagic\) is x86_64/],
      // the check is per module: a good x86_64 module first does not hide the bad one
      [acme('arch-second.yaml', `  - ko: ${KO}/acmenet.ko\n  - ko: [${ELF}/modlike-s390x.ko]\n    kernel: 6.1.0-56-amd64\n`), /sources\[1\]\.ko: \S+modlike-s390x\.ko is an s390x module but kernel 6\.1\.0-56-amd64 \(sources\[1\]\.kernel\) is x86_64/],
    ]);
  });

  it('the aarch64 module filed for its own kernel builds rpms/aarch64/…el9_3.aarch64.rpm (rpm -qp)', () => {
    const out = join(dir, 'out-arch-ok');
    const r = dudkit(['build', acme('arch-ok.yaml', `  - ko: ${ELF}/modlike-aarch64.ko\n`, '  - rhdd3: { out: dd, format: directory }\n'), '-o', out]);
    expect(r.status).toBe(0);
    const rpms = listing(out).filter((f) => f.endsWith('.rpm'));
    expect(rpms).toEqual(['dd/rpms/aarch64/kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.aarch64.rpm']);
    const q = run('rpm', ['-qp', '--qf', '%{ARCH} %{RELEASE}\\n[%{PROVIDES}\\n]', join(out, rpms[0]!)]);
    expect(q.stdout).toMatch(/^aarch64 3\.362\.8\.1\.el9_3\n/);
  });

  it('YAML numbers that read as another text (2.40 → 2.4): "quote it", in every key, JSON too', async () => {
    const sources = `  - ko: ${KO}/*.ko\n`;
    const legacy = (opts: string) => `  - xenserver-legacy: { out: pack.iso, kernels: { ${K93}: 4.19.0+1 }, ${opts} }\n`;
    await refused([
      [acme('num-version.yaml', sources, undefined, ACME.replace('version: 2.4.1', 'version: 2.40')), /: version: YAML reads 2\.40 as the number 2\.4; quote it \("2\.40"\) to keep it as written \(line 2, column 1\)$/m],
      [acme('num-release.yaml', sources, undefined, ACME.replace('release: 3', 'release: 1e3')), /: release: YAML reads 1e3 as the number 1000; quote it \("1e3"\)/],
      [acme('num-legacy-version.yaml', sources, legacy('version: 1.10')), /: targets\[0\]\.xenserver-legacy\.version: YAML reads 1\.10 as the number 1\.1; quote it/],
      [acme('num-requires.yaml', sources, legacy('requires: { originator: xs, name: main, test: eq, version: 6.50 }')), /: targets\[0\]\.xenserver-legacy\.requires\.version: YAML reads 6\.50 as the number 6\.5/],
      [manifest('num.json', JSON.stringify({ name: 'x', version: 'placeholder', vendor: 'v', summary: 's', sources: [{ rpm: 'a.rpm' }], targets: [{ rhdd3: {} }] }).replace('"placeholder"', '2.40')), /: version: YAML reads 2\.40 as the number 2\.4/],
    ]);
    // quoted, the text is kept; plain numbers that read back as written stay accepted
    const ok = await loadManifest(acme('num-ok.yaml', sources, legacy('version: "1.10", build: 7'), ACME.replace('version: 2.4.1', 'version: "2.40"')));
    expect(ok.manifest.version).toBe('2.40');
    expect(ok.manifest.release).toBe('3');
    expect(ok.targets[0]!.options).toMatchObject({ version: '1.10', build: 7 });
  });

  it('a missing ko:, rpm:, dkms: or firmware file:, and a glob matching nothing, name their key', async () => {
    const missing = (key: string) => new RegExp(`: ${key.replace(/[[\].]/g, '\\$&')}: (\\S+: no such file or directory|"[^"]+" matches no file) \\(relative paths resolve against ${dir}\\): correct the path \\(line \\d+, column \\d+\\)$`, 'm');
    await refused([
      [acme('miss-ko.yaml', `  - ko: ${KO}/acmenet.ko\n  - rpm: ${FIXTURES}/rpms/*.el9_3.x86_64.rpm\n  - ko: ko/acmenet.ko\n`), missing('sources[2].ko')],
      [acme('miss-glob.yaml', `  - ko: [${KO}/acmenet.ko, ${KO}/nothing-*.ko]\n`), missing('sources[0].ko[1]')],
      [acme('miss-rpm.yaml', `  - rpm: rpms/kmod.rpm\n`), missing('sources[0].rpm')],
      [acme('miss-dkms.yaml', `  - dkms: dkms/acmenet/2.4.1\n`), missing('sources[0].dkms')],
      [acme('miss-fw.yaml', `  - ko: ${KO}/acmenet.ko\n`, '  - rhdd3: { out: dd.iso }\n', `${ACME}firmware:\n  - { file: fw/acmenet.bin, dest: acme/acmenet.bin }\n`), missing('firmware[0].file')],
      [acme('miss-installer.yaml', `  - ko: ${KO}/acmenet.ko\n`, '  - rhdd3: { out: dd.iso }\n  - attach: { installer: boot.iso }\n'), missing('targets[1].attach.installer')],
      // an unreadable source still names its key, then the file and the problem
      [acme('bad-ko.yaml', `  - ko: ${FIXTURES}/firmware/acmenet.bin\n`), /: sources\[0\]\.ko: \S+acmenet\.bin: /],
    ]);
  });

  it('lengths that file names are made of are capped at their key (no ENAMETOOLONG from scratch)', async () => {
    const sources = `  - ko: ${KO}/*.ko\n`;
    await refused([
      [acme('long-version.yaml', sources, undefined, ACME.replace('version: 2.4.1', `version: 2.4.${'1'.repeat(296)}`)), /: version: must be at most 32 characters: file names are made from it \(shorten it\) \(line 2, column 1\)$/m],
      [acme('long-name.yaml', sources, undefined, ACME.replace('name: acmenet', `name: ${'n'.repeat(65)}`)), /: name: must be at most 64 characters/],
      [acme('long-kernel.yaml', `  - ko: ${KO}/acmenet.ko\n    kernel: 5.14.0-${'1'.repeat(60)}.x86_64\n`), /: sources\[0\]\.kernel: must be at most 64 characters/],
      [acme('long-label.yaml', sources, `  - xenserver-legacy: { label: ${'l'.repeat(65)} }\n`), /: targets\[0\]\.xenserver-legacy\.label: must be at most 64 characters/],
    ]);
  });

  it('every value at its cap still builds: the longest RPM file name fits NAME_MAX (xorriso)', () => {
    const kernel = `5.14.0-${'9'.repeat(64 - '5.14.0-'.length - '.el9_3.x86_64'.length)}.el9_3.x86_64`;
    const head = `name: ${'n'.repeat(64)}\nversion: 2.4.${'4'.repeat(28)}\nrelease: 3.3.${'3'.repeat(28)}\nvendor: ${'v'.repeat(32)}\nsummary: s\n`;
    const out = join(dir, 'out-caps');
    const r = dudkit(['build', acme('caps.yaml', `  - ko: ${KO}/acmenet.ko\n    kernel: ${kernel}\n`, undefined, head), '-o', out]);
    expect(r.stderr).toMatch(/^(dudkit: warning: [^\n]*\n)*$/);
    expect(r.status).toBe(0);
    const iso = join(out, readdirSync(out).find((f) => f.endsWith('.iso'))!);
    const names = run('xorriso', ['-indev', iso, '-find', '/rpms', '-name', '*.rpm']).stdout.trim().split('\n');
    expect(names).toHaveLength(2); // the kmod and the firmware package
    for (const n of names) expect(basename(n.replace(/'/g, '')).length).toBeLessThanOrEqual(255);
  });

  it('control characters (and NUL) in any string are refused at their key; TAB/LF only in description', async () => {
    const sources = `  - ko: ${KO}/*.ko\n`;
    await refused([
      [acme('ctl-summary.yaml', sources, undefined, ACME.replace('summary: ACME 25GbE network driver', 'summary: "ACME\\x01 driver"')), /: summary: contains the control character U\+0001; remove it \(line 5, column 1\)$/m],
      [acme('nul-summary.yaml', sources, undefined, ACME.replace('summary: ACME 25GbE network driver', 'summary: "ACME\\0"')), /: summary: contains the control character U\+0000 \(NUL\); remove it \(line 5, column 1\)$/m],
      [acme('nul-path.yaml', `  - ko: "${KO}/acmenet.ko\\0"\n`), /: sources\[0\]\.ko: contains the control character U\+0000 \(NUL\)/],
      [acme('tab-summary.yaml', sources, undefined, ACME.replace('summary: ACME 25GbE network driver', 'summary: "ACME\\tdriver"')), /: summary: contains U\+0009 \(TAB\); only description may hold tabs and line breaks: make it one line \(line 5, column 1\)$/m],
      [acme('lf-vendorname.yaml', sources, undefined, `${ACME}vendorName: |\n  ACME\n  Networks\n`), /: vendorName: contains U\+000A \(line feed\)/],
      [acme('ctl-target.yaml', sources, '  - rhdd3: { out: dd.iso }\n  - xenserver-update: { key: k.asc, text: "pack\\e" }\n'), /: targets\[1\]\.xenserver-update\.text: contains the control character U\+001B \(ESC\)/],
      [acme('ctl-firmware.yaml', sources, undefined, `${ACME}firmware:\n  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: "acme/\\x7f.bin" }\n`), /: firmware\[0\]\.dest: contains the control character U\+007F \(DEL\)/],
      [acme('c1-key.yaml', sources, `  - rhdd3: { out: dd.iso, serve: { "${K93}\\u0085": [${K93}] } }\n`), /: targets\[0\]\.rhdd3\.serve\.\S+: contains the control character U\+0085/],
    ]);
    const ok = await loadManifest(acme('ml-description.yaml', sources, undefined, `${ACME}description: |\n  ACME drivers:\n  \tacmenet and acmestor.\n`));
    expect(ok.manifest.description).toBe('ACME drivers:\n\tacmenet and acmestor.\n');
  });

  it('a later target that cannot be planned stops the build before the first output', async () => {
    // the dom0 kernel mapping is missing: found while planning, after rhdd3 and pxe were planned
    await refused([[acme('plan-fails.yaml', `  - ko: ${KO}/*.ko\n`, '  - rhdd3: { out: dd.iso }\n  - pxe: { out: dd.cpio.gz }\n  - xenserver-update: { out: x.iso, key: k.asc }\n'), /: targets\[2\]\.xenserver-update\.key: k\.asc: no such file or directory/]]);
    writeFileSync(join(dir, 'k.asc'), 'not a key');
    // the signing key is read in prepare, before anything is written
    const badKey = dudkit(['build', acme('bad-key.yaml', `  - ko: ${KO}/*.ko\n`, '  - rhdd3: { out: dd.iso }\n  - xenserver-update: { out: x.iso, key: k.asc }\n'), '-o', join(dir, 'out-bad-key')]);
    expect(badKey.status).toBe(2);
    expect(badKey.stderr).toBe(`dudkit: ${join(dir, 'k.asc')}: not an ASCII-armoured OpenPGP secret key (Misformed armored text)\n`);
    expect(listing(join(dir, 'out-bad-key'))).toEqual([]);
    // a file name too long for the pack's Joliet names: found from the plan, not while writing
    const long = `  - xenserver-legacy: { out: x.iso, label: ${'l'.repeat(64)}, rpmVersion: 2.4.${'4'.repeat(28)}, kernels: { ${K93}: 3.10.0+10 } }\n`;
    await refused([[acme('plan-names.yaml', `  - ko: ${KO}/*.ko\n`, `  - rhdd3: { out: dd.iso }\n${long}`), /: targets\[1\]\.xenserver-legacy: name longer than 103 Joliet characters: l+-3\.10\.0\+10-modules-\S+\.rpm \(in \/\): shorten the values that name it \(line 12, column 5\)$/]]);
    await refused([[acme('plan-fails2.yaml', `  - ko: ${KO}/*.ko\n`, `  - rhdd3: { out: dd.iso }\n  - pxe: { out: dd.cpio.gz }\n  - xenserver-update: { out: x.iso, key: ${FIXTURES}/rpms/signing/secret.asc, uuid: 67468750-b094-5669-b893-902772861a12 }\n`), /: targets\[2\]\.xenserver-update: kernel release "5\.14\.0-362\.8\.1\.el9_3\.x86_64" contains "-"/]]);
  });

  it('a file in the way of a later target is found before the first output', () => {
    const out = join(dir, 'out-partial');
    mkdirSync(out);
    writeFileSync(join(out, 'blocker'), 'a file');
    const m = acme('partial.yaml', `  - ko: ${KO}/*.ko\n`, '  - rhdd3: { out: dd.iso }\n  - pxe: { out: dd.cpio.gz }\n  - rhdd3: { out: blocker/dd2.iso }\n');
    const r = dudkit(['build', m, '-o', out]);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('blocker');
    expect(listing(out)).toEqual(['blocker']);
  });
});
