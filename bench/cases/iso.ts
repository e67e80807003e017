/**
 * ISO benchmark: `dudkit iso` against `xorriso -as mkisofs -R -J` (with `implantisomd5`, `md5sum`
 * and `sha256sum` for the variants with digests, each made durable with `sync` as dudkit's fsync
 * makes its output), and against `cat` of the same payload bytes into one file, the physical
 * floor. A tree of 2,000 small files and 8 large ones, deterministic content, at 100 MiB and
 * 1 GiB (DUDKIT_BENCH_ISO_SIZES=100M,1G; add 4G for the flat-RSS check); dudkit's peak RSS must
 * not grow with the size. Goals are issue 18's. Every command runs in its own process under GNU
 * time; the best of DUDKIT_BENCH_REPEAT rounds, every command run once per round.
 */
import { createCipheriv } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, measureRows, paired, parseSize, sh, warm, type BenchCase, type BenchRow, type Run } from '../registry.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const EPOCH = '1700000000';

const LARGE = 8;
/** Issue 18: dudkit iso's peak RSS at any size. */
const RSS_GOAL_MIB = 150;

/** Deterministic pseudo-random bytes (AES-CTR of zeros with a fixed key): fast, incompressible. */
function stream(seed: number) {
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(seed, 0);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), iv);
  return (n: number) => cipher.update(Buffer.alloc(n));
}

/**
 * The same 2000 small files (1–20 KiB, 100 per folder, about 21 MiB) at every size, and eight
 * large files holding the rest (about 128 MiB each at 1 GiB): the sizes differ only in payload bytes, so peak RSS must not move.
 */
function makeTree(root: string, total: number): { files: number } {
  const rand = stream(1);
  let smallBytes = 0;
  const SMALL = 2000;
  for (let i = 0; i < SMALL; i++) {
    const size = 1024 + (rand(2).readUInt16BE(0) % (19 * 1024));
    const dir = join(root, 'small', `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file-${i}.bin`), rand(size));
    smallBytes += size;
  }
  const large = Math.floor(Math.max(0, total - smallBytes) / LARGE);
  for (let i = 0; i < LARGE; i++) {
    const data = stream(100 + i);
    const path = join(root, `large-${i}.img`);
    writeFileSync(path, '');
    for (let done = 0; done < large; done += 64 << 20) writeFileSync(path, data(Math.min(64 << 20, large - done)), { flag: 'a' });
  }
  return { files: SMALL + LARGE };
}

const DUDKIT = 'dudkit iso';
const XORRISO = 'xorriso -as mkisofs -R -J';
const DUDKIT_MD5 = 'dudkit iso --implant-md5 --md5';
const XORRISO_MD5 = 'xorriso … && implantisomd5 && sync && md5sum';
const DUDKIT_SUMS = 'dudkit iso --md5 --sha256';
const XORRISO_SUMS = 'xorriso … && md5sum && sha256sum && sync';
const CAT = 'cat (floor)';
const STARTUP = 'dudkit --version (CLI start-up)';
const CAT_SYNC = 'cat + fsync (floor, durable like dudkit)';
const CAT_SYNC_MD5 = 'cat + sync + md5sum (floor with the digest)';

async function runSize(total: number): Promise<BenchRow[]> {
  const work = mkdtempSync(join(process.env.DUDKIT_BENCH_DIR ?? tmpdir(), 'dudkit-bench-iso-'));
  try {
    const tree = join(work, 'tree');
    const { files } = makeTree(tree, total);
    const label = `ISO ${total >= 1 << 30 ? `${total / (1 << 30)} GiB` : `${total / (1 << 20)} MiB`}, ${files} files`;
    const out = join(work, 'out.iso');
    const clean = () => ['', '.md5', '.sha256'].forEach((x) => rmSync(out + x, { force: true }));
    const payload = `find ${sh(tree)} -type f -print0 | sort -z | xargs -0 cat`;
    const env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH };
    const runs: Run[] = [];
    const row = (tool: string, command: string, compareWith: string[] = [], goals: Record<string, number> = {}): void => {
      runs.push({ tool, command, before: clean, env, compareWith, goals, ...(tool.startsWith('dudkit iso') ? { rssGoalMiB: RSS_GOAL_MIB } : {}) });
    };
    warm(payload);
    const md5sum = `md5sum ${sh(out)} > ${sh(`${out}.md5`)}`;
    row(CAT, `${payload} > ${sh(out)}`);
    row(CAT_SYNC, `${payload} > ${sh(out)} && sync ${sh(out)}`);
    row(CAT_SYNC_MD5, `${payload} > ${sh(out)} && sync ${sh(out)} && ${md5sum}`);
    const dudkit = `node ${sh(CLI)} iso ${sh(tree)} -o ${sh(out)} -V BENCH`;
    const xorriso = `xorriso -as mkisofs -quiet -R -J -V BENCH -o ${sh(out)} ${sh(tree)}`;
    row(STARTUP, `node ${sh(CLI)} --version > /dev/null`);
    // issue 18 sets the floor goal for the 1 GiB image and the xorriso goal for the 100 MiB one
    row(DUDKIT, dudkit, [CAT, CAT_SYNC, XORRISO], total >= 1 << 30 ? { [CAT_SYNC]: 1.1 } : { [XORRISO]: 0.5 });
    row(DUDKIT_MD5, `${dudkit} --implant-md5 --md5`, [CAT_SYNC_MD5, XORRISO_MD5], { [CAT_SYNC_MD5]: 1.3, [XORRISO_MD5]: 0.5 });
    row(DUDKIT_SUMS, `${dudkit} --md5 --sha256`, [CAT_SYNC, XORRISO_SUMS], { [XORRISO_SUMS]: 0.3 });
    if (hasCommand('xorriso')) {
      row(XORRISO, xorriso, [CAT]);
      if (hasCommand('implantisomd5')) row(XORRISO_MD5, `${xorriso} && implantisomd5 --force ${sh(out)} > /dev/null && sync ${sh(out)} && ${md5sum}`, [CAT]);
      row(XORRISO_SUMS, `${xorriso} && ${md5sum} && sha256sum ${sh(out)} > ${sh(`${out}.sha256`)} && sync ${sh(out)}`, [CAT]);
    }
    return measureRows(label, runs);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export const isoCases: BenchCase[] = (process.env.DUDKIT_BENCH_ISO_SIZES ?? '100M,1G').split(',').map((s) => ({
  name: `iso-${s.trim()}`,
  run: () => runSize(parseSize(s)),
}));

/** Peak RSS of `dudkit iso` across sizes: it must stay flat (and under the goal, shown in the table). */
export function isoSummary(rows: readonly BenchRow[]): string[] {
  const dud = rows.filter((r) => r.tool === DUDKIT && r.case.startsWith('ISO '));
  const lines: string[] = [];
  if (dud.length >= 2) {
    const [a, b] = [dud[0]!, dud[dud.length - 1]!];
    lines.push(`dudkit iso peak RSS: ${(a.maxRssKiB! / 1024).toFixed(1)} MiB (${a.case}) → ${(b.maxRssKiB! / 1024).toFixed(1)} MiB (${b.case}) (goal ≤ ${RSS_GOAL_MIB} MiB, flat)`);
  }
  for (const r of dud) {
    const cat = rows.find((x) => x.case === r.case && x.tool === CAT_SYNC);
    const startup = rows.find((x) => x.case === r.case && x.tool === STARTUP);
    if (cat && startup) lines.push(`${r.case}: dudkit iso without the CLI start-up ${paired([r, startup, cat], ([d, s, c]) => (d! - s!) / c!).toFixed(2)}× cat + fsync`);
  }
  return lines;
}
