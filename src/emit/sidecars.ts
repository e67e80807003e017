/**
 * Sidecar files of a plan (`Plan.sidecars`): built from the resolved tree before the medium is
 * written, so a failure leaves nothing behind, and written atomically beside it afterwards.
 */
import { dirname, join } from 'node:path';
import type { Sidecar } from './plan.js';
import { UserError } from '../errors.js';
import type { BuildRun } from '../tree/artifacts.js';
import type { Scratch } from '../tree/scratch.js';
import type { Source } from '../tree/source.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { AtomicFile } from './atomic.js';

export interface BuiltSidecar {
  name: string;
  source: Source;
}

export async function buildSidecars(sidecars: readonly Sidecar[], entries: readonly ResolvedEntry[], scratch: Scratch, run: BuildRun): Promise<BuiltSidecar[]> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const out: BuiltSidecar[] = [];
  for (const s of sidecars) {
    if (s.name === '' || s.name.includes('/') || s.name === '.' || s.name === '..') throw new UserError(`bad sidecar file name ${JSON.stringify(s.name)}`);
    const deps = s.content.deps.map((p) => {
      const e = byPath.get(p);
      if (!e || e.type !== 'file') throw new UserError(`${s.name} depends on ${p}, which is not a file in the tree`);
      return e.content;
    });
    out.push({ name: s.name, source: await s.content.build(deps, scratch, run) });
  }
  return out;
}

/** Write each sidecar beside `out`; returns their paths. */
export async function writeSidecars(out: string, built: readonly BuiltSidecar[]): Promise<string[]> {
  const paths: string[] = [];
  for (const s of built) {
    const path = join(dirname(out), s.name);
    await AtomicFile.with(path, [], async (f) => {
      for await (const chunk of s.source.open()) await f.write(chunk);
    });
    paths.push(path);
  }
  return paths;
}
