/**
 * A medium nested in another as a file (the driver disk ISO inside a PXE overlay or an installer
 * ISO, the pack ISO inside a release zip): built into the scratch folder when the outer tree is
 * resolved, then streamed from there like any file.
 */
import type { Plan } from './plan.js';
import { createContext } from '../context.js';
import type { BuildRun } from '../tree/artifacts.js';
import { identityOf, treeIdentity } from '../tree/identity.js';
import { resolveTree } from '../tree/resolve.js';
import type { Scratch } from '../tree/scratch.js';
import { fileSource, type Source } from '../tree/source.js';
import type { Generated, ResolvedEntry } from '../tree/tree.js';
import type { DigestName } from './atomic.js';
import { emitMedium, type Emitted } from './index.js';
import { buildSidecars, type BuiltSidecar } from './sidecars.js';

interface Env {
  epoch: number;
  warn(m: string): void;
}

/**
 * What determines the bytes of a plan's medium: its settings, the clock and its tree (undefined when
 * part of the tree has no identity). The key of the nested medium, and the identity under which a
 * build offers a target's output to nested copies of the same medium.
 */
export function mediumKey(plan: Plan, epoch: number): string | undefined {
  const tree = treeIdentity(plan.tree);
  return tree === undefined ? undefined : identityOf([plan.medium, epoch, tree]);
}

/** Emit the inner plan into the scratch folder; sidecar checksums are taken as the bytes pass. */
async function buildInner(plan: Plan, name: string, env: Env, scratch: Scratch, run: BuildRun, checksums: DigestName[]) {
  const ctx = createContext({ epoch: env.epoch, progress: run.progress, onWarn: (m) => env.warn(m) });
  const entries = await resolveTree(plan.tree, scratch, run);
  const sidecars = await buildSidecars(plan.sidecars ?? [], entries, scratch, run);
  const path = scratch.path(name);
  const emitted: Emitted = await emitMedium(entries, plan.medium, path, checksums, ctx);
  return { source: await fileSource(path), emitted, entries, sidecars };
}

/** Same plan, same bytes: a build makes the medium once and nests that copy (or its own output) everywhere. */
export function nestedMedium(plan: Plan, name: string, env: Env): Generated {
  const key = mediumKey(plan, env.epoch);
  return { kind: 'generated', deps: [], ...(key !== undefined ? { key } : {}), build: async (_deps, scratch, run) => (await buildInner(plan, name, env, scratch, run, [])).source };
}

export interface BuiltImage {
  /** Lowercase hex MD5 of the image bytes. */
  md5: string;
  entries: ResolvedEntry[];
  sidecars: BuiltSidecar[];
}

export interface NestedImage {
  image: Generated;
  /** A file made from the built image's facts; depends on the image (at its tree path). */
  derived(origin: string, make: (built: BuiltImage) => Source | Promise<Source>): Generated;
}

/**
 * Like `nestedMedium`, but keeping what its one write learned: the image's MD5 from the emitter's
 * tap and the inner tree's resolved files, so that files derived from them (`<name>.iso.md5`, the
 * inner plan's sidecars) are made without reading the image again. `at`: where the caller puts
 * `image` in its tree.
 */
export function nestedImage(plan: Plan, name: string, at: string, env: Env): NestedImage {
  let built: BuiltImage | undefined;
  return {
    image: {
      kind: 'generated',
      deps: [],
      async build(_deps, scratch, run) {
        const inner = await buildInner(plan, name, env, scratch, run, ['md5']);
        if (!inner.emitted.md5) throw new Error(`${name}: the ${plan.medium.kind} emitter gave no MD5`);
        built = { md5: inner.emitted.md5, entries: inner.entries, sidecars: inner.sidecars };
        return inner.source;
      },
    },
    derived(origin, make) {
      return {
        kind: 'generated',
        deps: [at],
        build: async () => {
          if (!built) throw new Error(`${origin} built before ${at}`);
          return make(built);
        },
      };
    },
  };
}
