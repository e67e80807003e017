/**
 * Multi-target builds (issue 11, "each artifact once per build"): one large module — the real
 * fixture `acmenet.ko` with DUDKIT_BENCH_TARGETS_MODULE_MIB (default 64) of incompressible padding
 * added as an ELF section by `objcopy --add-section` — built for `rhdd3` alone, and for `rhdd3` +
 * `pxe` + `usb` (the disk again inside an initrd overlay and on a FAT image). With each artifact
 * made once, the second build pays only for writing the two extra media, not for compressing the
 * module's payload again: the goal is at most 1.6× the first.
 */
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasCommand, measureRows, ratio, sh, type BenchCase, type BenchRow } from '../registry.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const FIXTURE_KO = join(ROOT, 'fixtures/ko/5.14.0-362.8.1.el9_3.x86_64/acmenet.ko');
const MODULE_MIB = Number(process.env.DUDKIT_BENCH_TARGETS_MODULE_MIB ?? '64');
const ALONE = 'dudkit build rhdd3';
const ALL = 'dudkit build rhdd3 + pxe + usb';
const GOAL = 1.6;

/** Deterministic incompressible bytes (AES-CTR of zeros), written in 16 MiB pieces. */
function writePadding(path: string, size: number): void {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16));
  writeFileSync(path, '');
  for (let done = 0; done < size; done += 16 << 20) writeFileSync(path, cipher.update(Buffer.alloc(Math.min(16 << 20, size - done))), { flag: 'a' });
}

function manifest(ko: string, targets: string[]): string {
  return [
    'name: acmenet',
    'version: 2.4.1',
    'vendor: acme',
    'summary: bench',
    'sources:',
    `  - ko: ${ko}`,
    'targets:',
    ...targets.map((t) => `  - ${t}`),
    '',
  ].join('\n');
}

async function run(): Promise<BenchRow[]> {
  if (!hasCommand('objcopy')) throw new Error('bench targets: objcopy (binutils) is needed to make the large module');
  const work = mkdtempSync(join(process.env.DUDKIT_BENCH_DIR ?? tmpdir(), 'dudkit-bench-targets-'));
  try {
    const pad = join(work, 'padding.bin');
    writePadding(pad, Math.round(MODULE_MIB * (1 << 20)));
    mkdirSync(join(work, 'ko'));
    const ko = join(work, 'ko', 'acmenet.ko');
    execFileSync('objcopy', ['--add-section', `.dudkit_pad=${pad}`, '--set-section-flags', '.dudkit_pad=contents,readonly', FIXTURE_KO, ko]);
    rmSync(pad);
    const rhdd3 = 'rhdd3: { out: dd.iso }';
    const alone = join(work, 'alone.yaml');
    const all = join(work, 'all.yaml');
    writeFileSync(alone, manifest(ko, [rhdd3]));
    writeFileSync(all, manifest(ko, [rhdd3, 'pxe: { out: dd.cpio.gz }', 'usb: { out: dd-usb.img }']));
    const out = join(work, 'out');
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
    const label = `one ${MODULE_MIB} MiB module (incompressible padding)`;
    const before = () => rmSync(out, { recursive: true, force: true });
    const build = (path: string) => `${sh(process.execPath)} ${sh(CLI)} build ${sh(path)} -o ${sh(out)}`;
    return measureRows(label, [
      { tool: ALONE, command: build(alone), before, env },
      { tool: ALL, command: build(all), before, env, compareWith: [ALONE] },
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const targetsCases: BenchCase[] = [{ name: 'targets', run }];

/** The multi-target build against the single one, beside the goal. */
export function targetsSummary(rows: readonly BenchRow[]): string[] {
  const all = rows.find((r) => r.tool === ALL);
  const alone = rows.find((r) => r.tool === ALONE && r.case === all?.case);
  return all && alone ? [`${all.case}: rhdd3 + pxe + usb take ${ratio(all, alone).toFixed(2)}× rhdd3 alone (goal ≤ ${GOAL}×)`] : [];
}
