/**
 * CRC-64 as xz uses it (ECMA-182 polynomial, reflected, initial and final value all ones), for
 * the `crc64` block check; node has crc32 but no crc64. The 64-bit state is kept in two 32-bit
 * halves so that no BigInt is touched per byte.
 */
const POLY_LO = 0xd7870f42;
const POLY_HI = 0xc96c5795;

const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const odd = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi >>>= 1;
    if (odd) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  TABLE_LO[i] = lo;
  TABLE_HI[i] = hi;
}

/** An incremental CRC-64; `digest` gives the 8 bytes in the order xz stores them (little-endian). */
export class Crc64 {
  private lo = 0xffffffff;
  private hi = 0xffffffff;

  update(data: Uint8Array): this {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < data.length; i++) {
      const t = (lo ^ data[i]!) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[t]!) >>> 0;
      hi = ((hi >>> 8) ^ TABLE_HI[t]!) >>> 0;
    }
    this.lo = lo;
    this.hi = hi;
    return this;
  }

  digest(): Uint8Array {
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, ~this.lo >>> 0, true);
    dv.setUint32(4, ~this.hi >>> 0, true);
    return out;
  }
}
