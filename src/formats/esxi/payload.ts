/**
 * The order of a `tgz` payload's entries (`esxi.md` §4.2, §8.2): depth first, each folder's
 * children sorted bytewise, an entry for every folder before what lies beneath it. The
 * descriptor's `<file-list>` is the files in the same order.
 */
import { compareUtf8 } from '../utf8.js';

export type PayloadItem<T> = { type: 'dir'; path: string } | { type: 'file'; path: string; file: T };

interface Folder<T> {
  dirs: Map<string, Folder<T>>;
  files: Map<string, T>;
}

/** Every folder and file of `files` (relative paths, unique), in payload order. */
export function payloadOrder<T>(files: readonly { path: string; file: T }[]): PayloadItem<T>[] {
  const root: Folder<T> = { dirs: new Map(), files: new Map() };
  for (const f of files) {
    const parts = f.path.split('/');
    let at = root;
    for (const p of parts.slice(0, -1)) {
      let next = at.dirs.get(p);
      if (!next) at.dirs.set(p, (next = { dirs: new Map(), files: new Map() }));
      at = next;
    }
    at.files.set(parts[parts.length - 1]!, f.file);
  }
  const out: PayloadItem<T>[] = [];
  const walk = (folder: Folder<T>, prefix: string) => {
    const names = [...new Set([...folder.dirs.keys(), ...folder.files.keys()])].sort(compareUtf8);
    for (const name of names) {
      const path = prefix + name;
      const dir = folder.dirs.get(name);
      if (dir) {
        out.push({ type: 'dir', path });
        walk(dir, `${path}/`);
      }
      const file = folder.files.get(name);
      if (file !== undefined) out.push({ type: 'file', path, file });
    }
  };
  walk(root, '');
  return out;
}

/** Payload (ar member) names: ≤ 8 characters of `[a-z0-9_-]` (§4.1). */
export const PAYLOAD_NAME = /^[a-z0-9_-]{1,8}$/;

/** The default payload name: the VIB name lower-cased, other characters dropped, first 8. */
export function defaultPayloadName(vibName: string): string {
  return vibName.toLowerCase().replace(/[^a-z0-9_-]/g, '').slice(0, 8);
}
