// Boot tests under qemu-system-x86_64 (TCG) for the attached RHEL 10-shaped installer ISO
// (delivery.md check 19), each boot path once: BIOS from CD (-cdrom: SeaBIOS, El Torito, GRUB's
// eltorito.img), BIOS from disk (-drive format=raw: GRUB's boot_hybrid.img MBR), UEFI (OVMF, Debian
// package ovmf: El Torito UEFI entry → the appended ESP's BOOTX64.EFI). Each boot waits for GRUB's
// menu, presses `e` on the default entry and reads the kernel line from VGA text memory (QEMU's
// pmemsave of 0xb8000) or, under OVMF, from the serial console. The original ISO boots first, so
// the test knows what "reaches the menu" looks like. Boots run one after another, each capped at
// 30 s of waiting (qemu itself under `timeout`).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { FIXTURES, ROOT, run } from './helpers/run.js';
import { ACME } from './helpers/manifest.js';

const dir = tempDir('dudkit-attach-boot-');
const OVMF = '/usr/share/ovmf/OVMF.fd';
const LABEL = 'Test-10.0-BaseOS-x86_64';
const ARG = `inst.dd=hd:LABEL=${LABEL}`;
const installer = join(dir, 'rhel10.iso');
const attached = join(dir, 'out', 'rhel10-dd.iso');
const WAIT_MS = 30_000;

type Path = 'cdrom' | 'disk' | 'uefi';

/** Screen text as rows; GRUB's editor wraps a long line with `\` at the row's end. */
function unwrap(rows: string[]): string[] {
  const out: string[] = [];
  let carry = '';
  for (const raw of rows) {
    const row = raw.replace(/\s+$/, '');
    // a cursor move between the halves leaves an empty row on the serial console
    if (carry && row === '') continue;
    const text = carry ? carry + row.replace(/^\s+/, '') : row;
    if (text.endsWith('\\')) carry = text.slice(0, -1);
    else {
      out.push(text);
      carry = '';
    }
  }
  if (carry) out.push(carry);
  return out;
}

/** The VGA text buffer (80 × 25 character/attribute pairs) as rows. */
function vgaRows(bytes: Buffer): string[] {
  const chars = [...bytes.subarray(0, 4000).filter((_, i) => i % 2 === 0)].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : ' ')).join('');
  return Array.from({ length: 25 }, (_, i) => chars.slice(i * 80, i * 80 + 80));
}

/** The serial console as rows, terminal escapes (cursor moves) taken as row breaks. */
function serialRows(text: string): string[] {
  return text.replace(/\x1b\[[0-9;:?]*[A-Za-z]/g, '\n').replace(/\r/g, '').split('\n');
}

/**
 * Boot `iso` one way, wait for GRUB's menu, press `e`, and return the kernel line (linux/linuxefi)
 * of the default entry as the editor shows it; undefined when the menu or the line never shows.
 */
async function kernelLineAtBoot(iso: string, path: Path): Promise<{ menu: boolean; line?: string }> {
  const tag = `${path}-${iso === installer ? 'in' : 'out'}`;
  const vga = join(dir, `${tag}.vga`);
  const serial = join(dir, `${tag}.serial`);
  const drive = path === 'disk' ? ['-drive', `file=${iso},format=raw,if=ide,snapshot=on`, '-boot', 'c'] : ['-cdrom', iso, '-boot', 'd'];
  const args = ['-m', '256', '-display', 'none', '-monitor', 'stdio', '-serial', `file:${serial}`, '-net', 'none', ...(path === 'uefi' ? ['-bios', OVMF] : []), ...drive];
  const qemu = spawn('timeout', [String(WAIT_MS / 1000 + 15), 'qemu-system-x86_64', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  const monitor = (c: string) => qemu.stdin.write(`${c}\n`);
  const screen = async (): Promise<string[]> => {
    if (path === 'uefi') return existsSync(serial) ? serialRows(readFileSync(serial, 'latin1')) : [];
    rmSync(vga, { force: true });
    monitor(`pmemsave 0xb8000 4000 "${vga}"`);
    for (let i = 0; i < 20 && !(existsSync(vga) && readFileSync(vga).length === 4000); i++) await sleep(100);
    return existsSync(vga) ? vgaRows(readFileSync(vga)) : [];
  };
  const waitFor = async (done: (rows: string[]) => boolean): Promise<string[] | undefined> => {
    for (let waited = 0; waited < WAIT_MS; waited += 500) {
      const rows = unwrap(await screen());
      if (done(rows)) return rows;
      await sleep(500);
    }
    return undefined;
  };
  try {
    const menu = await waitFor((rows) => rows.some((r) => /Test this media & install/.test(r)));
    if (!menu) return { menu: false };
    monitor('sendkey e');
    // the entry is drawn whole once its initrd line, after the kernel line, shows
    const entry = (rows: string[]) => rows.slice(rows.findIndex((r) => /^\s*setparams 'Test this media/.test(r)));
    const editor = await waitFor((rows) => rows.some((r) => /^\s*setparams 'Test this media/.test(r)) && entry(rows).some((r) => /^\s*initrd(efi)?\s/.test(r)));
    const line = editor && entry(editor).find((r) => /^\s*linux(efi)?\s/.test(r));
    return { menu: true, ...(line ? { line: line.trim() } : {}) };
  } finally {
    monitor('quit');
    await new Promise((r) => qemu.once('close', r));
  }
}

/** The default entry's kernel line as the config spells it (entry 2: `set default="1"`). */
function configLine(iso: string, config: string): string {
  const to = join(dir, `${config.replace(/\//g, '_')}-${iso === installer ? 'in' : 'out'}`);
  execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/${config}`, to], { stdio: 'ignore' });
  return readFileSync(to, 'utf8').split('\n').filter((l) => /^\s*linux(efi)?\s/.test(l))[1]!.trim();
}

beforeAll(async () => {
  execFileSync('bash', [join(ROOT, 'fixtures/scripts/installer-iso.sh'), installer], { stdio: 'ignore', env: { ...process.env, RHEL: '10' } });
  const m = join(dir, 'm.yaml');
  writeFileSync(m, `${ACME}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso }\n  - attach: { installer: rhel10.iso }\n`);
  await build(m, { outDir: join(dir, 'out'), ctx: createContext({ epoch: 1700000000 }) });
}, 60_000);

describe('qemu boots of the RHEL 10-shaped installer ISO with a driver disk attached', () => {
  const paths: [Path, string, string][] = [
    ['cdrom', 'BIOS from CD (-cdrom, SeaBIOS → El Torito eltorito.img)', 'boot/grub2/grub.cfg'],
    ['disk', 'BIOS from disk (-drive format=raw, the GRUB2 hybrid MBR)', 'boot/grub2/grub.cfg'],
    ['uefi', 'UEFI (OVMF, El Torito UEFI entry → appended ESP)', 'EFI/BOOT/grub.cfg'],
  ];
  it.each(paths)('%s: %s reaches GRUB\'s menu; `e` on the default entry shows the kernel line with inst.dd=', async (path, _what, config) => {
    expect(run('qemu-system-x86_64', ['--version']).status).toBe(0);
    if (path === 'uefi') expect(existsSync(OVMF)).toBe(true);
    // the original first: it boots to the menu and shows its own line
    const before = await kernelLineAtBoot(installer, path);
    expect(before).toEqual({ menu: true, line: configLine(installer, config) });
    expect(before.line).not.toContain('inst.dd=');
    const after = await kernelLineAtBoot(attached, path);
    expect(after).toEqual({ menu: true, line: `${before.line} ${ARG}` });
    expect(configLine(attached, config)).toBe(after.line);
  }, 120_000);
});
