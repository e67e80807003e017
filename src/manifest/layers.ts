/**
 * Manifest layering, as ddiskit layers its configuration: vendor-wide defaults (a defaults file),
 * overridden by the manifest, overridden by `--set key=value`. Each value remembers its layer, so
 * errors name the file (and line) or the `--set` it came from, and `--print-manifest` can say it.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Document, isScalar, LineCounter, parseDocument } from 'yaml';
import { asUserError, isFsError, UserError } from '../errors.js';
import { closest } from './issues.js';
import { keyPath } from './keypath.js';
import { locationText, withLocation, yamlLocator, type Locate } from './locate.js';
import { scalarProblem } from './scalars.js';
import { z } from 'zod';
import { defaultsSchema, manifestSchema } from './schema.js';

export type Key = string | number;

/** Where a value of the merged manifest came from. */
export type Origin = { layer: 'defaults' | 'manifest'; file: string; line?: number } | { layer: 'set'; key: string };

/** How a build finds its layers (library options; the CLI's `--no-defaults`, `--set`). */
export interface LayerOptions {
  /**
   * The defaults file: a path, `false` for none, or undefined for the usual lookup: the file
   * `DUDKIT_DEFAULTS` names (none when it is set but empty), else
   * `$XDG_CONFIG_HOME/dudkit/defaults.yaml` (`~/.config/…`) when it exists.
   */
  defaults?: string | false;
  /** `key=value` overrides, applied in order after the manifest (`--set`). */
  set?: readonly string[];
}

/** The keys a defaults file may give (`defaultsSchema`). */
const DEFAULT_KEYS: readonly string[] = Object.keys(defaultsSchema.shape);

/** `--set` reaches every manifest key but `targets` (target options are the layouts'; edit the manifest or use --only). */
const NOT_SETTABLE = new Set(['targets']);

/**
 * The key paths a `--set` of one scalar can name, for shell completion: each top-level key that
 * takes a scalar, and the keys of a mapping (`signing.key`); lists are reached with `[N]`.
 */
export function settableKeys(): string[] {
  const unwrap = (s: z.ZodType): z.ZodType => (s instanceof z.ZodOptional || s instanceof z.ZodDefault ? unwrap(s.unwrap() as z.ZodType) : s);
  return Object.entries(manifestSchema.shape).flatMap(([k, s]) => {
    const inner = unwrap(s as z.ZodType);
    if (NOT_SETTABLE.has(k) || inner instanceof z.ZodArray) return [];
    return inner instanceof z.ZodObject ? Object.keys(inner.shape).map((sub) => `${k}.${sub}`) : [k];
  });
}

/**
 * Key paths whose values are file paths. The manifest's resolve against its folder; those from
 * the defaults file against the defaults file's folder, those from `--set` against the current
 * folder: both are made absolute when merged, so every later step resolves them alike.
 */
const PATH_KEY = /^(signing\.(key|cert)|kabi(\[\d+\])?(\.file)?|sources\[\d+\]\.(ko|rpm)(\[\d+\])?|sources\[\d+\]\.dkms|firmware\[\d+\]\.file)$/;

/** One parsed YAML file of the stack, with what its values' locations need. */
export interface YamlLayer {
  file: string;
  doc: Document;
  /** Line and column of a key path's key (or value) in the file, when it is there. */
  locate: Locate;
}

/** A YAML/JSON file parsed and checked as written (syntax, scalars); `raw` its plain value. */
export async function readYaml(path: string): Promise<{ layer: YamlLayer; raw: unknown }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    asUserError(err, path);
  }
  return parseYaml(text, path);
}

function parseYaml(text: string, path: string): { layer: YamlLayer; raw: unknown } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  const [syntax] = doc.errors;
  if (syntax) throw new UserError(`not valid YAML/JSON: ${syntax.message.split('\n')[0]}`, path);
  const locate = yamlLocator(doc, lines);
  // before the schema: it sees values, not what was written
  const problem = scalarProblem(doc);
  if (problem) throw withLocation(new UserError(problem, path), path, doc, locate);
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // e.g. an alias expanding beyond yaml's alias count limit
    throw new UserError(`not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, path);
  }
  return { layer: { file: path, doc, locate }, raw };
}

/** A defaults file to read; one `namedBy` an option or variable must exist, the usual one may not. */
export interface DefaultsFile {
  path: string;
  namedBy?: string;
}

/** The manifest's top-level keys. */
const TOP_KEYS = new Set(Object.keys(manifestSchema.shape));

/** The defaults file this build reads, or undefined for none. */
export function defaultsPath(given: string | false | undefined, env: { readonly [name: string]: string | undefined } = process.env): DefaultsFile | undefined {
  if (given === false) return undefined;
  if (given !== undefined) return { path: resolve(given), namedBy: 'the defaults option' };
  const named = env.DUDKIT_DEFAULTS;
  // set but empty: no defaults (reproducible CI builds)
  if (named !== undefined) return named === '' ? undefined : { path: resolve(named), namedBy: 'DUDKIT_DEFAULTS' };
  // the XDG base directory spec ignores a relative XDG_CONFIG_HOME
  const config = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return { path: join(config, 'dudkit', 'defaults.yaml') };
}

/** What the defaults file gives, checked for keys a defaults file may hold, relative paths made absolute. */
export async function readDefaults(found: DefaultsFile): Promise<{ layer: YamlLayer; values: Record<string, unknown> } | undefined> {
  let text: string;
  try {
    text = await readFile(found.path, 'utf8');
  } catch (err) {
    // the usual place holds no file (or no folder): no defaults
    if (!found.namedBy && isFsError(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    if (found.namedBy && isFsError(err) && err.code === 'ENOENT') {
      throw new UserError(`no such file or directory (named by ${found.namedBy}): correct the path, or set DUDKIT_DEFAULTS= (empty) or --no-defaults for no defaults`, found.path);
    }
    asUserError(err, found.path);
  }
  const { layer, raw } = parseYaml(text, found.path);
  // an empty file gives nothing
  if (raw === null || raw === undefined) return { layer, values: {} };
  if (!isPlainObject(raw)) throw new UserError(`a defaults file is a mapping of manifest keys (${DEFAULT_KEYS.join(', ')}), got ${Array.isArray(raw) ? 'a list' : 'a scalar'}`, found.path);
  for (const key of Object.keys(raw)) {
    if (DEFAULT_KEYS.includes(key)) continue;
    const at = locationText(layer.locate([key]));
    if (TOP_KEYS.has(key)) throw new UserError(`\`${key}\` cannot be a default${at}: it belongs to each driver's manifest; a defaults file holds only ${DEFAULT_KEYS.join(', ')}`, found.path);
    const guess = closest(key, DEFAULT_KEYS);
    throw new UserError(`unknown key \`${key}\`${guess ? `: did you mean \`${guess}\`?` : ''}${at} (a defaults file holds only ${DEFAULT_KEYS.join(', ')})`, found.path);
  }
  return { layer, values: absolutePaths(raw, [], dirname(found.path)) as Record<string, unknown> };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `value` (at key path `at`) with its relative file paths resolved against `dir`. */
function absolutePaths(value: unknown, at: Key[], dir: string): unknown {
  if (typeof value === 'string') return value !== '' && PATH_KEY.test(keyPath(at)) ? resolve(dir, value) : value;
  if (Array.isArray(value)) return value.map((v, i) => absolutePaths(v, [...at, i], dir));
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, absolutePaths(v, [...at, k], dir)]));
  return value;
}

/** `signing.key`, `sources[0].ko[1]` → its parts; undefined when it is not such a path. */
export function keyParts(text: string): Key[] | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$/.test(text)) return undefined;
  return [...text.matchAll(/([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g)].map((m) => (m[1] !== undefined ? m[1] : Number(m[2])));
}

const MAX_INDEX = 9999;

export interface Override {
  /** As written before `=`: how errors name it (`--set signing.key`). */
  key: string;
  path: Key[];
  value: unknown;
}

/**
 * One `--set KEY=VALUE`: KEY a dotted key path with `[N]` list indexes, VALUE read as a YAML
 * scalar (`3` a number, `"3"` a string, `true` a boolean), checked as the manifest's scalars are.
 */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  const key = eq === -1 ? text : text.slice(0, eq);
  const where = `--set ${key}`;
  if (eq === -1) throw new UserError(`give KEY=VALUE, e.g. --set vendor=acme`, where);
  const path = keyParts(key);
  if (!path) throw new UserError(`not a key path: give names joined with dots and [N] list indexes, e.g. signing.key or sources[0].kernel`, where);
  // before the placeholder below is made: an index is bounded by the list it lands in (applyOverride), and no list is this long
  if (path.some((k) => typeof k === 'number' && k > MAX_INDEX)) throw new UserError(`list indexes go up to ${MAX_INDEX}`, where);
  const top = path[0] as string;
  if (NOT_SETTABLE.has(top)) throw new UserError(`targets cannot be set from the command line: edit the manifest, or choose targets with --only`, where);
  if (!TOP_KEYS.has(top)) {
    const guess = closest(top, [...TOP_KEYS].filter((k) => !NOT_SETTABLE.has(k)));
    throw new UserError(`unknown key \`${top}\`${guess ? `: did you mean \`${guess}\`?` : ''}`, where);
  }
  const source = text.slice(eq + 1);
  const doc = parseDocument(source, { prettyErrors: true });
  if (doc.errors.length > 0 || (doc.contents !== null && !isScalar(doc.contents))) {
    throw new UserError(`the value must be one YAML scalar (a string, number or boolean; quote it to keep it as text, e.g. --set '${key}="${source.replace(/'/g, '')}"')`, where);
  }
  // the scalar checked where it lands, so a number written as 2.40 or a control character is refused as in a manifest
  const placed = new Document(placeholder(path));
  placed.setIn(path, doc.contents);
  const problem = scalarProblem(placed);
  if (problem) throw new UserError(problem, where);
  const raw = doc.toJS() as unknown;
  // a path from the command line is relative to where the command runs
  return { key, path, value: absolutePaths(raw, path, process.cwd()) };
}

/** Mappings and lists holding a null at `path`, so a scalar put there has key nodes above it. */
function placeholder(path: Key[]): unknown {
  return path.reduceRight<unknown>((inner, k) => (typeof k === 'number' ? [...Array<null>(k).fill(null), inner] : { [k]: inner }), null);
}

/** Put `value` at `path` inside `root` (a mapping), making the mappings and lists on the way. */
export function applyOverride(root: Record<string, unknown>, o: Override): void {
  let at: unknown = root;
  for (let i = 0; i < o.path.length; i++) {
    const k = o.path[i]!;
    const last = i === o.path.length - 1;
    const here = keyPath(o.path.slice(0, i));
    if (typeof k === 'number') {
      if (!Array.isArray(at)) throw new UserError(`\`${here}\` is not a list here, so [${k}] names nothing: give the key path of a list item`, `--set ${o.key}`);
      // an index one past the end adds an item
      if (k > at.length) throw new UserError(`\`${here}\` has ${at.length} item(s): use an index up to ${at.length} (${at.length} adds one)`, `--set ${o.key}`);
    } else if (!isPlainObject(at)) {
      throw new UserError(`\`${here}\` is not a mapping here, so .${k} names nothing: set \`${here}\` itself, or give it as a mapping in the manifest`, `--set ${o.key}`);
    }
    const container = at as Record<Key, unknown>;
    if (last) container[k] = o.value;
    else {
      if (container[k] === undefined || container[k] === null) container[k] = typeof o.path[i + 1] === 'number' ? [] : {};
      at = container[k];
    }
  }
}
