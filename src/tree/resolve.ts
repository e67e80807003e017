import { UserError } from '../errors.js';
import { silentProgress } from '../progress.js';
import type { BuildRun } from './artifacts.js';
import { entryIdentities } from './identity.js';
import { inOrder } from './in-order.js';
import type { Scratch } from './scratch.js';
import type { Source } from './source.js';
import { checkPath, comparePaths, isGenerated, type Entry, type FileEntry, type ResolvedEntry, type Tree } from './tree.js';

/**
 * Generated files built at the same time: kmod RPMs for different kernels compress on different
 * cores. Two, because each xz encoder holds its own dictionary and buffers (bounded memory).
 */
const BUILDS_AT_ONCE = 2;

/**
 * Build every generated entry, each after the entries it depends on (a cycle is an error), and
 * return the tree's entries with plain sources only, in path order. Within a build (`run.artifacts`),
 * an entry whose identity the build has made already is taken from there, not built again.
 * Generated files are built in path order, a few at a time; the first error in that order is the one thrown.
 */
export async function resolveTree(tree: Tree, scratch: Scratch, run: BuildRun = { progress: silentProgress }): Promise<ResolvedEntry[]> {
  const entries = tree.entries();
  const ids = entryIdentities(entries);
  const { artifacts } = run;
  const once = <T>(path: string, build: (scratch: Scratch) => Promise<T>): Promise<T> => {
    const id = ids.get(path);
    return artifacts && id !== undefined ? artifacts.once(id, () => build(artifacts.scratch)) : build(scratch);
  };
  const byPath = new Map(entries.map((e) => [e.path, e]));
  refuseCycles(byPath);
  // each path's result, or the promise of it while it is being built (shared by whoever needs it)
  const done = new Map<string, Promise<Source>>();

  function resolve(path: string, from: string): Promise<Source> {
    let hit = done.get(path);
    if (!hit) {
      hit = build(path, from);
      hit.catch(() => undefined); // each caller awaits it; this only keeps a shared failure from going unhandled
      done.set(path, hit);
    }
    return hit;
  }

  async function build(path: string, from: string): Promise<Source> {
    const e: Entry | undefined = byPath.get(path);
    if (!e || e.type !== 'file') throw new UserError(`${from} depends on ${path}, which is not a file in the tree`);
    if (!isGenerated(e.content)) return e.content;
    const deps: Source[] = [];
    for (const d of e.content.deps) deps.push(await resolve(d, path));
    const content = e.content;
    return once(path, (s) => content.build(deps, s, run));
  }

  const out: ResolvedEntry[] = [];
  const contents = new Map<Entry, Source>();
  // only generated files take building; plain ones are their own content
  const generated: FileEntry[] = [];
  for (const e of entries) {
    if (e.type !== 'file') continue;
    if (isGenerated(e.content)) generated.push(e);
    else contents.set(e, e.content);
  }
  await inOrder(generated, BUILDS_AT_ONCE, async (f) => [f, await resolve(f.path, f.path)] as const, ([f, content]) => void contents.set(f, content));
  for (const e of entries) {
    if (e.type === 'file') out.push({ ...e, content: contents.get(e)! });
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

/** Generated files that depend on themselves, found before anything is built (builds run at once would wait on each other). */
function refuseCycles(byPath: ReadonlyMap<string, Entry>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (path: string): void => {
    const e = byPath.get(path);
    if (e?.type !== 'file' || !isGenerated(e.content) || state.get(path) === 'done') return;
    if (state.get(path) === 'visiting') throw new Error(`dependency cycle through ${path}`);
    state.set(path, 'visiting');
    for (const d of e.content.deps) visit(d);
    state.set(path, 'done');
  };
  for (const path of byPath.keys()) visit(path);
}
