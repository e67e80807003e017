/**
 * ESXi VIBs (an ar archive starting with descriptor.xml) and offline bundles / components (a zip
 * holding index.xml, vendor-index.xml or a metadata zip beside .vib files), inspected and
 * verified by `verify/esxi.ts` as esxcli reads them. `--ca CA.pem` gives the certificates a
 * signature is checked against.
 */
import { readFile } from 'node:fs/promises';
import { asUserError } from '../errors.js';
import { AR_HEADER, parseArHeader } from '../formats/ar/ar.js';
import { listZip } from '../formats/zip/read.js';
import { certificatesFromPem } from '../sign/pem.js';
import { Scratch } from '../tree/scratch.js';
import { bundleText, isBundleListing, readBundleFile, readVibFile, vibText, withFile, type BundleFacts, type SignatureCheck, type VibFacts } from '../verify/esxi.js';
import type { Reader, ReadEnv } from './types.js';

async function signatureCheck(env: ReadEnv): Promise<SignatureCheck> {
  if (!env.ca) return {};
  const text = await readFile(env.ca, 'utf8').catch((err: unknown) => asUserError(err, env.ca!));
  return { ca: certificatesFromPem(text) };
}

const latin1 = (b: Uint8Array, from: number, to: number) => Buffer.from(b.subarray(from, to)).toString('latin1');

/** The names of the ar members whose headers lie in the head (a VIB in any member order is still one). */
function headMembers(head: Uint8Array): string[] {
  const names: string[] = [];
  for (let pos = 8; pos + AR_HEADER <= head.length; ) {
    let h;
    try {
      h = parseArHeader(head.subarray(pos, pos + AR_HEADER), pos);
    } catch {
      break;
    }
    names.push(h.name);
    pos += AR_HEADER + h.size + (h.size % 2);
  }
  return names;
}

export const esxiVibReader: Reader<VibFacts, VibFacts> = {
  kind: 'esxi-vib',
  bid: ({ bytes, isDirectory }) => (!isDirectory && latin1(bytes, 0, 8) === '!<arch>\n' && headMembers(bytes).includes('descriptor.xml') ? 100 : 0),
  async inspect(path, _opened, env) {
    const r = await readVibFile(path, await signatureCheck(env));
    return { kind: 'esxi-vib', path, facts: r.facts, findings: r.findings };
  },
  async verify(path, _opened, env) {
    const r = await readVibFile(path, await signatureCheck(env));
    return { medium: path, kind: 'esxi-vib', ok: !r.findings.some((f) => f.severity === 'error'), findings: r.findings, details: r.facts };
  },
  render: { inspect: (r, name) => vibText(name, r.facts), verify: (v, name) => vibText(name, v.details) },
};

export const esxiBundleReader: Reader<BundleFacts, BundleFacts> = {
  kind: 'esxi-bundle',
  async bid({ path, bytes, isDirectory }) {
    if (isDirectory || latin1(bytes, 0, 4) !== 'PK\x03\x04') return 0;
    try {
      const names = await withFile(path, async (readAt, size) => (await listZip(readAt, size)).map((e) => e.name));
      return isBundleListing(names) ? 95 : 0;
    } catch {
      return 0;
    }
  },
  async inspect(path, _opened, env) {
    const check = await signatureCheck(env);
    const r = await Scratch.with((scratch) => readBundleFile(path, scratch, check));
    return { kind: 'esxi-bundle', path, facts: r.facts, findings: r.findings };
  },
  async verify(path, _opened, env) {
    const check = await signatureCheck(env);
    const r = await Scratch.with((scratch) => readBundleFile(path, scratch, check));
    return { medium: path, kind: 'esxi-bundle', ok: !r.findings.some((f) => f.severity === 'error'), findings: r.findings, details: r.facts };
  },
  render: { inspect: (r, name) => bundleText(name, r.facts), verify: (v, name) => bundleText(name, v.details) },
};
