import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { compareUtf8 } from '../formats/utf8.js';

/**
 * Expand a path pattern: `*`, `?` and `[…]` within one path segment, `**` for any depth.
 * A pattern without wildcards is returned as given (existence is checked by the reader, which
 * names the file). Results are sorted by path bytes so builds are deterministic.
 */
export async function expandGlob(pattern: string, baseDir: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  if (!/[*?[]/.test(pattern)) return [abs];
  const parts = abs.split('/').filter((p, i) => p !== '' || i === 0);
  const out = new Set<string>();
  await walk(parts[0] === '' ? '/' : parts[0]!, parts.slice(1), out);
  return [...out].sort(compareUtf8);
}

async function walk(dir: string, rest: string[], out: Set<string>): Promise<void> {
  if (rest.length === 0) {
    out.add(dir);
    return;
  }
  const [seg, ...tail] = rest as [string, ...string[]];
  if (seg === '**') {
    await walk(dir, tail, out);
    for (const name of await children(dir, true)) await walk(join(dir, name), rest, out);
    return;
  }
  if (!/[*?[]/.test(seg)) {
    const next = join(dir, seg);
    if (tail.length === 0) {
      if (await stat(next).catch(() => undefined)) out.add(next);
    } else await walk(next, tail, out);
    return;
  }
  const re = segmentRegExp(seg);
  for (const name of await children(dir, tail.length > 0)) {
    if (re.test(name)) await walk(join(dir, name), tail, out);
  }
}

async function children(dir: string, dirsOnly: boolean): Promise<string[]> {
  const list = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return list.filter((d) => !d.name.startsWith('.') && (!dirsOnly || d.isDirectory())).map((d) => d.name);
}

function segmentRegExp(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${seg.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
