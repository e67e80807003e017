import { Document, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { Key, Origin } from './layers.js';
import { has, type LoadedManifest } from './load.js';

/** A trailing comment naming where a value came from. */
function originText(o: Origin | undefined): string {
  if (!o) return " dudkit's default";
  if (o.layer === 'set') return ` --set ${o.key}`;
  return ` ${o.layer}: ${o.file}${o.line !== undefined ? `:${o.line}` : ''}`;
}

/**
 * The merged manifest as YAML, each value followed by a comment naming its layer (`# defaults:
 * FILE:LINE`, `# manifest: FILE:LINE`, `# --set KEY`, `# dudkit's default`). Paths from the
 * defaults file and `--set` are shown absolute, so the text, saved beside the manifest, builds the same.
 */
export function printManifest(loaded: LoadedManifest): string {
  const doc = new Document(loaded.manifest);
  // a value no layer gave is the schema's default
  const comment = (path: Key[]) => originText(has(loaded.raw, path) ? loaded.origin(path) : undefined);
  const walk = (node: Node | null | undefined, path: Key[]): void => {
    if (isMap(node) || isSeq(node)) {
      // an empty list or mapping is shown inline, so its comment stays on its line
      if (node.items.length === 0) (node.flow = true), (node.comment = comment(path));
      if (isMap(node)) for (const p of node.items) walk(p.value as Node, [...path, String((p.key as { value: unknown }).value)]);
      else node.items.forEach((item, i) => walk(item as Node, [...path, i]));
    } else if (isScalar(node)) node.comment = comment(path);
  };
  walk(doc.contents as Node, []);
  const layers = [loaded.defaults ? `defaults ${loaded.defaults}` : 'no defaults file', `manifest ${loaded.path}`];
  doc.commentBefore = ` the manifest as dudkit builds it; later layers win: ${layers.join(', ')}, --set\n relative paths resolve against ${loaded.baseDir}`;
  return doc.toString({ lineWidth: 0 });
}
