/**
 * zod's issues in words for people: "`release` must be a number or string, got a list",
 * "unknown key `sumary`: did you mean `summary`?", each with its key path and, where the YAML
 * parser knows it, the line.
 */
import type { z } from 'zod';
import { keyPath } from './keypath.js';
import { locationText, type Locate } from './locate.js';

type Issue = z.core.$ZodIssue;
type Key = string | number;

/** Every object key the schema knows, anywhere in it (the vocabulary a typo is measured against). */
export function schemaKeys(schema: z.ZodType): Set<string> {
  const keys = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (s: unknown): void => {
    if (!s || typeof s !== 'object' || seen.has(s)) return;
    seen.add(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    const shape = def.shape as Record<string, unknown> | undefined;
    if (shape) for (const [k, v] of Object.entries(shape)) keys.add(k), walk(v);
    for (const field of ['element', 'innerType', 'in', 'out', 'valueType', 'left', 'right']) walk(def[field]);
    for (const o of (def.options as unknown[] | undefined) ?? []) walk(o);
  };
  walk(schema);
  return keys;
}

/** Levenshtein distance, small strings only. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

export function closest(word: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** What a YAML/JSON value is, in the manifest's words. */
function what(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'nothing (null)';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'number' ? 'the number' : typeof value === 'boolean' ? 'the boolean' : ''} ${String(value)}`.trim();
}

const TYPE_WORDS: Record<string, string> = { string: 'a string', number: 'a number', boolean: 'true or false', array: 'a list', object: 'a mapping', int: 'a whole number' };

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/**
 * One issue as a sentence, prefixed with its key path. `input` is the parsed manifest, `known` the
 * schema's keys, `locate` the YAML line and column of a key path when known.
 */
export function issueText(issue: Issue, prefix: Key[], input: unknown, known: Set<string>, locate?: Locate): string {
  const path = [...prefix, ...(issue.path as Key[])];
  // the line goes last, so the message still starts with its key path
  const lineOf = (p: Key[]) => locationText(locate?.(p));
  const name = (p: Key[]) => (p.length ? keyPath(p) : 'the manifest');
  const value = at(input, issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((k) => {
        const guess = closest(k, known);
        return `unknown key \`${keyPath([...path, k])}\`${guess ? `: did you mean \`${guess}\`?` : ''}${lineOf([...path, k])}`;
      })
      .join('; ');
  }
  // a schema's own words (a layout's hint) win over the generic rewrite of zod's "Invalid input…"
  const custom = !issue.message.startsWith('Invalid input');
  const expected = custom
    ? undefined
    : issue.code === 'invalid_type'
      ? TYPE_WORDS[issue.expected] ?? issue.expected
      : issue.code === 'invalid_union' && issue.errors.every((e) => e.length === 1 && e[0]!.code === 'invalid_type' && e[0]!.path.length === 0)
        ? issue.errors.map((e) => TYPE_WORDS[(e[0] as { expected: string }).expected] ?? (e[0] as { expected: string }).expected).join(' or ')
        : undefined;
  if (expected !== undefined && value === undefined) return `${name(path)}: missing: give ${expected}${lineOf(path.slice(0, -1))}`;
  if (expected !== undefined) return `\`${name(path)}\` must be ${expected}, got ${what(value)}${lineOf(path)}`;
  return `${name(path)}: ${issue.message}${lineOf(path)}`;
}
