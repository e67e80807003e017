/**
 * The generated artifacts of one build, by identity (`tree/identity.ts`): each is made once, into
 * the build's own scratch folder, and every target and nested medium that plans the same one gets
 * that result. Build-scoped, never global: identities hold within one build only, and the folder
 * goes when the build ends. Results are sources (files in the scratch folder or emitted outputs),
 * never bytes held in memory.
 */
import type { Progress } from '../progress.js';
import type { HashingScope } from './hashing.js';
import { Scratch } from './scratch.js';

export class Artifacts {
  private readonly made = new Map<string, Promise<unknown>>();
  private constructor(readonly scratch: Scratch) {}

  /** Run `fn` with a store whose scratch folder is removed afterwards, whatever happens. */
  static with<T>(fn: (a: Artifacts) => Promise<T>): Promise<T> {
    return Scratch.with((s) => fn(new Artifacts(s)));
  }

  /** The artifact of this identity: made now by `make` (in `this.scratch`), or the one made before. */
  once<T>(id: string, make: () => Promise<T>): Promise<T> {
    let hit = this.made.get(id) as Promise<T> | undefined;
    if (!hit) this.made.set(id, (hit = make()));
    return hit;
  }

  /** Record an artifact made elsewhere (a target's output file, which nested copies then reuse). */
  offer<T>(id: string, made: T): void {
    if (!this.made.has(id)) this.made.set(id, Promise.resolve(made));
  }
}

/** What a generator gets besides its inputs and scratch folder: progress, the build's artifacts, where to hash. */
export interface BuildRun {
  readonly progress: Progress;
  /** Absent when resolving a tree outside a build: nothing is shared then. */
  readonly artifacts?: Artifacts;
  /** Where many streams are hashed (worker threads in a build); absent: on the main thread. */
  readonly hashing?: HashingScope;
}
