import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../src/errors.js';
import { decodeHeader, encodeHeader, type HeaderEntry } from '../src/formats/rpm/header.js';
import { RPM_TYPE, SIGTAG, TAG } from '../src/formats/rpm/tags.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'rpms');
// top-level packages, the rpmsign-signed copy under signed/, the lzma package under legacy/
const rpms = ['', 'signed/', 'legacy/'].flatMap((sub) => readdirSync(join(dir, sub)).map((f) => sub + f)).filter((f) => f.endsWith('.rpm')).sort();

function headersOf(file: Buffer) {
  const sig = decodeHeader(file, 96, 62);
  const mainAt = 96 + sig.length + ((8 - (sig.length % 8)) % 8);
  const main = decodeHeader(file, mainAt, 63);
  return { sig, main, mainAt };
}

describe('RPM header codec on rpmbuild-made packages', () => {
  it('has fixtures', () => expect(rpms.length).toBeGreaterThanOrEqual(6));

  for (const name of rpms) {
    it(`re-encodes both headers of ${name} byte-identically`, () => {
      const file = readFileSync(join(dir, name));
      const { sig, main, mainAt } = headersOf(file);
      expect(Buffer.from(encodeHeader(sig.header.entries(), 62))).toEqual(file.subarray(96, 96 + sig.length));
      expect(Buffer.from(encodeHeader(main.header.entries(), 63))).toEqual(file.subarray(mainAt, mainAt + main.length));
      expect(main.header.range).toEqual({ start: mainAt, end: mainAt + main.length });
    });

    it(`decodes the same tags as rpm -qp --qf for ${name}`, () => {
      const path = join(dir, name);
      const { sig, main } = headersOf(readFileSync(path));
      const h = main.header;
      const q = (fmt: string) => execFileSync('rpm', ['-qp', '--nosignature', '--qf', fmt, path], { encoding: 'utf8' });
      expect(`${h.string(TAG.NAME)} ${h.string(TAG.VERSION)} ${h.string(TAG.RELEASE)} ${h.string(TAG.ARCH)} ${h.number(TAG.BUILDTIME)} ${h.string(TAG.SUMMARY)}`).toBe(
        q('%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{BUILDTIME} %{SUMMARY}'),
      );
      expect(h.strings(TAG.PROVIDENAME).join('\n')).toBe(q('[%{PROVIDENAME}\n]').trimEnd());
      expect(h.numbers(TAG.FILEMODES).join(' ')).toBe(q('[%{FILEMODES} ]').trimEnd());
      expect(sig.header.number(SIGTAG.PAYLOADSIZE)).toBe(Number(q('%{ARCHIVESIZE}')));
    });
  }
});

const sample: HeaderEntry[] = [
  { tag: 1000, type: RPM_TYPE.STRING, value: 'kmod-äcme' },
  { tag: 1004, type: RPM_TYPE.I18NSTRING, value: ['summary'] },
  { tag: 100, type: RPM_TYPE.STRING_ARRAY, value: ['C'] },
  { tag: 1029, type: RPM_TYPE.CHAR, value: [1, 255] },
  { tag: 1030, type: RPM_TYPE.INT16, value: [0o100644, 0o40755] },
  { tag: 1045, type: RPM_TYPE.INT32, value: [0xffffffff, 7] },
  { tag: 5008, type: RPM_TYPE.INT64, value: [1n, (1n << 64n) - 1n] },
  { tag: 1146, type: RPM_TYPE.BIN, value: new Uint8Array([1, 2, 3]) },
];

describe('RPM header codec', () => {
  it('round-trips every type, sorts by tag and aligns data per type', () => {
    const bytes = encodeHeader(sample, 63);
    const { header, length } = decodeHeader(bytes, 0, 63);
    expect(length).toBe(bytes.length);
    expect(header.entries().map((e) => e.tag)).toEqual([100, 1000, 1004, 1029, 1030, 1045, 1146, 5008]);
    expect(header.string(1000)).toBe('kmod-äcme');
    expect(header.string(1004)).toBe('summary');
    expect(header.numbers(1030)).toEqual([0o100644, 0o40755]);
    expect(header.numbers(1045)).toEqual([0xffffffff, 7]);
    expect(header.bigints(5008)).toEqual([1n, (1n << 64n) - 1n]);
    expect([...header.bin(1146)!]).toEqual([1, 2, 3]);
    const dv = new DataView(bytes.buffer);
    const il = dv.getUint32(8);
    const dl = dv.getUint32(12);
    for (let i = 1; i < il; i++) {
      const type = dv.getUint32(16 + 16 * i + 4);
      const off = dv.getInt32(16 + 16 * i + 8);
      expect(off % [1, 1, 1, 2, 4, 8, 1, 1, 1, 1][type]!).toBe(0);
    }
    // trailer: region tag, BIN, -16 * il, 16 as the last 16 store bytes
    const t = bytes.length - 16;
    expect([dv.getUint32(t), dv.getUint32(t + 4), dv.getInt32(t + 8), dv.getUint32(t + 12)]).toEqual([63, 7, -16 * il, 16]);
    expect(dv.getInt32(16 + 8)).toBe(dl - 16);
    expect(Buffer.from(encodeHeader(header.entries(), 63))).toEqual(Buffer.from(bytes));
  });

  it('refuses entries with count 0 and values that do not fit their type', () => {
    expect(() => encodeHeader([{ tag: 1049, type: RPM_TYPE.STRING_ARRAY, value: [] }], 63)).toThrow(/count 0/);
    expect(() => encodeHeader([{ tag: 1030, type: RPM_TYPE.INT16, value: [0x10000] }], 63)).toThrow(/does not fit/);
    expect(() => encodeHeader([{ tag: 1000, type: RPM_TYPE.STRING, value: ['x'] }], 63)).toThrow(/does not match/);
  });

  const corrupt = (patch: (dv: DataView, b: Uint8Array) => void) => {
    const b = encodeHeader(sample, 63).slice();
    patch(new DataView(b.buffer), b);
    return () => decodeHeader(b, 0, 63);
  };
  const il = sample.length + 1;
  const store = 16 + 16 * il;

  it.each([
    ['bad magic', (_: DataView, b: Uint8Array) => (b[0] = 0), /bad magic/],
    ['huge il', (dv: DataView) => dv.setUint32(8, 0x10000), /index entries/],
    ['huge dl', (dv: DataView) => dv.setUint32(12, 0x10000000), /bytes of data/],
    ['truncated', (dv: DataView) => dv.setUint32(12, dv.getUint32(12) + 4), /truncated/],
    ['region type', (dv: DataView) => dv.setUint32(20, 6), /region tag 63: type 6/],
    ['trailer tag', (dv: DataView, b: Uint8Array) => dv.setUint32(b.length - 16, 62), /region trailer/],
    ['trailer offset', (dv: DataView, b: Uint8Array) => dv.setInt32(b.length - 8, -16 * (il - 1)), /tag number mismatch/],
    ['trailer offset not /16', (dv: DataView, b: Uint8Array) => dv.setInt32(b.length - 8, -17), /region 63 size/],
    ['region offset', (dv: DataView) => dv.setInt32(24, 0x7fff), /trailer offset/],
    ['misaligned INT32', (dv: DataView) => dv.setInt32(16 + 16 * 6 + 8, dv.getInt32(16 + 16 * 6 + 8) + 1), /not aligned|overlaps/],
    ['overlap', (dv: DataView) => dv.setInt32(16 + 16 * 3 + 8, 0), /overlaps/],
    ['unknown type', (dv: DataView) => dv.setUint32(16 + 16 * 2 + 4, 10), /unknown type/],
    ['wrong numeric type', (dv: DataView) => dv.setUint32(16 + 16 * 5 + 4, RPM_TYPE.INT8), /rpmtag.h declares INT16/],
    ['count past the store', (dv: DataView) => dv.setUint32(16 + 16 * 8 + 12, 0xffffffff), /runs past/],
    ['string without NUL', (_: DataView, b: Uint8Array) => b.fill(0x41, store, b.length - 16), /runs past|overlaps/],
    ['reserved tag', (dv: DataView) => dv.setUint32(16 + 16 * 1, 99), /reserved tag/],
  ] as const)('rejects a header with %s', (_name, patch, message) => {
    const run = corrupt(patch);
    expect(run).toThrow(FormatError);
    expect(run).toThrow(message);
  });

  it('accepts a legacy header without region', () => {
    const withRegion = encodeHeader(sample, 63);
    // drop the region entry and the trailer
    const dv = new DataView(withRegion.buffer);
    const dl = dv.getUint32(12) - 16;
    const legacy = new Uint8Array(16 + 16 * (il - 1) + dl);
    legacy.set(withRegion.subarray(0, 16));
    legacy.set(withRegion.subarray(32, 16 + 16 * il + dl), 16);
    const ldv = new DataView(legacy.buffer);
    ldv.setUint32(8, il - 1);
    ldv.setUint32(12, dl);
    const { header } = decodeHeader(legacy, 0, 63);
    expect(header.regionTag).toBeNull();
    expect(header.string(1000)).toBe('kmod-äcme');
  });
});
