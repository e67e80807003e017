import type { Plan } from '../../layouts/types.js';
import { createContext } from '../context.js';
import { resolveTree } from '../tree/resolve.js';
import { fileSource } from '../tree/source.js';
import type { Generated } from '../tree/tree.js';
import { emitMedium } from './index.js';

/**
 * A medium inside another (the driver disk ISO inside a PXE overlay): built into the scratch
 * folder when the outer tree is resolved, then streamed from there like any file.
 */
export function nestedMedium(plan: Plan, name: string, env: { epoch: number; warn(m: string): void }): Generated {
  return {
    kind: 'generated',
    deps: [],
    async build(_deps, scratch) {
      const ctx = createContext({ epoch: env.epoch, onWarn: (m) => env.warn(m) });
      const entries = await resolveTree(plan.tree, scratch);
      const path = scratch.path(name);
      await emitMedium(entries, plan.medium, path, [], ctx);
      return fileSource(path);
    },
  };
}
