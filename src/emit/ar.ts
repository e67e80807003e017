/**
 * ar emitter (ESXi VIBs, `esxi.md` §2): the tree's files as ar members in the order the plan
 * names, streamed once through the checksum taps into the one atomic output.
 */
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { arLength, writeAr } from '../formats/ar/ar.js';
import type { ResolvedEntry, ResolvedFile } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import type { Emitted } from './index.js';
import { emitOutput } from './output.js';
import { drain } from './pipeline.js';

export function emitAr(entries: readonly ResolvedEntry[], order: readonly string[], out: string, digests: readonly DigestName[], ctx: Context): Promise<Emitted> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const members = order.map((name): ResolvedFile => {
    const e = byPath.get(name);
    if (!e || e.type !== 'file') throw new UserError(`ar: the plan names member ${name}, which is not a file of the tree`, out);
    return e;
  });
  const extra = entries.find((e) => !order.includes(e.path));
  if (extra) throw new UserError(`ar: ${extra.path} is in the tree but not among the members`, out);
  return emitOutput(out, { digests, total: arLength(members.map((m) => m.content.size)) }, ctx, (sink) =>
    drain(writeAr(members.map((m) => ({ name: m.path, size: m.content.size, data: m.content.open() }))), sink),
  );
}
