/**
 * XML text escaping, with the exact rules libxml2's serializer applies when a node is dumped
 * without an output encoding (what createrepo_c does), so generated metadata matches the bytes
 * of the reference tools:
 * - text: `&` `<` `>` and CR become references; everything else, non-ASCII included, stays as is;
 * - attributes: additionally `"`, LF, CR and TAB, and every non-ASCII character becomes a
 *   hexadecimal character reference (`&#xF6;`).
 */

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const ATTR_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\n': '&#10;', '\t': '&#9;' };

export function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!);
}

export function escapeAttr(s: string): string {
  return s.replace(/[&<>"\r\n\t]|[^\x00-\x7f]/gu, (c) => ATTR_ESCAPES[c] ?? `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`);
}

/**
 * The first character XML 1.0 does not allow (C0 controls other than TAB, LF, CR; lone
 * surrogates; U+FFFE/U+FFFF), or undefined when the text is clean.
 */
export function forbiddenXmlChar(s: string): { index: number; code: number } | undefined {
  const m = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(s);
  return m ? { index: m.index, code: m[0].charCodeAt(0) } : undefined;
}

/** ` name="value"` for each defined attribute, in the given order. */
export function attrs(list: readonly (readonly [string, string | number | undefined])[]): string {
  let out = '';
  for (const [k, v] of list) if (v !== undefined) out += ` ${k}="${escapeAttr(String(v))}"`;
  return out;
}
