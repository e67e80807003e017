/**
 * Files derived from an emitted medium (`Plan.derived`): checksum files and the rest are made the
 * same way, from the medium's name, the digests its emitter took as the bytes passed, and the
 * tree files they name; written beside the medium atomically, or put next to it in an outer tree.
 */
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { bytesSource, type Source } from '../tree/source.js';
import type { ResolvedEntry } from '../tree/tree.js';
import { AtomicFile, type DigestName } from './atomic.js';
import type { Derived } from './plan.js';

/** Checksum line in coreutils format: `md5sum -c` / `sha256sum -c` verify it in the file's folder. */
export function checksumLine(hex: string, file: string): string {
  return `${hex}  ${basename(file)}\n`;
}

/** `<medium>.md5` or `<medium>.sha256`, from the digest taken as the medium was written. */
export function checksumFile(algorithm: DigestName): Derived {
  return {
    name: (medium) => `${medium}.${algorithm}`,
    digests: [algorithm],
    make: ({ medium, digests }) => bytesSource(checksumLine(digests[algorithm]!, medium), `${medium}.${algorithm}`),
  };
}

export function checksumFiles(algorithms: readonly DigestName[]): Derived[] {
  return [...new Set(algorithms)].map(checksumFile);
}

/** The digests a medium's emitter must take for these derived files. */
export function digestsFor(derived: readonly Derived[]): DigestName[] {
  return [...new Set(derived.flatMap((d) => d.digests ?? []))];
}

export interface MadeDerived {
  name: string;
  source: Source;
}

/**
 * Make the derived files of a medium about to be written as `medium`: those that need no digest
 * now (a failure then leaves nothing behind), the others once the digests are known (`finish`).
 */
export async function deriveFrom(derived: readonly Derived[], medium: string, entries: readonly ResolvedEntry[]): Promise<(digests: Partial<Record<DigestName, string>>) => Promise<MadeDerived[]>> {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const names = new Set<string>();
  const jobs = derived.map((d) => {
    const name = d.name(medium);
    if (name === '' || name.includes('/') || name === '.' || name === '..' || name === medium) throw new UserError(`bad name ${JSON.stringify(name)} for a file derived from ${medium}`);
    if (names.has(name)) throw new UserError(`two files derived from ${medium} are named ${name}`);
    names.add(name);
    const deps = (d.deps ?? []).map((p) => {
      const e = byPath.get(p);
      if (!e || e.type !== 'file') throw new UserError(`${name} depends on ${p}, which is not a file in the tree of ${medium}`);
      return e.content;
    });
    return { d, name, deps };
  });
  const early = new Map<string, Source>();
  for (const { d, name, deps } of jobs) if (!d.digests?.length) early.set(name, await d.make({ medium, digests: {}, deps }));
  return async (digests) => {
    const made: MadeDerived[] = [];
    for (const { d, name, deps } of jobs) {
      const missing = (d.digests ?? []).filter((a) => digests[a] === undefined);
      if (missing.length > 0) throw new Error(`${name}: the emitter of ${medium} took no ${missing.join(', ')}`);
      made.push({ name, source: early.get(name) ?? (await d.make({ medium, digests, deps })) });
    }
    return made;
  };
}

/** Write each derived file beside `out`, atomically; returns their paths. */
export async function writeDerived(out: string, made: readonly MadeDerived[]): Promise<string[]> {
  const paths: string[] = [];
  for (const m of made) {
    const path = join(dirname(out), m.name);
    await AtomicFile.with(path, [], async (f) => {
      for await (const chunk of m.source.open()) await f.write(chunk);
    });
    paths.push(path);
  }
  return paths;
}

/** Make and write derived files of a medium already written at `out` with these digests (no tree deps). */
export async function writeDerivedOf(out: string, derived: readonly Derived[], digests: Partial<Record<DigestName, string>>): Promise<string[]> {
  const finish = await deriveFrom(derived, basename(out), []);
  return writeDerived(out, await finish(digests));
}
