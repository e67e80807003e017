import { UserError } from '../errors.js';
import type { Scratch } from './scratch.js';
import type { Source } from './source.js';
import { isGenerated, type Entry, type ResolvedEntry, type Tree } from './tree.js';

/**
 * Build every generated entry, each after the entries it depends on (a cycle is an error), and
 * return the tree's entries with plain sources only, in path order.
 */
export async function resolveTree(tree: Tree, scratch: Scratch): Promise<ResolvedEntry[]> {
  const entries = tree.entries();
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const done = new Map<string, Source>();
  const visiting = new Set<string>();

  async function resolve(path: string, from: string): Promise<Source> {
    const hit = done.get(path);
    if (hit) return hit;
    const e: Entry | undefined = byPath.get(path);
    if (!e || e.type !== 'file') throw new UserError(`${from} depends on ${path}, which is not a file in the tree`);
    if (!isGenerated(e.content)) {
      done.set(path, e.content);
      return e.content;
    }
    if (visiting.has(path)) throw new Error(`dependency cycle through ${path}`);
    visiting.add(path);
    const deps: Source[] = [];
    for (const d of e.content.deps) deps.push(await resolve(d, path));
    const built = await e.content.build(deps, scratch);
    visiting.delete(path);
    done.set(path, built);
    return built;
  }

  const out: ResolvedEntry[] = [];
  for (const e of entries) {
    out.push(e.type === 'file' ? { ...e, content: await resolve(e.path, e.path) } : e);
  }
  return out;
}
