/**
 * A medium nested in another as a file (the driver disk ISO inside a PXE overlay or an installer
 * ISO, the pack ISO inside a release zip), with the files derived from it that the outer tree
 * carries next to it (the release zip's `<name>.iso.md5`). Built once per build, into the scratch
 * folder, by the same sequence as a target (`emitPlan`); a target's own output of the same medium
 * is reused instead (`offerBuilt`).
 */
import type { Derived, Plan } from './plan.js';
import { createContext } from '../context.js';
import type { Artifacts, BuildRun } from '../tree/artifacts.js';
import { identityOf, objectIdentity, treeIdentity } from '../tree/identity.js';
import type { Scratch } from '../tree/scratch.js';
import { fileSource, type Source } from '../tree/source.js';
import type { Generated, ResolvedEntry } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import { digestsOf } from './off-thread.js';
import { deriveFrom, digestsFor } from './derived.js';
import { emitPlan } from './index.js';

interface Env {
  epoch: number;
  warn(m: string): void;
}

/** A written medium: its bytes, the digests its emitter took, the tree it holds. */
export interface BuiltMedium {
  source: Source;
  digests: Partial<Record<DigestName, string>>;
  entries: ResolvedEntry[];
}

/**
 * What determines the bytes of a plan's medium: its settings, the clock and its tree: the tree's
 * content identity, else the tree object itself (a build plans each target once, and nests that
 * very plan: `Planner`). The key of the nested medium, and the identity under which a build
 * offers a target's output to nested copies of the same medium.
 */
export function mediumKey(plan: Plan, epoch: number): string | undefined {
  return identityOf([plan.medium, epoch, treeIdentity(plan.tree) ?? objectIdentity(plan.tree)]);
}

const builtId = (key: string) => `built-medium:${key}`;

/** A target's written output, for nested copies of the same medium later in the build. */
export function offerBuilt(artifacts: Artifacts, plan: Plan, epoch: number, built: BuiltMedium): void {
  const key = plan.medium.kind === 'directory' ? undefined : mediumKey(plan, epoch);
  if (key !== undefined) artifacts.offer(builtId(key), built);
}

export interface NestedMedium {
  /** The medium as a file of the outer tree. */
  image: Generated;
  /** A file derived from the medium, for the outer tree next to it (named by `d.name(name)`). */
  derived(d: Derived): Generated;
}

/**
 * Same plan, same bytes: a build makes the medium once and nests that copy (or a target's own
 * output) everywhere. `name` is the medium's file name in the outer tree, `at` its tree path.
 */
export function nest(plan: Plan, name: string, env: Env, at = name): NestedMedium {
  const key = mediumKey(plan, env.epoch);
  const wanted: Derived[] = [];
  let local: Promise<BuiltMedium> | undefined;
  const build = async (scratch: Scratch, run: BuildRun): Promise<BuiltMedium> => {
    const ctx = createContext({ epoch: env.epoch, progress: run.progress, onWarn: (m) => env.warn(m) });
    const path = scratch.path(name);
    // the derived files are made by `derived` below, from what this returns
    const emitted = await emitPlan(plan, [], path, name, ctx, scratch, run, digestsFor(wanted));
    return { source: await fileSource(path), digests: emitted, entries: emitted.entries };
  };
  const built = (scratch: Scratch, run: BuildRun): Promise<BuiltMedium> =>
    run.artifacts && key !== undefined ? run.artifacts.once(builtId(key), () => build(run.artifacts!.scratch, run)) : (local ??= build(scratch, run));
  return {
    image: { kind: 'generated', deps: [], ...(key !== undefined ? { key } : {}), build: async (_deps, scratch, run) => (await built(scratch, run)).source },
    derived(d) {
      wanted.push(d);
      return {
        kind: 'generated',
        deps: [at],
        async build(_deps, scratch, run) {
          const medium = await built(scratch, run);
          const finish = await deriveFrom([d], name, medium.entries);
          const [made] = await finish(await withDigests(medium, d.digests ?? [], name, run));
          return made!.source;
        },
      };
    },
  };
}

/** The nested medium as a file of the outer tree (no derived files). */
export function nestedMedium(plan: Plan, name: string, env: Env): Generated {
  return nest(plan, name, env).image;
}

/** The medium's digests, with those its emitter did not take (a reused output) read from its bytes. */
async function withDigests(medium: BuiltMedium, needed: readonly DigestName[], name: string, run: BuildRun): Promise<Partial<Record<DigestName, string>>> {
  const missing = needed.filter((a) => medium.digests[a] === undefined);
  if (missing.length === 0) return medium.digests;
  run.progress.note(`re-reading ${name} once for ${missing.join(' and ')}`);
  run.progress.phase(`hashing ${name} (${missing.join(', ')})`, medium.source.size);
  Object.assign(medium.digests, await digestsOf(medium.source.open(), medium.source.size, missing, (n) => run.progress.advance(n)));
  return medium.digests;
}
