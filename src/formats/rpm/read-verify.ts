/**
 * The digests an RPM carries, checked the way `rpm -Kv` does (rpm.md rule 6): header SHA-256 and
 * SHA-1 over the main header bytes; with `payload`, SIZE and MD5 over header + payload and the
 * PAYLOADDIGEST of the compressed payload in one streamed pass, then a second pass through the
 * decompressor for PAYLOADSIZE, PAYLOADDIGESTALT and every file digest. A payload that cannot
 * be decompressed or unpacked is a failed check, as a corrupt payload is a failed digest to
 * `rpm -K`; only errors reading the file itself are thrown.
 */
import { createHash, type Hash } from 'node:crypto';
import { asUserError, FormatError } from '../../errors.js';
import { readExactly, type ReadBudget, tooLarge } from '../../tree/bounded.js';
import { sliceSource } from '../../tree/source.js';
import type { RpmPackage } from './read.js';
import { DIGEST_ALGO, SIGTAG, TAG, tagLabel } from './tags.js';

export interface DigestCheck {
  /** rpm's wording: "Header SHA256 digest", "MD5 digest", "Payload SHA256 digest", …; "Payload" when it does not unpack. */
  name: string;
  ok: boolean;
  expected: string;
  actual: string;
  /**
   * rpm never checks it (SIZE and PAYLOADSIZE: rpm -K, rpm -i and rpm2cpio ignore them, back to
   * rpm 4.11): a mismatch is a warning about the package, not a failed digest.
   */
  advisory: boolean;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function check(name: string, expected: string, actual: string, advisory = false): DigestCheck {
  return { name, ok: expected.toLowerCase() === actual.toLowerCase(), expected, actual, advisory };
}

/** rpm -K's verdict: every digest rpm checks matches (advisory checks do not count). */
export function digestsOk(checks: readonly DigestCheck[]): boolean {
  return checks.every((c) => c.ok || c.advisory);
}

function algoName(id: number | undefined): string {
  const name = DIGEST_ALGO[id ?? 8];
  if (!name) throw new FormatError(`header: unknown ${tagLabel(TAG.PAYLOADDIGESTALGO)} ${id}`);
  return name;
}

export interface VerifyOptions {
  /** Also hash the payload (compressed and uncompressed) and every file. */
  payload?: boolean;
  /**
   * With `payload`: hand the bytes of the files the caller wants (small ones, such as kernel
   * modules to check) over as they are read for their digests, so the payload is read once.
   * Their sizes are charged to `budget` before they are read.
   */
  onFile?: { wants(path: string): boolean; take(path: string, bytes: Uint8Array): void; budget: ReadBudget };
  /** With `payload`: bytes read so far (progress), the stored payload, then the unpacked archive; `payloadReadSize` is their total. */
  onBytes?: (n: number) => void;
}

/** What `verifyDigests` with `payload` reads: the stored payload, then the archive it unpacks to (when the signature says its size). */
export function payloadReadSize(pkg: RpmPackage): number {
  return pkg.payloadSize + (pkg.signature.number(SIGTAG.PAYLOADSIZE) ?? pkg.signature.number(SIGTAG.LONGARCHIVESIZE) ?? 0);
}

/** Every digest the package carries, compared with what its bytes hash to. */
export async function verifyDigests(pkg: RpmPackage, opts: VerifyOptions = {}): Promise<DigestCheck[]> {
  const sig = pkg.signature;
  const h = pkg.header;
  const out: DigestCheck[] = [];
  const headerHash = (algo: string) => createHash(algo).update(h.bytes).digest('hex');
  const sha256 = sig.string(SIGTAG.SHA256);
  if (sha256 !== undefined) out.push(check('Header SHA256 digest', sha256, headerHash('sha256')));
  const sha1 = sig.string(SIGTAG.SHA1);
  if (sha1 !== undefined) out.push(check('Header SHA1 digest', sha1, headerHash('sha1')));
  if (!opts.payload) return out;

  try {
    // pass 1: header + compressed payload as stored
    const md5 = sig.has(SIGTAG.MD5) ? createHash('md5') : undefined;
    const payloadDigest = h.strings(TAG.PAYLOADDIGEST)[0];
    const payloadAlgo = algoName(h.number(TAG.PAYLOADDIGESTALGO));
    const payloadHash = payloadDigest !== undefined ? createHash(payloadAlgo) : undefined;
    md5?.update(h.bytes);
    for await (const chunk of sliceSource(pkg.path, pkg.payloadOffset, pkg.payloadSize).open()) {
      md5?.update(chunk);
      payloadHash?.update(chunk);
      opts.onBytes?.(chunk.length);
    }
    const size = sig.number(SIGTAG.SIZE) ?? sig.number(SIGTAG.LONGSIZE);
    if (size !== undefined) out.push(check('Header and payload size', String(size), String(pkg.fileSize - pkg.headerStart), true));
    if (md5) out.push(check('MD5 digest', hex(sig.bin(SIGTAG.MD5)!), md5.digest('hex')));
    if (payloadHash) out.push(check(`Payload ${payloadAlgo.toUpperCase()} digest`, payloadDigest!, payloadHash.digest('hex')));

    await unpackedChecks(pkg, opts, out);
  } catch (err) {
    asUserError(err, pkg.path);
  }
  return out;
}

/** Pass 2: the cpio stream and the files in it; a payload that does not unpack is a failed check. */
async function unpackedChecks(pkg: RpmPackage, opts: VerifyOptions, out: DigestCheck[]): Promise<void> {
  const sig = pkg.signature;
  const h = pkg.header;
  const payloadAlgo = algoName(h.number(TAG.PAYLOADDIGESTALGO));
  try {
    const altDigest = h.strings(TAG.PAYLOADDIGESTALT)[0];
    const altHash = altDigest !== undefined ? createHash(payloadAlgo) : undefined;
    let cpioSize = 0;
    const stream = pkg.cpioStream();
    const tapped = (async function* () {
      for await (const chunk of stream) {
        cpioSize += chunk.length;
        altHash?.update(chunk);
        opts.onBytes?.(chunk.length);
        yield chunk;
      }
    })();
    const seen = new Set<string>();
    for await (const { file, size, data } of pkg.members(tapped)) {
      seen.add(file.path);
      const kept = file.type === 'file' && opts.onFile?.wants(file.path);
      if (file.type !== 'file' || ((!file.digest || size === 0) && !kept)) continue;
      const fh: Hash = createHash(pkg.fileDigestAlgo.name);
      const hashed = (async function* () {
        for await (const chunk of data) {
          fh.update(chunk);
          yield chunk;
        }
      })();
      if (kept) opts.onFile!.take(file.path, await readExactly(hashed, size, opts.onFile!.budget, file.path));
      else for await (const _ of hashed) void _;
      if (file.digest && size > 0) out.push(check(`File ${file.path} digest`, file.digest, fh.digest('hex')));
    }
    // the archive's padding after TRAILER!!! counts in PAYLOADSIZE
    for await (const _ of tapped) void _;
    const payloadSize = sig.number(SIGTAG.PAYLOADSIZE) ?? sig.number(SIGTAG.LONGARCHIVESIZE);
    if (payloadSize !== undefined) out.push(check('Payload size', String(payloadSize), String(cpioSize), true));
    if (altHash) out.push(check(`Payload ${payloadAlgo.toUpperCase()} ALT digest`, altDigest!, altHash.digest('hex')));
    for (const f of pkg.files) {
      if (!f.ghost && !seen.has(f.path)) out.push(check(`File ${f.path}`, 'in the payload', 'missing'));
    }
  } catch (err) {
    // a dudkit limit or an unreadable file is no verdict on the package
    if (!(err instanceof FormatError) || tooLarge(err)) throw err;
    out.push(check('Payload', `a ${pkg.payloadCompressor} ${pkg.payloadFormat} archive`, err.message));
  }
}
