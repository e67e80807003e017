/**
 * Where a key path is in the manifest's text: the line and column the YAML parser recorded, so
 * every manifest mistake names them beside its key path (issue 19). JSON manifests are YAML too.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';
import { UserError } from '../errors.js';

export type KeyParts = readonly (string | number)[];
export interface Location {
  /** 1-based, as editors count. */
  line: number;
  column: number;
}
/** The location of a key path's key (or of its value, for a list item), when the text has it. */
export type Locate = (path: KeyParts) => Location | undefined;

interface Ranged {
  range?: readonly [number, number, number] | null;
}

export function yamlLocator(doc: Document, lines: LineCounter): Locate {
  return (path) => {
    const offset = offsetOf(doc, path);
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
}

/** The key's own offset in its mapping (what a typo points at), else the node's. */
function offsetOf(doc: Document, path: KeyParts): number | undefined {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  const last = path[path.length - 1];
  if (isMap(parent)) {
    const key = parent.items.find((p) => isScalar(p.key) && p.key.value === last)?.key;
    if (isScalar(key) && key.range) return key.range[0];
  }
  return (doc.getIn(path, true) as Ranged | undefined)?.range?.[0] ?? undefined;
}

/** ` (line 3, column 5)`, or nothing when unknown. */
export function locationText(loc: Location | undefined): string {
  return loc ? ` (line ${loc.line}, column ${loc.column})` : '';
}

/**
 * The key path a message starts with (`targets[0].rhdd3.out: …`) as parts, matched against the
 * document itself: a key holding dots (a kernel release under `serve:`) is one part.
 */
export function leadingKeyPath(doc: Document, message: string): KeyParts | undefined {
  const head = /^[^\s:]+(?=: )/.exec(message)?.[0];
  if (head === undefined) return undefined;
  const walk = (node: unknown, rest: string, parts: (string | number)[]): KeyParts | undefined => {
    if (rest === '') return parts;
    if (isSeq(node)) {
      const m = /^\[(\d+)\]/.exec(rest);
      return m && Number(m[1]) < node.items.length ? walk(node.items[Number(m[1])], rest.slice(m[0].length), [...parts, Number(m[1])]) : undefined;
    }
    if (!isMap(node)) return undefined;
    const text = parts.length === 0 ? rest : rest.startsWith('.') ? rest.slice(1) : undefined;
    if (text === undefined) return undefined;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined || !text.startsWith(key) || !/^($|[.[])/.test(text.slice(key.length))) continue;
      const found = walk(pair.value, text.slice(key.length), [...parts, key]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(doc.contents, head, []);
}

/**
 * A UserError about the manifest whose message starts with a key path, with that key's line and
 * column added (once: messages that name lines already pass as they are). Anything else unchanged.
 */
export function withLocation(err: unknown, manifest: string, doc: Document, locate: Locate): unknown {
  if (!(err instanceof UserError) || err.file !== manifest) return err;
  const message = err.message.slice(`${manifest}: `.length);
  if (/\(line \d+/.test(message)) return err;
  const path = leadingKeyPath(doc, message);
  const where = path ? locationText(locate(path)) : '';
  return where ? new UserError(`${message}${where}`, manifest, { cause: err.cause }) : err;
}
