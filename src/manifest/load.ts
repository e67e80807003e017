import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { UserError } from '../errors.js';
import { issueText, schemaKeys } from './issues.js';
import { applyOverride, keyParts, defaultsPath, type DefaultsFile, isPlainObject, type Key, type LayerOptions, type Origin, type Override, parseOverride, readDefaults, readYaml, type YamlLayer } from './layers.js';
import { withLocation, type Locate } from './locate.js';
import { defaultsSchema, manifestSchema, type Manifest } from './schema.js';

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
  /** A UserError about the manifest (or the defaults file) that starts with a key path, with that key's line and column. */
  withLocation(err: unknown): unknown;
  /** Which layer gave the value at a key path (defaults file, manifest, `--set`). */
  origin(path: Key[]): Origin;
  /** The file (or `--set KEY`) an error about a key path (`sources[0].ko`, or its parts) names. */
  fileOf(path: string | Key[]): string;
  /** The merged value the schema read (before it filled in its defaults). */
  raw: unknown;
  /** The defaults file read, if any. */
  defaults?: string;
  /** Which defaults file was read, or why none was (`build -v` says it). */
  defaultsNote: string;
}

/** `targets[2].rhdd3.out: expected string` — the key path, then zod's message. */
export function describeIssues(error: z.ZodError, prefix: (string | number)[] = [], input?: unknown, schema: z.ZodType = manifestSchema, locate?: Locate): string {
  const known = schemaKeys(schema);
  return error.issues
    .slice(0, 5)
    .map((i) => issueText(i, prefix, input, known, locate))
    .join('; ');
}

/** Read and validate a YAML or JSON manifest (JSON is YAML), layered between the defaults file and `--set` overrides. Targets' own options are checked later by their layouts. */
export async function loadManifest(path: string, layers: LayerOptions = {}): Promise<LoadedManifest> {
  const { layer: own, raw: given } = await readYaml(path);
  const found = defaultsPath(layers.defaults);
  const defaults = found ? await readDefaults(found) : undefined;
  if (defaults) {
    // checked on its own, so a bad default is reported even where this manifest overrides it
    const checked = defaultsSchema.safeParse(defaults.values);
    if (!checked.success) throw new UserError(describeIssues(checked.error, [], defaults.values, defaultsSchema, defaults.layer.locate), defaults.layer.file);
  }
  const overrides = (layers.set ?? []).map(parseOverride);
  let raw = given;
  const fromDefaults = new Set<string>();
  if (isPlainObject(given) && (defaults || overrides.length > 0)) {
    const merged: Record<string, unknown> = structuredClone(given);
    // a key the manifest gives replaces the default whole: its signing key is never paired with the defaults' certificate
    for (const [k, v] of Object.entries(defaults?.values ?? {})) if (!(k in merged)) merged[k] = v, fromDefaults.add(k);
    for (const o of overrides) applyOverride(merged, o);
    raw = merged;
  }
  const origin = originOf(own, given, defaults?.layer, defaults?.values, fromDefaults, overrides);
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw layerError(parsed.error, raw, origin, own, defaults?.layer);
  // a mistake at a key of the manifest or the defaults file names its line and column there
  const located = (err: unknown) => {
    const inManifest = withLocation(err, path, own.doc, own.locate);
    return defaults ? withLocation(inManifest, defaults.layer.file, defaults.layer.doc, defaults.layer.locate) : inManifest;
  };
  const targets = parsed.data.targets.map((t, index) => {
    const keys = Object.keys(t);
    if (keys.length !== 1) throw located(new UserError(`targets[${index}]: each target is one key naming its kind, e.g. \`- rhdd3: { out: dd.iso }\``, path));
    const kind = keys[0]!;
    return { kind, index, options: t[kind] ?? {} };
  });
  const defaultsNote = defaultsRead(layers.defaults, found, defaults !== undefined);
  return { path, baseDir: dirname(resolve(path)), manifest: parsed.data, targets, locate: own.locate, withLocation: located, raw, origin, fileOf: (p) => originLabel(origin(typeof p === 'string' ? (keyParts(p) ?? [p]) : p)), ...(defaults ? { defaults: defaults.layer.file } : {}), defaultsNote };
}

/** Which defaults file was read, or why none was. */
function defaultsRead(given: string | false | undefined, found: DefaultsFile | undefined, read: boolean): string {
  if (found && read) return `defaults file ${found.path} read${found.namedBy ? ` (named by ${found.namedBy})` : ''}`;
  if (found) return `no defaults file: ${found.path} does not exist`;
  return given === false ? 'no defaults file: turned off (--no-defaults)' : 'no defaults file: DUDKIT_DEFAULTS is set but empty';
}

/** How an error names a layer: its file, or `--set KEY`. */
function originLabel(o: Origin): string {
  return o.layer === 'set' ? `--set ${o.key}` : o.file;
}

/** The lookup of each key path's layer: the last `--set` at or above it, else the defaults file for its top key, else the manifest. */
function originOf(own: YamlLayer, given: unknown, defaults: YamlLayer | undefined, defaultsValues: unknown, fromDefaults: Set<string>, overrides: Override[]): (path: Key[]) => Origin {
  const isPrefix = (a: Key[], b: Key[]) => a.length <= b.length && a.every((k, j) => k === b[j]);
  return (path) => {
    const set = overrides.findLast((o) => isPrefix(o.path, path));
    if (set) return { layer: 'set', key: set.key };
    const layer = typeof path[0] === 'string' && fromDefaults.has(path[0]) ? defaults! : own;
    const value = layer === own ? given : defaultsValues;
    // below what the files give, a mapping a --set made (`--set signing.kye=…` makes `signing`) is that --set's
    for (let n = path.length; n > 0 && !has(value, path.slice(0, n)); n--) {
      const made = overrides.findLast((o) => isPrefix(path.slice(0, n), o.path));
      if (made) return { layer: 'set', key: made.key };
    }
    const line = lineNear(layer, path);
    // a value no layer gives (the schema's default) is the manifest's to give
    return { layer: layer === own ? 'manifest' : 'defaults', file: layer.file, ...(line !== undefined && (layer !== own || has(given, path)) ? { line } : {}) };
  };
}

/** The line of a key path, or of the nearest key above it that the file has. */
function lineNear(layer: YamlLayer, path: Key[]): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const line = layer.locate(path.slice(0, n))?.line;
    if (line !== undefined) return line;
  }
  return undefined;
}

export function has(value: unknown, path: Key[]): boolean {
  let v = value;
  for (const k of path) {
    if (!v || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<Key, unknown>)[k];
  }
  return true;
}

/** The schema's issues about the layer of the first one, as one UserError naming that layer (and lines, for a file). */
function layerError(error: z.ZodError, input: unknown, origin: (path: Key[]) => Origin, own: YamlLayer, defaults: YamlLayer | undefined): UserError {
  // an unknown key is about the key, not the mapping holding it
  const at = (i: z.core.$ZodIssue) => origin([...(i.path as Key[]), ...(i.code === 'unrecognized_keys' ? [i.keys[0]!] : [])]);
  const first = at(error.issues[0]!);
  const label = originLabel(first);
  const same = error.issues.filter((i) => originLabel(at(i)) === label);
  const file = first.layer === 'manifest' ? own : first.layer === 'defaults' ? defaults : undefined;
  const known = schemaKeys(manifestSchema);
  return new UserError(
    same
      .slice(0, 5)
      .map((i) => issueText(i, [], input, known, file?.locate))
      .join('; '),
    label,
  );
}
