import { isPair, isScalar, isSeq, visit, type Document, type Node } from 'yaml';
import { keyPath } from './keypath.js';

/** Keys whose text may span lines (TAB and LF allowed); every other string is one line. */
const MULTI_LINE = new Set(['description']);

// C0 and C1 controls and DEL: no RPM header, XML document or file name takes them as given
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const CONTROL_BUT_TAB_LF = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const CONTROL_BUT_TAB = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
/** One-line keys whose text may hold TABs: a SUSE update's UpdateName fields are TAB-separated (suse-dud.md §4). */
const TAB_ALLOWED = /^targets\[\d+\]\.suse\.name(\[\d+\])?$/;

const NAMES: Record<number, string> = { 0: 'NUL', 9: 'TAB', 10: 'line feed', 13: 'carriage return', 27: 'ESC', 127: 'DEL' };

/**
 * The first problem with a scalar as written, checked on the parsed document before the schema
 * sees values: a number YAML would read as something else than its text (`2.40` is 2.4, `1e3`
 * is 1000, `010` is 10), or a control character in a string. Returns `key: problem` or undefined.
 */
export function scalarProblem(doc: Document): string | undefined {
  let problem: string | undefined;
  visit(doc, {
    Scalar(_key, node, ancestors) {
      const at = keyPath(pathOf(ancestors, node));
      if (typeof node.value === 'number' && node.source !== undefined && String(node.value) !== node.source) {
        problem = `${at}: YAML reads ${node.source} as the number ${String(node.value)}; quote it ("${node.source}") to keep it as written`;
      } else if (typeof node.value === 'string') {
        const multiLine = MULTI_LINE.has(at);
        const bad = (multiLine ? CONTROL_BUT_TAB_LF : TAB_ALLOWED.test(at) ? CONTROL_BUT_TAB : CONTROL).exec(node.value);
        if (bad) {
          const code = bad[0].charCodeAt(0);
          const name = `U+${code.toString(16).toUpperCase().padStart(4, '0')}${NAMES[code] ? ` (${NAMES[code]})` : ''}`;
          problem = code === 9 || code === 10
            ? `${at}: contains ${name}; only ${[...MULTI_LINE].join(', ')} may hold tabs and line breaks: make it one line`
            : `${at}: contains the control character ${name}; remove it`;
        }
      }
      return problem === undefined ? undefined : visit.BREAK;
    },
  });
  return problem;
}

/** Key path of a node from its ancestors: map keys by name, sequence items by index. */
function pathOf(ancestors: readonly unknown[], node: Node): PropertyKey[] {
  const chain = [...ancestors, node];
  const parts: PropertyKey[] = [];
  for (let i = 0; i + 1 < chain.length; i++) {
    const parent = chain[i];
    if (isSeq(parent)) parts.push(parent.items.indexOf(chain[i + 1] as Node));
    else if (isPair(parent)) parts.push(isScalar(parent.key) ? String(parent.key.value) : '?');
  }
  return parts;
}
