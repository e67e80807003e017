/**
 * RPM specimens made from the rpmbuild-made fixtures: the headers re-encoded with entries changed
 * (the way rpm's own odd test packages came about) and the signature digests recomputed, so a
 * test can show what rpm and dudkit do with one specific oddity, not with a broken digest.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeHeader, type HeaderEntry, openRpm, RPM_TYPE, SIGTAG, signaturePadding, TYPE_ALIGN } from '../../src/formats/rpm/index.js';

export interface Changes {
  /** The main header's entries (without region), changed. */
  main?: (entries: HeaderEntry[]) => HeaderEntry[];
  /** The signature header's entries, changed after the digests are recomputed. */
  sig?: (entries: HeaderEntry[]) => HeaderEntry[];
  /** Another payload (compressed bytes as stored). */
  payload?: Uint8Array;
  /**
   * Entries appended to the signature header after its region trailer, which keeps counting only
   * the entries before them (as in rpm's hello-2.0-1.x86_64-badima.rpm, from rpmsign --signfiles).
   */
  afterRegion?: HeaderEntry[];
}

const hash = (algo: string, ...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash(algo));

/** The fixture at `src` with `changes` applied, its digests matching the new bytes. */
export async function respecimen(src: string, changes: Changes): Promise<Buffer> {
  const pkg = await openRpm(src);
  const file = readFileSync(src);
  const main = encodeHeader((changes.main ?? ((e) => e))(pkg.header.entries()), 63);
  const payload = changes.payload ?? file.subarray(pkg.payloadOffset);
  const recomputed = pkg.signature.entries().map((e) => {
    if (e.tag === SIGTAG.SHA1) return { ...e, value: hash('sha1', main).digest('hex') };
    if (e.tag === SIGTAG.SHA256) return { ...e, value: hash('sha256', main).digest('hex') };
    if (e.tag === SIGTAG.SIZE) return { ...e, value: [main.length + payload.length] };
    if (e.tag === SIGTAG.MD5) return { ...e, value: new Uint8Array(hash('md5', main, payload).digest()) };
    return e;
  });
  let sig = encodeHeader((changes.sig ?? ((e) => e))(recomputed), 62);
  if (changes.afterRegion?.length) sig = appendAfterRegion(sig, changes.afterRegion);
  return Buffer.concat([file.subarray(0, 96), sig, Buffer.alloc(signaturePadding(sig.length)), main, payload]);
}

/**
 * Append entries after a header's region trailer: il and dl grow, the trailer stays as it was.
 * Their data follows the store, each item aligned as rpm's headerImport adds them up (string
 * arrays and INT32s are all these specimens need).
 */
function appendAfterRegion(header: Uint8Array, extra: HeaderEntry[]): Uint8Array {
  const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const [il, dl] = [view(header).getUint32(8), view(header).getUint32(12)];
  const index: Buffer[] = [];
  const data: Buffer[] = [];
  let at = dl;
  for (const e of extra) {
    let bytes: Buffer;
    if (e.type === RPM_TYPE.STRING_ARRAY) bytes = Buffer.concat((e.value as string[]).map((v) => Buffer.from(`${v}\0`)));
    else if (e.type === RPM_TYPE.INT32) bytes = Buffer.concat((e.value as number[]).map((n) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])));
    else throw new Error(`appendAfterRegion: type ${e.type} not supported`);
    const pad = (TYPE_ALIGN[e.type]! - (at % TYPE_ALIGN[e.type]!)) % TYPE_ALIGN[e.type]!;
    data.push(Buffer.alloc(pad), bytes);
    at += pad;
    const entry = Buffer.alloc(16);
    entry.writeUInt32BE(e.tag, 0);
    entry.writeUInt32BE(e.type, 4);
    entry.writeInt32BE(at, 8);
    entry.writeUInt32BE((e.value as unknown[]).length, 12);
    index.push(entry);
    at += bytes.length;
  }
  const out = Buffer.concat([header.subarray(0, 16 + 16 * il), ...index, header.subarray(16 + 16 * il), ...data]);
  out.writeUInt32BE(il + extra.length, 8);
  out.writeUInt32BE(at, 12);
  return out;
}
