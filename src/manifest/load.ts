import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Document, isMap, isScalar, parseDocument } from 'yaml';
import type { z } from 'zod';
import { asUserError, UserError } from '../errors.js';
import { issueText, schemaKeys } from './issues.js';
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
}

/** `targets[2].rhdd3.out: expected string` — the key path, then zod's message. */
export function describeIssues(error: z.ZodError, prefix: (string | number)[] = [], input?: unknown, schema: z.ZodType = manifestSchema, line?: (path: (string | number)[]) => number | undefined): string {
  const known = schemaKeys(schema);
  return error.issues
    .slice(0, 5)
    .map((i) => issueText(i, prefix, input, known, line))
    .join('; ');
}

/** The 1-based line of a key path's key (or value) in the YAML source, when it is there. */
function yamlLine(doc: Document, text: string): (path: (string | number)[]) => number | undefined {
  return (path) => {
    const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
    const last = path[path.length - 1];
    let offset: number | undefined;
    if (isMap(parent)) {
      const key = parent.items.find((p) => isScalar(p.key) && p.key.value === last)?.key;
      if (isScalar(key)) offset = key.range?.[0];
    }
    if (offset === undefined) offset = (doc.getIn(path, true) as { range?: [number] } | undefined)?.range?.[0];
    return offset === undefined ? undefined : text.slice(0, offset).split('\n').length;
  };
}

/** Read and validate a YAML or JSON manifest (JSON is YAML). Targets' own options are checked later by their layouts. */
export async function loadManifest(path: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    asUserError(err, path);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [syntax] = doc.errors;
  if (syntax) throw new UserError(`not valid YAML/JSON: ${syntax.message.split('\n')[0]}`, path);
  // before the schema: it sees values, not what was written
  const problem = scalarProblem(doc);
  if (problem) throw new UserError(problem, path);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // e.g. an alias expanding beyond yaml's alias count limit
    throw new UserError(`not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, path);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssues(parsed.error, [], raw, manifestSchema, yamlLine(doc, text)), path);
  const targets = parsed.data.targets.map((t, index) => {
    const keys = Object.keys(t);
    if (keys.length !== 1) throw new UserError(`targets[${index}]: each target is one key naming its kind, e.g. \`- rhdd3: { out: dd.iso }\``, path);
    const kind = keys[0]!;
    return { kind, index, options: t[kind] ?? {} };
  });
  return { path, baseDir: dirname(resolve(path)), manifest: parsed.data, targets };
}
