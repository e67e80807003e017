// Each artifact once per build (issue 11): a manifest with rhdd3 + pxe + usb + attach compresses
// each package's payload once (counted in the progress phases the RPM writer announces), and the
// disk nested in the PXE overlay (extracted with GNU cpio) and in the installer ISO (extracted with
// xorriso) is byte for byte the rhdd3 ISO output (cmp).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
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
