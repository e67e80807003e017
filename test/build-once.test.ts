// Each artifact once per build (issue 11): a manifest with rhdd3 + pxe + usb + attach compresses
// each package's payload once (counted in the progress phases the RPM writer announces), and the
// disk nested in the PXE overlay (extracted with GNU cpio) and in the installer ISO (extracted with
// xorriso) is byte for byte the rhdd3 ISO output (cmp).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import type { Progress } from '../src/progress.js';
import { ACME } from './helpers/manifest.js';
import { FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-once-');
const out = join(dir, 'out');
const phases: string[] = [];

beforeAll(async () => {
  const manifest = join(dir, 'dudkit.yaml');
  writeFileSync(
    manifest,
    `${ACME}sources:
  - ko: ${FIXTURES}/ko/5.14.0-362.8.1.el9_3.x86_64/*.ko
  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko
firmware:
  - file: ${FIXTURES}/firmware/acmenet.bin
    dest: acme/acmenet.bin
targets:
  - rhdd3: { out: dd.iso }
  - pxe: { out: dd.cpio.gz }
  - usb: { out: dd-usb.img }
  - attach: { installer: ${FIXTURES}/installer/test-9.4-boot.iso, out: installer-dd.iso }
`,
  );
  const progress: Progress = { phase: (label) => phases.push(label), advance() {}, note() {} };
  await build(manifest, { outDir: out, ctx: createContext({ epoch: 1700000000, progress, onWarn() {} }) });
});

describe('a multi-target build', () => {
  it('compresses each package payload exactly once', () => {
    const compressed = phases.filter((p) => p.startsWith('compressing the payload of ')).map((p) => /of (\S+\.rpm)/.exec(p)![1]);
    expect(compressed.sort()).toEqual([
      'acme-acmenet-firmware-2.4.1-3.noarch.rpm',
      'kmod-acme-acmenet-2.4.1-3.362.8.1.el9_3.x86_64.rpm',
      'kmod-acme-acmenet-2.4.1-3.427.13.1.el9_4.x86_64.rpm',
    ]);
    // the repodata is generated once too
    expect(phases.filter((p) => p.startsWith('generating rpms/x86_64/repodata/'))).toHaveLength(1);
  });

  it('nests the very rhdd3 ISO in the PXE overlay (GNU cpio -i, cmp)', () => {
    const x = join(dir, 'pxe');
    mkdirSync(x);
    execFileSync('sh', ['-c', `gzip -dc ${join(out, 'dd.cpio.gz')} | cpio -i --quiet`], { cwd: x });
    expect(run('cmp', [join(x, 'dd.iso'), join(out, 'dd.iso')]).status).toBe(0);
  });

  it('nests the very rhdd3 ISO in the installer ISO (xorriso -extract, cmp)', () => {
    const copy = join(dir, 'attached-dd.iso');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', join(out, 'installer-dd.iso'), '-extract', '/dd.iso', copy], { stdio: 'ignore' });
    expect(run('cmp', [copy, join(out, 'dd.iso')]).status).toBe(0);
  });
});

// The manifest's order does not matter: a target whose medium others nest is written first, and
// the nested copies are its output file; a pack ISO the release zip nests likewise.
describe('each artifact once, whatever the order of the targets', () => {
  // an output, or a copy in the scratch folder (named N-<name>)
  const written = (phases: string[], name: string) => phases.filter((p) => p.startsWith('writing ') && new RegExp(`/(\\d+-)?${name.replace(/\./g, '\\.')}$`).test(p));
  const buildWith = async (name: string, body: string, at: string): Promise<string[]> => {
    const seen: string[] = [];
    const manifest = join(dir, name);
    writeFileSync(manifest, `${ACME}${body}`);
    const progress: Progress = { phase: (label) => seen.push(label), advance() {}, note() {} };
    await build(manifest, { outDir: at, ctx: createContext({ epoch: 1700000000, progress, onWarn() {} }) });
    return seen;
  };

  it('pxe, usb and attach before rhdd3: the disk is written once, as the rhdd3 output, and the overlay holds it (GNU cpio -i, cmp)', async () => {
    const at = join(dir, 'late-rhdd3');
    const seen = await buildWith(
      'late-rhdd3.yaml',
      `sources:
  - ko: ${FIXTURES}/ko/5.14.0-362.8.1.el9_3.x86_64/*.ko
targets:
  - pxe: { out: dd.cpio.gz }
  - usb: { out: dd-usb.img }
  - attach: { installer: ${FIXTURES}/installer/test-9.4-boot.iso, out: installer-dd.iso }
  - rhdd3: { out: dd.iso }
`,
      at,
    );
    expect(written(seen, 'dd.iso')).toEqual([`writing ${join(at, 'dd.iso')}`]);
    const x = join(dir, 'late-pxe');
    mkdirSync(x);
    execFileSync('sh', ['-c', `gzip -dc ${join(at, 'dd.cpio.gz')} | cpio -i --quiet`], { cwd: x });
    expect(run('cmp', [join(x, 'dd.iso'), join(at, 'dd.iso')]).status).toBe(0);
  });

  it('release-zip before xenserver-legacy: the pack ISO is written once and the zip holds it (unzip, cmp)', async () => {
    const at = join(dir, 'late-pack');
    const deb = readdirSync(join(FIXTURES, 'ko')).find((k) => k.endsWith('-amd64'))!;
    const seen = await buildWith(
      'late-pack.yaml',
      `sources:
  - ko: ${FIXTURES}/ko/${deb}/*.ko
    kernel: 3.10.0+2
targets:
  - release-zip: { source: ${FIXTURES}/src/acme }
  - xenserver-legacy: { text: ACME acmenet driver, xenserver: 6.5.0 }
`,
      at,
    );
    expect(written(seen, 'acmenet.iso')).toEqual([`writing ${join(at, 'acmenet.iso')}`]);
    const x = join(dir, 'late-zip');
    execFileSync('unzip', ['-q', join(at, 'acmenet-2.4.1.zip'), '-d', x]);
    expect(run('cmp', [join(x, 'acmenet.iso'), join(at, 'acmenet.iso')]).status).toBe(0);
    expect(run('md5sum', ['-c', 'acmenet.iso.md5'], { cwd: x }).status).toBe(0);
  });
});
