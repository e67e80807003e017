import { UserError } from '../errors.js';
import { silentProgress } from '../progress.js';
import type { BuildRun } from './artifacts.js';
import { entryIdentities } from './identity.js';
import type { Scratch } from './scratch.js';
import type { Source } from './source.js';
import { checkPath, comparePaths, isGenerated, type Entry, type ResolvedEntry, type Tree } from './tree.js';

/**
 * Build every generated entry, each after the entries it depends on (a cycle is an error), and
 * return the tree's entries with plain sources only, in path order. Within a build (`run.artifacts`),
 * an entry whose identity the build has made already is taken from there, not built again.
 */
export async function resolveTree(tree: Tree, scratch: Scratch, run: BuildRun = { progress: silentProgress }): Promise<ResolvedEntry[]> {
  const entries = tree.entries();
  const ids = entryIdentities(tree);
  const { artifacts } = run;
  const once = <T>(path: string, build: (scratch: Scratch) => Promise<T>): Promise<T> => {
    const id = ids.get(path);
    return artifacts && id !== undefined ? artifacts.once(id, () => build(artifacts.scratch)) : build(scratch);
  };
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
    const content = e.content;
    const built = await once(path, (s) => content.build(deps, s, run));
    visiting.delete(path);
    done.set(path, built);
    return built;
  }

  const out: ResolvedEntry[] = [];
  for (const e of entries) {
    if (e.type === 'file') out.push({ ...e, content: await resolve(e.path, e.path) });
    else if (e.type !== 'generated-dir') out.push(e);
  }
  // generated folders last: they may depend on any file above
  const seen = new Set(out.map((o) => o.path));
  for (const e of entries) {
    if (e.type !== 'generated-dir') continue;
    const deps: Source[] = [];
    for (const d of e.content.deps) deps.push(await resolve(d, e.path));
    out.push({ type: 'dir', path: e.path, mode: e.mode });
    seen.add(e.path);
    const dirs = new Set<string>();
    const content = e.content;
    for (const f of await once(e.path, (s) => {
      // reads every file it depends on (repodata hashes each package): a phase of its own
      run.progress.phase(`generating ${e.path}/ from ${deps.length} files`);
      return content.build(deps, s, run);
    })) {
      const path = checkPath(`${e.path}/${f.path}`);
      if (seen.has(path)) throw new UserError(`two entries for the same output path: ${path}`);
      for (let i = path.lastIndexOf('/'); i > e.path.length; i = path.lastIndexOf('/', i - 1)) dirs.add(path.slice(0, i));
      seen.add(path);
      out.push({ type: 'file', path, mode: f.mode ?? 0o644, content: f.source });
    }
    for (const d of dirs) if (!seen.has(d)) seen.add(d), out.push({ type: 'dir', path: d, mode: 0o755 });
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}
