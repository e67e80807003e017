/** The text of `rom check` and `inspect`: one line per field of every image, each checked field with `ok` or what is wrong. */
import { BLOCK, hex } from './layout.js';
import type { RomImageReport, RomReport, SubHeaderReport } from './check.js';

const CODE_TYPES: Record<number, string> = { 0: 'x86 BIOS', 1: 'Open Firmware', 2: 'HP PA-RISC', 3: 'EFI' };
const MACHINES: Record<string, string> = { '0x8664': 'x64', '0x014c': 'IA-32', '0xaa64': 'AArch64', '0x0200': 'Itanium', '0x0ebc': 'EFI byte code' };
const SUBSYSTEMS: Record<number, string> = { 10: 'application', 11: 'boot service driver', 12: 'runtime driver' };

const verdict = (ok: boolean) => (ok ? 'ok' : 'BAD');
const row = (label: string, text: string, ok?: boolean) => `  ${label.padEnd(16)} ${text}${ok === undefined ? '' : `  ${verdict(ok)}`}`;
const blocks = (n: number) => `${n} × ${BLOCK} = ${n * BLOCK} bytes`;

function subHeaderRow(name: string, s: SubHeaderReport | null): string[] {
  return s ? [row(name, `at ${hex(s.offset)}, ${s.length} bytes, sum ${hex(s.sum, 2)}`, s.ok)] : [];
}

function imageLines(i: RomImageReport): string[] {
  const lines = [`image ${i.index} at ${hex(i.offset)}: ${i.type}${i.pcir ? ` (code type ${i.pcir.codeType}, ${CODE_TYPES[i.pcir.codeType] ?? 'unknown'})` : ' (no PCIR: ISA-style)'}, ${i.length} bytes`];
  if (i.sizeByte !== null) lines.push(row('size byte', `${blocks(i.sizeByte)} covered by the checksum`, i.sizeByte > 0 && i.sizeByte * BLOCK <= i.length));
  if (i.entry) lines.push(row('entry', `${i.entry.bytes}: ${i.entry.target === null ? (i.entry.bytes === '000000' ? 'none' : 'not a jump') : `jump to ${hex(i.entry.target)}`}`));
  if (i.type === 'legacy' && i.checksum) lines.push(row('checksum', `byte 6 = ${hex(i.checksum.value, 2)}, the covered bytes sum to ${hex(i.checksum.sum, 2)}`, i.checksum.ok));
  if (i.pcir) {
    const p = i.pcir;
    lines.push(
      row('PCIR', `at ${hex(p.offset)}, structure revision ${p.revision}, length ${hex(p.length)}`),
      row('  vendor:device', `${p.vendor.slice(2)}:${p.device.slice(2)}`),
      row('  class', `${p.class} (bytes at +0x0d: ${p.class.slice(6, 8)} ${p.class.slice(4, 6)} ${p.class.slice(2, 4)})`),
      row('  image length', blocks(p.imageLength), p.imageLength > 0 && p.imageLength * BLOCK === i.length),
      row('  code revision', String(p.codeRevision)),
      row('  code type', `${p.codeType} (${CODE_TYPES[p.codeType] ?? 'unknown'})`),
      row('  indicator', `${hex(p.indicator, 2)}: ${p.last ? 'last image' : 'more images follow'}`),
    );
  }
  lines.push(...subHeaderRow('$PnP', i.pnp), ...subHeaderRow('UNDI', i.undi), ...subHeaderRow('iPXE', i.ipxe));
  if (i.efi) {
    const e = i.efi;
    lines.push(
      row('EFI init size', blocks(e.initSize)),
      row('EFI subsystem', `${e.subsystem} (${SUBSYSTEMS[e.subsystem] ?? 'unknown'})`),
      row('EFI machine', `${e.machine} (${MACHINES[e.machine] ?? 'unknown'})`),
      row('EFI compression', `${e.compression} (${e.compression === 0 ? 'none' : e.compression === 1 ? 'EFI compression' : 'unknown'})`),
      row('EFI PE image', `at ${hex(e.peOffset)}`),
      row('EFI balance', `${i.checksum ? `adjust byte at ${hex(i.checksum.offset)} = ${hex(i.checksum.value, 2)}, ` : ''}the image sums to ${hex(e.sum, 2)}: ${e.balanced ? 'balanced' : 'not balanced'} (no checksum required)`),
    );
  }
  lines.push(...i.problems.map((p) => `  problem: ${p}`));
  return lines;
}

export function describeRom(r: RomReport, name: string): string {
  const images = `${r.images.length} image${r.images.length === 1 ? '' : 's'}`;
  const head = `option ROM ${name}: ${r.size} bytes, ${images}${r.trailing ? `, ${r.trailing} bytes after the last image` : ''}: ${r.valid ? 'valid' : 'INVALID'}`;
  // the images' own problems are listed under each image
  const tail = r.problems.filter((p) => !/^image \d+ at 0x[0-9a-f]+: /.test(p));
  return [head, ...r.images.flatMap(imageLines), ...tail.map((p) => `problem: ${p}`)].join('\n');
}
