// PCI option ROMs (option-rom.md §10): the ROMs Debian ships in ipxe-qemu and seabios are the
// reference data (read from the installed packages, never committed), cmp is the byte oracle, and
// SeaBIOS running a ROM under qemu-system-x86_64 -option-rom is the real consumer.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspect, romCheck, romFix } from '../src/api.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-rom-');
const IPXE = '/usr/lib/ipxe/qemu';
const SEABIOS = '/usr/share/seabios';
const ipxeRoms = readdirSync(IPXE).filter((n) => n.endsWith('.rom')).sort().map((n) => join(IPXE, n));
const vgaBioses = readdirSync(SEABIOS).filter((n) => /^vgabios.*\.bin$/.test(n)).sort().map((n) => join(SEABIOS, n));
const nics = ipxeRoms.filter((f) => f.includes('/pxe-')).map((f) => /pxe-(.+)\.rom$/.exec(f)![1]!);

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const has = (b: Uint8Array, at: number, sig: string) => Buffer.from(b.subarray(at, at + 4)).toString('latin1') === sig;

interface Walked {
  offset: number;
  length: number;
  pcir?: number;
  codeType: number;
}

/** The test's own walk (§6): by PCIR image length, stopping after the image marked last. */
function images(b: Uint8Array): Walked[] {
  const out: Walked[] = [];
  for (let o = 0; ; ) {
    const p = u16(b, o + 0x18);
    if (p === 0) return [...out, { offset: o, length: b[o + 2]! * 512, codeType: 0 }];
    const length = u16(b, o + p + 0x10) * 512;
    out.push({ offset: o, length, pcir: o + p, codeType: b[o + p + 0x14]! });
    if (b[o + p + 0x15]! & 0x80) return out;
    o += length;
  }
}

/** Every checksum byte the spec says the re-fix restores (§10.3), set to 0. */
function zeroChecksums(original: Uint8Array): Uint8Array {
  const b = Uint8Array.from(original);
  for (const img of images(b)) {
    if (img.codeType === 0) {
      b[img.offset + 6] = 0;
      for (const [ptr, sig, cks] of [[0x1a, '$PnP', 9], [0x16, 'UNDI', 5], [0x10, 'iPXE', 5]] as const) {
        const at = img.offset + u16(b, img.offset + ptr);
        if (at > img.offset && has(b, at, sig)) b[at + cks] = 0;
      }
    } else if (img.codeType === 3 && img.pcir === img.offset + 0x1c && u16(b, img.pcir + 0x0a) === 0x18) {
      b[img.pcir + 0x18] = 0;
    }
  }
  return b;
}

const write = (name: string, bytes: Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

/** dudkit rom fix IN -o OUT (the CLI), then cmp OUT EXPECTED. */
function fixedEquals(input: string, expected: string, name: string): { fix: ReturnType<typeof dudkit>; cmp: ReturnType<typeof run> } {
  const out = join(dir, name);
  const fix = dudkit(['rom', 'fix', input, '-o', out]);
  return { fix, cmp: run('cmp', [out, expected]) };
}

/** The same through the library API (what the CLI calls), for the loops over every package ROM: cmp's verdict. */
async function apiFixedEquals(input: string, expected: string, name: string): Promise<ReturnType<typeof run>> {
  const out = join(dir, name);
  await romFix(input, out);
  return run('cmp', [out, expected]);
}

describe('option ROMs of Debian ipxe-qemu and seabios', () => {
  it('finds the packages’ ROMs (16 iPXE, 10 VGA BIOSes)', () => {
    expect(ipxeRoms.length).toBe(16);
    expect(vgaBioses.length).toBe(10);
  });

  for (const rom of [...ipxeRoms, ...vgaBioses]) {
    const name = rom.split('/').pop()!;
    it(`valid, walked over the whole file; zeroed checksums re-fixed are cmp-identical; fixing is idempotent: ${name}`, async () => {
      const original = new Uint8Array(readFileSync(rom));
      const { report } = await romCheck(rom);
      expect(report).toMatchObject({ kind: 'option-rom', size: original.length, valid: true, trailing: 0, problems: [] });
      const walked = images(original);
      expect(report.images.map((i) => [i.offset, i.length])).toEqual(walked.map((i) => [i.offset, i.length]));
      expect(walked.reduce((n, i) => n + i.length, 0)).toBe(original.length);
      expect((await inspect(rom)).json).toMatchObject({ kind: 'option-rom', valid: true, images: report.images });
      if (name.startsWith('efi-')) {
        expect(report.images.map((i) => i.type)).toEqual(['legacy', 'efi']);
        expect(report.images[1]!.efi).toMatchObject({ machine: '0x8664', subsystem: 11, peOffset: 0x38, balanced: true });
      }

      const zeroed = zeroChecksums(original);
      const input = write(`zeroed-${name}`, zeroed);
      if (Buffer.compare(zeroed, original) !== 0) expect((await romCheck(input)).report.valid).toBe(false);
      const refixed = await apiFixedEquals(input, rom, `refixed-${name}`);
      expect(refixed.status, refixed.stdout).toBe(0);
      expect((await apiFixedEquals(rom, rom, `again-${name}`)).status).toBe(0);
    });
  }

  it('the CLI: rom check exits 0, inspect --json prints the report, rom fix of zeroed checksums is cmp-identical (efi-e1000.rom, vgabios-stdvga.bin)', () => {
    for (const rom of [join(IPXE, 'efi-e1000.rom'), join(SEABIOS, 'vgabios-stdvga.bin')]) {
      const name = rom.split('/').pop()!;
      expect(dudkit(['rom', 'check', rom]).status).toBe(0);
      const inspected = dudkit(['inspect', rom, '--json']);
      expect(inspected.status).toBe(0);
      expect(JSON.parse(inspected.stdout)).toMatchObject({ kind: 'option-rom', size: readFileSync(rom).length, valid: true, trailing: 0, problems: [] });
      const r = fixedEquals(write(`cli-zeroed-${name}`, zeroChecksums(new Uint8Array(readFileSync(rom)))), rom, `cli-refixed-${name}`);
      expect(r.fix.status).toBe(0);
      expect(r.cmp.status, r.cmp.stdout).toBe(0);
    }
  });

  it('pxe-e1000.rom: PCIR rev 3 at 0x1c, 8086:100e, class 0x020000 (bytes 00 00 02), $PnP/UNDI/iPXE sums; efi-ne2k_pci.rom: 0000:0000 then fff3:0000; vgabios.bin has no PCIR', () => {
    const pxe = JSON.parse(dudkit(['rom', 'check', join(IPXE, 'pxe-e1000.rom'), '--json']).stdout);
    expect(pxe.images).toHaveLength(1);
    expect(pxe.images[0]).toMatchObject({
      type: 'legacy', sizeByte: 147, entry: { bytes: 'e9a200', target: 0xa8 }, checksum: { offset: 6, sum: 0, ok: true },
      pcir: { offset: 0x1c, vendor: '0x8086', device: '0x100e', class: '0x020000', revision: 3, length: 0x1c, imageLength: 147, codeType: 0, indicator: 0x80, last: true },
      pnp: { offset: 0x40, length: 32, sum: 0, ok: true }, undi: { offset: 0x84, length: 22, sum: 0, ok: true }, ipxe: { offset: 0x9c, ok: true }, efi: null,
    });
    const ne2k = JSON.parse(dudkit(['inspect', join(IPXE, 'efi-ne2k_pci.rom'), '--json']).stdout);
    expect(ne2k.images.map((i: { pcir: { vendor: string; device: string } }) => `${i.pcir.vendor}:${i.pcir.device}`)).toEqual(['0x0000:0x0000', '0xfff3:0x0000']);
    const isa = JSON.parse(dudkit(['rom', 'check', join(SEABIOS, 'vgabios.bin'), '--json']).stdout);
    expect(isa.images).toHaveLength(1);
    expect(isa.images[0]).toMatchObject({ type: 'legacy', pcir: null, offset: 0 });
  });

  for (const nic of nics) {
    it(`split and concatenate: the first image of efi-${nic}.rom fixed is cmp-identical to pxe-${nic}.rom; pxe + the EFI image fixed is efi-${nic}.rom`, async () => {
      const efi = new Uint8Array(readFileSync(join(IPXE, `efi-${nic}.rom`)));
      const [legacy] = images(efi);
      const cut = write(`split-${nic}.rom`, efi.subarray(0, legacy!.length));
      expect((await romCheck(cut)).report.problems).toEqual(['image 0 is not marked as the last image (PCIR indicator bit 7 clear), but the file ends after it']);
      const split = await apiFixedEquals(cut, join(IPXE, `pxe-${nic}.rom`), `split-fixed-${nic}.rom`);
      expect(split.status, split.stdout).toBe(0);
      const joined = Buffer.concat([readFileSync(join(IPXE, `pxe-${nic}.rom`)), efi.subarray(legacy!.length)]);
      const cat = await apiFixedEquals(write(`cat-${nic}.rom`, joined), join(IPXE, `efi-${nic}.rom`), `cat-fixed-${nic}.rom`);
      expect(cat.status, cat.stdout).toBe(0);
    });
  }

  it("SeaBIOS's buildrom.py case: each vgabios-*.bin cut before its zero padding, byte 6 zeroed, fixed → cmp-identical", async () => {
    for (const rom of vgaBioses) {
      const b = new Uint8Array(readFileSync(rom));
      let end = b.length;
      while (end > 0 && b[end - 1] === 0) end--;
      const cut = Uint8Array.from(b.subarray(0, end));
      cut[6] = 0;
      const r = await apiFixedEquals(write(`cut-${rom.split('/').pop()}`, cut), rom, `cut-fixed-${rom.split('/').pop()}`);
      expect(r.status, `${rom}: ${r.stdout}`).toBe(0);
    }
  });

  it('--vendor 0x8086 --device 0x10d3 on pxe-e1000.rom: cmp -l shows only PCIR+4…7 and byte 6 changed; the IDs are pxe-e1000e.rom\'s', () => {
    const out = join(dir, 'e1000-as-e1000e.rom');
    expect(dudkit(['rom', 'fix', join(IPXE, 'pxe-e1000.rom'), '-o', out, '--vendor', '0x8086', '--device', '0x10d3']).status).toBe(0);
    // cmp -l: 1-based offsets of the differing bytes
    const differing = run('cmp', ['-l', join(IPXE, 'pxe-e1000.rom'), out]).stdout.trim().split('\n').map((l) => Number(l.trim().split(/\s+/)[0]) - 1);
    expect(differing.every((o) => o === 6 || (o >= 0x1c + 4 && o < 0x1c + 8))).toBe(true);
    expect(differing).toContain(6);
    const fixed = readFileSync(out);
    const e1000e = readFileSync(join(IPXE, 'pxe-e1000e.rom'));
    expect(fixed.subarray(0x1c + 4, 0x1c + 8)).toEqual(e1000e.subarray(0x1c + 4, 0x1c + 8));
    expect(dudkit(['rom', 'check', out]).status).toBe(0);
  });

  it('the system BIOS images (bios.bin, bios-256k.bin) are no option ROMs: rom check and inspect exit 2 with one line; so does a missing file', () => {
    for (const name of ['bios.bin', 'bios-256k.bin']) {
      const r = dudkit(['rom', 'check', join(SEABIOS, name)]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^dudkit: ${join(SEABIOS, name)}: not an option ROM: .*55 AA\\n$`));
      expect(dudkit(['inspect', join(SEABIOS, name)]).status).toBe(2);
    }
    const missing = dudkit(['rom', 'check', join(dir, 'no-such.rom')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`dudkit: ${join(dir, 'no-such.rom')}: no such file or directory\n`);
  });
});

describe('bad input and limits', () => {
  const raw = (size: number) => {
    const b = new Uint8Array(size);
    b[0] = 0x55;
    b[1] = 0xaa;
    return b;
  };
  const refused = (input: Uint8Array, pattern: RegExp, args: string[] = []) => {
    const path = write(`bad-${Math.random().toString(36).slice(2)}.bin`, input);
    const out = join(dir, `not-written-${Math.random().toString(36).slice(2)}.rom`);
    const r = dudkit(['rom', 'fix', path, '-o', out, ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dudkit: [^\n]+\n$/);
    expect(r.stderr).toMatch(pattern);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  };

  it('a 130 561-byte legacy image is refused (255 × 512 = 130 560 at most); 130 560 bytes are fixed', () => {
    refused(raw(130_561), /at most 255 × 512 = 130560 bytes/);
    const ok = write('max.bin', raw(130_560));
    expect(dudkit(['rom', 'fix', ok, '-o', join(dir, 'max.rom')]).status).toBe(0);
    expect(readFileSync(join(dir, 'max.rom'))[2]).toBe(255);
  });

  it('a PCIR pointer outside the file, or not at PCIR, is refused; one outside its image too', () => {
    const b = raw(600);
    b[0x18] = 0x00;
    b[0x19] = 0x10; // 0x1000: past the end
    refused(b, /PCIR pointer at 0x18 \(0x1000\) does not point at a PCIR structure/);
    b[0x19] = 0;
    b[0x18] = 0x40; // no signature there
    refused(b, /does not point at a PCIR structure/);
    const c = raw(1024);
    c[0x18] = 0xf0;
    c[0x19] = 0x01; // 0x1f0: the structure crosses the end of a 1-block image
    c.set(Buffer.from('PCIR'), 0x1f0);
    c[0x1f0 + 0x10] = 1;
    refused(c, /PCIR structure at 0x1f0 lies outside the image \(512 bytes\)/);
  });

  it('no 55 AA is refused ("not an option ROM"); a size byte larger than the PCIR image length is refused; bad numbers are usage errors', () => {
    refused(new Uint8Array(512), /not an option ROM/);
    const b = raw(1024);
    b[2] = 2;
    b[0x18] = 0x20;
    b.set(Buffer.from('PCIR'), 0x20);
    b[0x20 + 0x10] = 1;
    refused(b, /size byte \(2 × 512 bytes\) is larger than the image \(512 bytes/);
    refused(raw(512), /--vendor 0x12345: give a number from 0 to 0xffff/, ['--vendor', '0x12345']);
    refused(raw(512), /has no PCIR structure/, ['--device', '1']);
    const r = dudkit(['rom', 'fix', write('ok.bin', raw(512)), '-o', join(dir, 'missing', 'out.rom')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`dudkit: ${join(dir, 'missing', 'out.rom')}: the folder ${join(dir, 'missing')} does not exist: create it first\n`);
  });

  it('rom check reports a PCIR image length of 0 and one past the file as corrupt (exit 1), without looping', () => {
    const b = raw(1024);
    b[2] = 2;
    b[0x18] = 0x20;
    b.set(Buffer.from('PCIR'), 0x20);
    const zero = dudkit(['rom', 'check', write('len0.rom', b), '--json']);
    expect(zero.status).toBe(1);
    expect(JSON.parse(zero.stdout).problems.join('\n')).toMatch(/PCIR image length is 0/);
    b[0x20 + 0x10] = 9;
    const past = dudkit(['rom', 'check', write('len9.rom', b), '--json']);
    expect(past.status).toBe(1);
    expect(JSON.parse(past.stdout).problems.join('\n')).toMatch(/runs past the end of the file/);
  });
});

describe('a ROM built with gcc -m32 -c + objcopy -O binary, fixed by dudkit, run by SeaBIOS in QEMU', () => {
  const source = join(FIXTURES, 'option-rom', 'rom.S');
  const object = join(dir, 'rom.o');
  const rawBin = join(dir, 'raw.bin');
  const linked = join(dir, 'rom.elf');

  /** SeaBIOS's buildrom.py steps (option-rom.md §4): pad with 00, PCIR length and byte 2 := blocks, byte 6 := −Σ. */
  function buildrom(raw: Uint8Array): Uint8Array {
    const b = new Uint8Array(Math.ceil(raw.length / 512) * 512);
    b.set(raw);
    const n = b.length / 512;
    const p = u16(b, 0x18);
    if (p) {
      b[p + 0x10] = n & 0xff;
      b[p + 0x11] = n >> 8;
    }
    b[2] = n;
    b[6] = 0;
    b[6] = (256 - (b.reduce((s, x) => s + x, 0) & 0xff)) & 0xff;
    return b;
  }

  /** Boot SeaBIOS with the ROM and no disk; with reboot-timeout=0 and -no-reboot QEMU exits once it finds nothing to boot. */
  function seabios(rom: string): string {
    const log = join(dir, `${rom.split('/').pop()}.log`);
    const r = run('timeout', ['20', 'qemu-system-x86_64', '-nodefaults', '-nographic', '-no-reboot', '-m', '32', '-boot', 'reboot-timeout=0',
      '-option-rom', rom, '-chardev', `file,id=dbg,path=${log}`, '-device', 'isa-debugcon,iobase=0x402,chardev=dbg']);
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, 'latin1');
  }

  it('gcc -m32 -c, objcopy -O binary -j .text and ld -m elf_i386 build it', () => {
    expect(run('gcc', ['-m32', '-c', source, '-o', object]).status).toBe(0);
    expect(run('objcopy', ['-O', 'binary', '-j', '.text', object, rawBin]).status).toBe(0);
    expect(run('ld', ['-m', 'elf_i386', '-Ttext', '0', '-e', '0', object, '-o', linked]).status).toBe(0);
    expect(readFileSync(rawBin).length).toBe(100);
  });

  it('rom fix of the raw binary gives buildrom.py\'s bytes; of the relocatable object (REL relocations applied) and of the linked ELF the same; rom check: raw 1, fixed 0', () => {
    const fixed = join(dir, 'fixed.rom');
    expect(dudkit(['rom', 'fix', rawBin, '-o', fixed]).status).toBe(0);
    expect(new Uint8Array(readFileSync(fixed))).toEqual(buildrom(new Uint8Array(readFileSync(rawBin))));
    for (const elf of [object, linked]) expect(fixedEquals(elf, fixed, `${elf.split('/').pop()}.rom`).cmp.status).toBe(0);
    expect(dudkit(['rom', 'check', rawBin]).status).toBe(1);
    const check = dudkit(['rom', 'check', fixed, '--json']);
    expect(check.status).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({
      kind: 'option-rom', size: 512, valid: true, trailing: 0, problems: [],
      images: [{ index: 0, offset: 0, length: 512, type: 'legacy', sizeByte: 1, entry: { bytes: 'eb1700', target: 0x1c }, checksum: { offset: 6, sum: 0, ok: true },
        pcir: { offset: 0x4c, vendor: '0x1af4', device: '0x1000', class: '0x020000', revision: 0, length: 24, imageLength: 1, codeRevision: 1, codeType: 0, indicator: 128, last: true },
        pnp: null, undi: null, ipxe: null, efi: null, problems: [] }],
    });
  });

  it('SeaBIOS runs the fixed ROM (marker on isa-debugcon), skips the unfixed one silently, refuses byte 6 + 1 with "Found option rom with bad checksum"', () => {
    const fixed = join(dir, 'fixed.rom');
    const good = seabios(fixed);
    expect(good).toMatch(/Running option rom at [0-9a-f]{4}:0003/);
    expect(good).toContain('DUDKIT-OPTION-ROM-RAN');

    expect(seabios(rawBin)).not.toContain('DUDKIT-OPTION-ROM-RAN');

    const bad = new Uint8Array(readFileSync(fixed));
    bad[6] = (bad[6]! + 1) & 0xff;
    const refusedLog = seabios(write('bad-checksum.rom', bad));
    expect(refusedLog).toMatch(/Found option rom with bad checksum: loc=0x[0-9a-f]+ len=512 sum=1/);
    expect(refusedLog).not.toContain('DUDKIT-OPTION-ROM-RAN');
    // dudkit says the same before firmware does
    const check = dudkit(['rom', 'check', join(dir, 'bad-checksum.rom')]);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain('Found option rom with bad checksum');
  });

  it('an object with code and data sections, or a relocation against another section, is refused with one line (link it first)', () => {
    const two = join(dir, 'two.S');
    writeFileSync(two, '.code16\n.text\n.byte 0x55,0xaa,0\n.data\n.byte 1\n');
    expect(run('gcc', ['-m32', '-c', two, '-o', join(dir, 'two.o')]).status).toBe(0);
    const r = dudkit(['rom', 'fix', join(dir, 'two.o'), '-o', join(dir, 'two.rom')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dudkit: [^\n]*two\.o: [^\n]*exactly one allocatable section[^\n]*\.text, \.data[^\n]*link it first[^\n]*\n$/);
    const ext = join(dir, 'ext.S');
    writeFileSync(ext, '.code16\n.text\n.byte 0x55,0xaa,0\n.fill 0x15,1,0\n.word elsewhere\n');
    expect(run('gcc', ['-m32', '-c', ext, '-o', join(dir, 'ext.o')]).status).toBe(0);
    const e = dudkit(['rom', 'fix', join(dir, 'ext.o'), '-o', join(dir, 'ext.rom')]);
    expect(e.status).toBe(2);
    expect(e.stderr).toMatch(/^dudkit: [^\n]*ext\.o: [^\n]*refers to elsewhere, which is not in \.text: link the ROM first\n$/);
  });
});

describe('rom fix options', () => {
  const pxe = join(IPXE, 'pxe-e1000.rom');

  it("--fill 0xff: pxe-e1000.rom cut before its FF padding, byte 6 zeroed, fixed → cmp-identical (iPXE pads legacy images with FF)", () => {
    const b = new Uint8Array(readFileSync(pxe));
    let end = b.length;
    while (b[end - 1] === 0xff) end--;
    expect(end).toBeLessThan(b.length);
    const cut = Uint8Array.from(b.subarray(0, end));
    cut[6] = 0;
    const input = write('pxe-cut.bin', cut);
    const out = join(dir, 'pxe-cut.rom');
    const r = dudkit(['rom', 'fix', input, '-o', out, '--fill', '0xff', '--verbose']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`padded with ${b.length - end} bytes of 0xff`);
    expect(r.stderr).toMatch(/checksum byte 0x00 → 0x[0-9a-f]{2}/);
    expect(run('cmp', [out, pxe]).status).toBe(0);
  });

  it('--class 0x030000 writes the bytes 00 00 03 at PCIR+0x0d; --json prints the check report of OUT', () => {
    const out = join(dir, 'vga-class.rom');
    const r = dudkit(['rom', 'fix', pxe, '-o', out, '--class', '0x030000', '--json']);
    expect(r.status).toBe(0);
    expect([...readFileSync(out).subarray(0x1c + 0x0d, 0x1c + 0x10)]).toEqual([0, 0, 3]);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'option-rom', valid: true, images: [{ pcir: { class: '0x030000' }, checksum: { sum: 0 } }] });
    expect(dudkit(['rom', 'fix', pxe, '-o', out, '--class', 'ethernet']).status).toBe(2);
  });

  it('OUT may be IN; bytes after the last image are kept and reported (warning, rom check exits 1)', () => {
    const inPlace = write('in-place.rom', zeroChecksums(new Uint8Array(readFileSync(pxe))));
    expect(dudkit(['rom', 'fix', inPlace, '-o', inPlace]).status).toBe(0);
    expect(run('cmp', [inPlace, pxe]).status).toBe(0);

    const withTail = write('tail.rom', Buffer.concat([readFileSync(pxe), Buffer.from('not a ROM\n')]));
    const out = join(dir, 'tail-fixed.rom');
    const r = dudkit(['rom', 'fix', withTail, '-o', out]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: .*10 bytes after the last image/);
    expect(run('cmp', [out, withTail]).status).toBe(0);
    const check = dudkit(['rom', 'check', out, '--json']);
    expect(check.status).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ valid: false, trailing: 10 });
  });

  it('a 64-bit x86 object (gcc -c without -m32) is refused with one line', () => {
    const src = join(dir, 'x64.S');
    writeFileSync(src, '.text\n.byte 0x55,0xaa,0\n');
    expect(run('gcc', ['-c', src, '-o', join(dir, 'x64.o')]).status).toBe(0);
    const r = dudkit(['rom', 'fix', join(dir, 'x64.o'), '-o', join(dir, 'x64.rom')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dudkit: [^\n]*x64\.o: an ELF file that is not 32-bit[^\n]*gcc -m32[^\n]*\n$/);
  });
});
