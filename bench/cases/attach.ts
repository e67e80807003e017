/**
 * Attach benchmark (issue 6): a driver disk attached to a 1 GiB installer-like ISO (the layout of
 * `fixtures/scripts/installer-iso.sh` plus a large `images/install.img` and 1000 small files) —
 * `dudkit build` with an `attach` target against the mkksiso way, `xorriso -indev … -outdev … -map
 * dd.iso /dd.iso -update <configs> -boot_image any replay && implantisomd5`. xorriso is handed the
 * already edited configurations and efiboot.img (mkksiso would extract, edit and run mkefiboot
 * first), so its row is a lower bound for mkksiso. `cp` of the installer is the physical floor.
 * DUDKIT_BENCH_ATTACH_SIZE (default 1G) sets the installer size.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, measureRows, parseSize, sh, warm, type BenchCase, type BenchRow, type Run } from '../registry.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const CLI = join(ROOT, 'dist/src/cli.js');
const EPOCH = '1700000000';
const LABEL = 'Bench-9.4 x86_64';
const CONFIGS = ['isolinux/isolinux.cfg', 'EFI/BOOT/grub.cfg', 'boot/grub2/grub.cfg', 'images/efiboot.img'];

const DUDKIT = 'dudkit build (attach)';
const XORRISO = 'xorriso replay + implantisomd5';
const CP = 'cp (floor)';

/** Deterministic incompressible bytes (AES-CTR of zeros). */
function stream(seed: number) {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed, 0);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 9), iv);
  return (n: number) => cipher.update(Buffer.alloc(n));
}

/** install.img filling the size, and 1000 small files under Packages/ (about 10 MiB). */
function makeExtra(root: string, total: number): void {
  const rand = stream(3);
  let small = 0;
  for (let i = 0; i < 1000; i++) {
    const dir = join(root, 'Packages', `p${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const size = 1024 + (rand(2).readUInt16BE(0) % (19 * 1024));
    writeFileSync(join(dir, `package-${i}-1.0-1.el9.x86_64.rpm`), rand(size));
    small += size;
  }
  mkdirSync(join(root, 'images'), { recursive: true });
  const path = join(root, 'images', 'install.img');
  const big = Math.max(0, total - small - (2 << 20));
  const data = stream(4);
  writeFileSync(path, '');
  for (let done = 0; done < big; done += 64 << 20) writeFileSync(path, data(Math.min(64 << 20, big - done)), { flag: 'a' });
}

async function run(sizeText: string): Promise<BenchRow[]> {
  const total = parseSize(sizeText);
  const work = mkdtempSync(join(process.env.DUDKIT_BENCH_DIR ?? tmpdir(), 'dudkit-bench-attach-'));
  try {
    const env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH };
    makeExtra(join(work, 'extra'), total);
    const installer = join(work, 'installer.iso');
    execFileSync('bash', [join(ROOT, 'fixtures/scripts/installer-iso.sh'), installer, LABEL, join(work, 'extra')], { stdio: 'ignore', env });
    rmSync(join(work, 'extra'), { recursive: true, force: true });
    writeFileSync(
      join(work, 'm.yaml'),
      `name: acmenet
version: 2.4.1
vendor: acme
summary: ACME 25GbE network driver
sources:
  - ko: ${join(ROOT, 'fixtures/ko/5.14.0-427.13.1.el9_4.x86_64')}/*.ko
targets:
  - rhdd3: { out: dd.iso }
  - attach: { installer: installer.iso, out: attached.iso, checksums: [] }
`,
    );
    // once, outside the timing: the disk and the edited files the reference tool is handed
    const pre = join(work, 'pre');
    execFileSync(process.execPath, [CLI, 'build', join(work, 'm.yaml'), '-o', pre], { stdio: 'ignore', env });
    const edited = join(work, 'edited');
    mkdirSync(edited);
    const updates = CONFIGS.map((c, i) => {
      const to = join(edited, String(i));
      execFileSync('xorriso', ['-osirrox', 'on', '-indev', join(pre, 'attached.iso'), '-extract', `/${c}`, to], { stdio: 'ignore' });
      return `-update ${sh(to)} ${sh(`/${c}`)}`;
    });

    const out = join(work, 'out');
    const ref = join(work, 'ref.iso');
    const clean = () => {
      rmSync(out, { recursive: true, force: true });
      rmSync(ref, { force: true });
    };
    const label = `attach to a ${sizeText} installer ISO`;
    const runs: Run[] = [];
    const row = (tool: string, command: string, compareWith: string[] = [], goals: Record<string, number> = {}): void => {
      runs.push({ tool, command, before: clean, env, compareWith, goals });
    };
    warm(`cat ${sh(installer)}`);
    row(CP, `cp ${sh(installer)} ${sh(ref)} && sync ${sh(ref)}`);
    row(DUDKIT, `node ${sh(CLI)} build ${sh(join(work, 'm.yaml'))} -o ${sh(out)} --only attach`, [CP, XORRISO], { [XORRISO]: 0.5 });
    if (hasCommand('xorriso') && hasCommand('implantisomd5')) {
      const xorriso = `xorriso -indev ${sh(installer)} -outdev ${sh(ref)} -map ${sh(join(pre, 'dd.iso'))} /dd.iso ${updates.join(' ')} -boot_image any replay`;
      row(XORRISO, `${xorriso} > /dev/null 2>&1 && implantisomd5 --force ${sh(ref)} > /dev/null && sync ${sh(ref)}`, [CP]);
    }
    return measureRows(label, runs);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const attachCases: BenchCase[] = [{ name: `attach-${process.env.DUDKIT_BENCH_ATTACH_SIZE ?? '1G'}`, run: () => run(process.env.DUDKIT_BENCH_ATTACH_SIZE ?? '1G') }];
