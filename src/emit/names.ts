import type { Medium } from './plan.js';
import { UserError } from '../errors.js';
import { jolietIdentifiers, NameTooLong } from '../formats/iso9660/names.js';
import { jolietPolicy } from '../formats/iso9660/plan.js';
import type { Tree } from '../tree/tree.js';

/**
 * Names the medium would refuse, found from the plan's tree before anything is written (the
 * ISO emitter meets them only while writing, after earlier targets are on disk). The contents
 * of generated folders are named when built and checked by the emitter then.
 */
export function checkNames(tree: Tree, medium: Medium): void {
  if (medium.kind !== 'iso') return;
  const joliet = jolietPolicy(medium.joliet === true ? {} : medium.joliet);
  if (!joliet || joliet.overflow !== 'refuse') return;
  const folders = new Map<string, { name: string; isDir: boolean }[]>();
  for (const e of tree.entries()) {
    const slash = e.path.lastIndexOf('/');
    const folder = e.path.slice(0, Math.max(slash, 0));
    let children = folders.get(folder);
    if (!children) folders.set(folder, (children = []));
    children.push({ name: e.path.slice(slash + 1), isDir: e.type === 'dir' || e.type === 'generated-dir' });
  }
  for (const [folder, children] of folders) {
    try {
      jolietIdentifiers(children, joliet);
    } catch (err) {
      if (err instanceof NameTooLong) throw new UserError(`${err.message} (in /${folder}): shorten the values that name it`);
      throw err;
    }
  }
}
