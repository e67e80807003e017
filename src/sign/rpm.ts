/**
 * Signing an RPM that was given, not built here (`rpm.md` "Signature header"): no digest covers
 * the signature header, so the signed package is the same lead, a new signature header (old
 * OpenPGP signatures replaced by ours, the reserved space shrunk by what they take, as rpmsign
 * does) and the unchanged main header and payload, streamed from the original file.
 */
import { encodeHeader, type HeaderEntry } from '../formats/rpm/header.js';
import type { RpmPackage } from '../formats/rpm/read.js';
import { LEAD, RPM_TYPE, SIGTAG } from '../formats/rpm/tags.js';
import { sliceSource, type Source } from '../tree/source.js';
import type { SigningKey } from './key.js';
import { rpmHeaderSigner } from './sign.js';

const OPENPGP_TAGS = new Set<number>([SIGTAG.DSA, SIGTAG.RSA, SIGTAG.PGP, SIGTAG.GPG]);

const entrySize = (e: HeaderEntry): number => 16 + (e.value as Uint8Array).length;

export async function resignedRpm(pkg: RpmPackage, key: SigningKey, epoch: number): Promise<Source> {
  const signed = await rpmHeaderSigner(key, epoch)(pkg.header.bytes);
  const old = pkg.signature.entries();
  const dropped = old.filter((e) => OPENPGP_TAGS.has(e.tag));
  const reserved = old.find((e) => e.tag === SIGTAG.RESERVEDSPACE);
  const kept = old.filter((e) => !OPENPGP_TAGS.has(e.tag) && e.tag !== SIGTAG.RESERVEDSPACE);
  const room = (reserved ? (reserved.value as Uint8Array).length : 0) + dropped.reduce((n, e) => n + entrySize(e), 0) - signed.reduce((n, e) => n + entrySize(e), 0);
  const entries = [...kept, ...signed, ...(reserved && room > 0 ? [{ tag: SIGTAG.RESERVEDSPACE, type: RPM_TYPE.BIN, value: new Uint8Array(room) }] : [])];
  const sig = encodeHeader(entries, 62);
  const head = new Uint8Array(sig.length + ((8 - (sig.length % 8)) % 8));
  head.set(sig);
  const leadStart = pkg.signature.range.start - LEAD.SIZE;
  const lead = sliceSource(pkg.path, leadStart, LEAD.SIZE, pkg.path);
  const rest = sliceSource(pkg.path, pkg.headerStart, pkg.fileSize - pkg.headerStart, pkg.path);
  return {
    size: LEAD.SIZE + head.length + rest.size,
    origin: pkg.path,
    async *open() {
      yield* lead.open();
      yield head;
      yield* rest.open();
    },
  };
}
