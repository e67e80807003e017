/**
 * What the per-file xz-block and gzip-piece payload tests share: a package of one large module for
 * a given kernel, the check that real tools unpack it byte for byte, and a three-kernel build.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { build, createContext } from '../../src/api.js';
import { openRpm } from '../../src/formats/rpm/index.js';
import type { RpmPackage } from '../../src/formats/rpm/write.js';
import { Scratch } from '../../src/tree/scratch.js';
import { bytesSource } from '../../src/tree/source.js';
import { ACME, ACME_FIRMWARE } from './manifest.js';
import { FIXTURES } from './run.js';

export const KERNELS = ['5.14.0-362.8.1.el9_3.x86_64', '5.14.0-427.13.1.el9_4.x86_64', '5.14.0-503.11.1.el9_5.x86_64'];

/** The files of the package: a large module, one of exactly the own-piece threshold, a small config. */
export interface ModuleFiles {
  big: Buffer;
  edge: Buffer;
  small: Buffer;
}

/** Scratch folders made by the returned function are disposed of after the test file. */
export function scratchTracker(): () => Promise<Scratch> {
  const scratches: Scratch[] = [];
  afterAll(async () => {
    for (const s of scratches) await s.dispose();
  });
  return async () => {
    const s = await Scratch.create();
    scratches.push(s);
    return s;
  };
}

export function modulePackage(kernel: string, f: ModuleFiles, description: string): RpmPackage {
  const extra = `/lib/modules/${kernel}/extra/big`;
  return {
    name: 'kmod-acme-big',
    version: '1.0',
    release: `1.${kernel.split('-')[1]!.split('.')[0]}`,
    arch: 'x86_64',
    summary: 'A big module',
    description,
    license: 'GPLv2',
    buildTime: 1700000000,
    files: [
      { type: 'dir', path: extra },
      { type: 'file', path: `${extra}/big.ko`, content: bytesSource(f.big) },
      { type: 'file', path: `${extra}/edge.ko`, content: bytesSource(f.edge) },
      { type: 'file', path: `/etc/modprobe.d/acme-${kernel}.conf`, content: bytesSource(f.small) },
      { type: 'symlink', path: `${extra}/alias.ko`, target: 'big.ko' },
    ],
  };
}

export const payloadOf = async (file: string): Promise<Buffer> => readFileSync(file).subarray((await openRpm(file)).payloadOffset);

/** rpm2cpio | cpio -idm and rpm -i --root (under dir) write every file of modulePackage byte for byte. */
export function expectUnpacked(rpm: string, dir: string, kernel: string, f: ModuleFiles): void {
  const extra = `lib/modules/${kernel}/extra/big`;
  const expectFiles = (root: string): void => {
    expect(readFileSync(join(root, extra, 'big.ko')).equals(f.big)).toBe(true);
    expect(readFileSync(join(root, extra, 'edge.ko')).equals(f.edge)).toBe(true);
    expect(readFileSync(join(root, `etc/modprobe.d/acme-${kernel}.conf`)).equals(f.small)).toBe(true);
    expect(readFileSync(join(root, extra, 'alias.ko')).equals(f.big)).toBe(true);
  };
  const out = join(dir, 'x');
  mkdirSync(out);
  const cpio = execFileSync('rpm2cpio', [rpm], { maxBuffer: 1 << 26 });
  execFileSync('cpio', ['-idm', '--quiet'], { cwd: out, input: cpio });
  expectFiles(out);
  const root = join(dir, 'root');
  mkdirSync(root);
  execFileSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
  execFileSync('rpm', ['-i', '--root', root, '--dbpath', '/var/lib/rpm', '--nodeps', '--noscripts', '--nosignature', rpm]);
  expectFiles(root);
}

/**
 * `dudkit build` of the fixture module, grown past the own-piece threshold by an ELF section
 * (objcopy) so it is shared, for KERNELS[1] alone and for all three; returns that kernel's kmod RPM
 * from each build.
 */
export async function buildAloneAndAmongThree(dir: string, pad: Buffer, targetOptions: string): Promise<{ alone: string; among: string }> {
  const ko = join(dir, 'acmenet.ko');
  writeFileSync(join(dir, 'pad'), pad);
  execFileSync('objcopy', ['--add-section', `.dudkit_pad=${join(dir, 'pad')}`, '--set-section-flags', '.dudkit_pad=contents,readonly', join(FIXTURES, 'ko', KERNELS[0]!, 'acmenet.ko'), ko]);
  const buildFor = async (kernels: string[], out: string): Promise<string> => {
    const sources = kernels.map((k) => `  - ko: ${ko}\n    kernel: ${k}\n`).join('');
    const m = join(dir, `${kernels.length}.yaml`);
    writeFileSync(m, `${ACME}${ACME_FIRMWARE}sources:\n${sources}targets:\n  - rhdd3: { out: dd, format: directory${targetOptions} }\n`);
    await build(m, { outDir: out, ctx: createContext({ epoch: 1700000000, onWarn: () => undefined }) });
    const rpms = join(out, 'dd', 'rpms', 'x86_64');
    const k = KERNELS[1]!.split('-')[1]!.replace(/\.el9.*/, '');
    return join(rpms, readdirSync(rpms).find((f) => f.startsWith('kmod-') && f.includes(k))!);
  };
  return { alone: await buildFor([KERNELS[1]!], join(dir, 'one')), among: await buildFor(KERNELS, join(dir, 'three')) };
}
