import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { asUserError, UserError } from '../errors.js';
import { issueText, schemaKeys } from './issues.js';
import { withLocation, yamlLocator, type Locate } from './locate.js';
import { scalarProblem } from './scalars.js';
import { manifestSchema, type Manifest } from './schema.js';

export interface Target {
  kind: string;
  /** Index in the manifest's `targets` list, for error messages. */
  index: number;
  options: unknown;
}

export interface LoadedManifest {
  path: string;
  /** Relative paths in the manifest resolve against this folder. */
  baseDir: string;
  manifest: Manifest;
  targets: Target[];
  /** Line and column of a key path in the manifest's text. */
  locate: Locate;
  /** A UserError about the manifest that starts with a key path, with that key's line and column. */
  withLocation(err: unknown): unknown;
}

/** `targets[2].rhdd3.out: expected string` — the key path, then zod's message. */
export function describeIssues(error: z.ZodError, prefix: (string | number)[] = [], input?: unknown, schema: z.ZodType = manifestSchema, locate?: Locate): string {
  const known = schemaKeys(schema);
  return error.issues
    .slice(0, 5)
    .map((i) => issueText(i, prefix, input, known, locate))
    .join('; ');
}

/** Read and validate a YAML or JSON manifest (JSON is YAML). Targets' own options are checked later by their layouts. */
export async function loadManifest(path: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    asUserError(err, path);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  const [syntax] = doc.errors;
  if (syntax) throw new UserError(`not valid YAML/JSON: ${syntax.message.split('\n')[0]}`, path);
  // before the schema: it sees values, not what was written
  const locate = yamlLocator(doc, lines);
  const located = (err: unknown) => withLocation(err, path, doc, locate);
  const problem = scalarProblem(doc);
  if (problem) throw located(new UserError(problem, path));
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // e.g. an alias expanding beyond yaml's alias count limit
    throw new UserError(`not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, path);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error, [], raw, manifestSchema, locate), path);
  const targets = parsed.data.targets.map((t, index) => {
    const keys = Object.keys(t);
    if (keys.length !== 1) throw located(new UserError(`targets[${index}]: each target is one key naming its kind, e.g. \`- rhdd3: { out: dd.iso }\``, path));
    const kind = keys[0]!;
    return { kind, index, options: t[kind] ?? {} };
  });
  return { path, baseDir: dirname(resolve(path)), manifest: parsed.data, targets, locate, withLocation: located };
}
