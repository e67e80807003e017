/**
 * A medium nested in another as a file (the pack ISO inside a release zip), like `nestedMedium`,
 * but keeping what its one write learned: the image's MD5 from the emitter's tap and the inner
 * tree's resolved files, so that files derived from them (`<name>.iso.md5`, the inner plan's
 * sidecars) are written without reading the image again.
 */
import type { Plan } from '../../layouts/types.js';
import { createContext } from '../context.js';
import { resolveTree } from '../tree/resolve.js';
import { fileSource, type Source } from '../tree/source.js';
import type { Generated, ResolvedEntry } from '../tree/tree.js';
import { emitMedium } from './index.js';
import { buildSidecars, type BuiltSidecar } from './sidecars.js';

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

/** `at`: where the caller puts `image` in its tree. */
export function nestedImage(plan: Plan, name: string, at: string, env: { epoch: number; warn(m: string): void }): NestedImage {
  let built: BuiltImage | undefined;
  return {
    image: {
      kind: 'generated',
      deps: [],
      async build(_deps, scratch) {
        const ctx = createContext({ epoch: env.epoch, onWarn: (m) => env.warn(m) });
        const entries = await resolveTree(plan.tree, scratch);
        const sidecars = await buildSidecars(plan.sidecars ?? [], entries, scratch);
        const path = scratch.path(name);
        const emitted = await emitMedium(entries, plan.medium, path, ['md5'], ctx);
        if (!emitted.md5) throw new Error(`${name}: the ${plan.medium.kind} emitter gave no MD5`);
        built = { md5: emitted.md5, entries, sidecars };
        return fileSource(path);
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
