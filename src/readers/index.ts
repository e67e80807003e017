/**
 * `inspect` and `verify` for any path: the registry's highest bidder reads it. Texts are rendered
 * here, once: the reader's account, then the findings (and for `verify`, the verdict).
 */
import { createContext, type Context } from '../context.js';
import { asUserError, UserError } from '../errors.js';
import { findingsText, verdict } from '../findings.js';
import { verifyUsb, usbText } from '../verify/usb.js';
import { builtinReaders } from './builtin.js';
import { loadKabi } from '../inputs/kabi.js';
import { kernelOrRelease } from '../rules/releases.js';
import { bidOn, winner, type Chosen } from './registry.js';
import type { InspectReport, ReadEnv, Reader, Registry, VerifyEnv, VerifyOptions, VerifyReport } from './types.js';

export type { Head, Inspection, InspectReport, Reader, Registry, Verification, VerifyOptions, VerifyReport } from './types.js';
export { builtinReaders } from './builtin.js';

export interface InspectOptions {
  /** The readers to choose from (default: dudkit's own). */
  registry?: Registry;
  ctx?: Context;
  /** PEM certificates X.509 signatures are checked against (ESXi VIBs). */
  ca?: string;
}

export interface VerifyCallOptions extends VerifyOptions {
  registry?: Registry;
  ctx?: Context;
}

const UNKNOWN = 'not a medium or input dudkit knows (kernel module, RPM, dkms tree, ISO, cpio, option ROM, …)';
const NO_DISK = 'no driver disk found: no folder holds both an rhdd3 file and an rpms/ folder, and there is no rhdd at the root (the installer logs "No driver disks found")';

const join = (...parts: string[]) => parts.filter(Boolean).join('\n');

/** What a path is and holds: the facts its reader finds, and what is wrong with it if it checks. */
export function inspect(path: string, opts: InspectOptions = {}): Promise<InspectReport> {
  return inspectAs(path, path, opts.registry ?? builtinReaders, opts.ctx ?? createContext(), opts.ca);
}

/** Check a medium the way its consumer does; `ok` is false when the consumer would fail. */
export async function verify(path: string, opts: VerifyCallOptions = {}): Promise<VerifyReport> {
  const { registry = builtinReaders, ctx = createContext(), kernels = [], dists = [], key, ca, signatureCheck, kabi } = opts;
  const asked = kernels.map((k) => kernelOrRelease(k, '--kernel'));
  const loaded = kabi?.length ? await loadKabi(kabi.map((k) => (typeof k === 'string' ? { file: k } : k)), '--kabi') : undefined;
  return verifyAs(path, path, registry, ctx, { kernels: asked, dists, ...(key !== undefined ? { key } : {}), ...(ca !== undefined ? { ca } : {}), ...(signatureCheck !== undefined ? { signatureCheck } : {}), ...(loaded ? { kabi: loaded } : {}) });
}

type VerifyOpts = Pick<VerifyEnv, 'kernels' | 'key' | 'signatureCheck' | 'foundBy' | 'ca' | 'kabi'> & { dists?: string[] };

function env(registry: Registry, ctx: Context, opts: VerifyOpts): VerifyEnv {
  const { foundBy: _own, ...inherited } = opts;
  return {
    ctx,
    ...opts,
    inspectNested: (path, name) => inspectAs(path, name, registry, ctx, opts.ca),
    // kernels, key and signature rule carry over to the nested medium; how it is found is the outer medium's say
    verifyNested: (path, name, foundBy) => verifyAs(path, name, registry, ctx, { ...inherited, ...(foundBy !== undefined ? { foundBy } : {}) }),
  };
}

async function withChosen<T>(registry: Registry, path: string, use: (c: Chosen & { reader?: Reader }) => Promise<T>): Promise<T> {
  const chosen = await bidOn(registry, path);
  try {
    const reader = winner(path, chosen.bids);
    return await use({ ...chosen, ...(reader ? { reader } : {}) });
  } catch (err) {
    asUserError(err, path);
  } finally {
    await chosen.close();
  }
}

async function inspectAs(path: string, name: string, registry: Registry, ctx: Context, ca?: string): Promise<InspectReport> {
  return withChosen(registry, path, async ({ reader, opened }) => {
    if (!reader) throw new UserError(UNKNOWN, path);
    const readEnv: ReadEnv = env(registry, ctx, { kernels: [], ...(ca !== undefined ? { ca } : {}) });
    const r = await reader.inspect(path, opened, readEnv);
    const json = { kind: r.kind, ...(reader.render.json ? reader.render.json(r) : (r.facts as object)), findings: r.findings };
    return { ...r, text: join(reader.render.inspect(r, name), findingsText(r.findings)), json };
  });
}

async function verifyAs(path: string, name: string, registry: Registry, ctx: Context, opts: VerifyOpts): Promise<VerifyReport> {
  return withChosen(registry, path, async ({ reader, opened, openError, head }) => {
    if (!reader?.verify || !reader.render.verify) {
      // a file that is no medium at all: why it did not open says most
      if (openError !== undefined && !head.isDirectory) throw openError;
      throw new UserError(NO_DISK, path);
    }
    const v = await reader.verify(path, opened, env(registry, ctx, opts));
    const account = reader.render.verify(v, name);
    if (opened?.kind !== 'fat') return { ...v, account, text: join(account, findingsText(v.findings), verdict(v.findings)) };
    // a FAT image is a USB stick: its volume is checked too, whatever disk it carries
    const usb = await verifyUsb(path, v);
    const usbAccount = join(usbText(name, usb.details), account);
    return { ...usb, account: usbAccount, text: join(usbAccount, findingsText(usb.findings), verdict(usb.findings)) };
  });
}
