/**
 * The ESXi XML documents (descriptor, bulletin, vmware.xml, index files) read as element trees
 * that keep document order, which the checks compare with VMware's.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FormatError } from '../../errors.js';

export interface XmlElement {
  tag: string;
  attrs: Record<string, string>;
  /** Attribute names in document order. */
  attrOrder: string[];
  children: XmlElement[];
  /** The concatenated text directly inside the element. */
  text: string;
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, parseTagValue: false, trimValues: false, processEntities: true, commentPropName: '#comment' });

type Raw = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElement(raw: Raw): XmlElement | undefined {
  const tag = Object.keys(raw).find((k) => k !== ':@');
  if (tag === undefined || tag === '#text' || tag === '#comment' || tag.startsWith('?')) return undefined;
  const kids = (raw[tag] as Raw[]) ?? [];
  const attrs = raw[':@'] ?? {};
  return {
    tag,
    attrs,
    attrOrder: Object.keys(attrs),
    children: kids.map(toElement).filter((e): e is XmlElement => e !== undefined),
    text: kids.map((k) => (typeof k['#text'] === 'string' || typeof k['#text'] === 'number' ? String(k['#text']) : '')).join(''),
  };
}

/** The root element of an XML document; not well-formed XML is a FormatError naming `what`. */
export function parseXml(text: string, what: string): XmlElement {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new FormatError(`${what} is not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  const roots = (parser.parse(text) as Raw[]).map(toElement).filter((e): e is XmlElement => e !== undefined);
  if (roots.length !== 1) throw new FormatError(`${what}: ${roots.length} root elements`);
  return roots[0]!;
}

export const child = (e: XmlElement | undefined, tag: string): XmlElement | undefined => e?.children.find((c) => c.tag === tag);
export const children = (e: XmlElement | undefined, tag: string): XmlElement[] => e?.children.filter((c) => c.tag === tag) ?? [];
export const textOf = (e: XmlElement | undefined, tag: string): string | undefined => child(e, tag)?.text;
