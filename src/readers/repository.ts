/**
 * `dudkit inspect DIR` for a yum/dnf repository folder (one holding `repodata/repomd.xml`), or
 * `dudkit inspect repomd.xml`: its metadata files and packages, checked as dnf would check them.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { checkRepository } from '../formats/repodata/check.js';
import { walkFolder } from '../tree/folder.js';
import { fileSource } from '../tree/source.js';
import type { Reader } from './types.js';

async function exists(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

async function rpmsUnder(root: string): Promise<string[]> {
  return (await walkFolder(root)).map((e) => e.rel).filter((n) => n.endsWith('.rpm')).sort();
}

export type RepositoryFacts = Awaited<ReturnType<typeof inspectRepository>>;

export async function inspectRepository(root: string) {
  const check = await checkRepository(async (path) => {
    const full = join(root, path);
    return (await exists(full)) ? fileSource(full) : undefined;
  }, await rpmsUnder(root));
  return {
    revision: check.repomd?.revision ?? null,
    metadata: (check.repomd?.data ?? []).map((d) => ({ type: d.type, href: d.href, checksum: `${d.checksum.type}:${d.checksum.value}`, size: d.size ?? null })),
    packages: check.packages.map((p) => ({
      nevra: `${p.name}-${p.epoch !== '0' ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch}`,
      href: p.href,
      checksum: `${p.checksum.type}:${p.checksum.value}`,
      size: p.size.package,
      kernelModules: p.deps.provides.filter((d) => d.name === 'kernel-modules' && d.flags).map((d) => `${d.flags} ${d.epoch !== '0' ? `${d.epoch}:` : ''}${d.ver}${d.rel !== undefined ? `-${d.rel}` : ''}`),
    })),
    problems: check.problems,
  };
}

export const repositoryReader: Reader<RepositoryFacts> = {
  kind: 'repository',
  bid({ path, bytes, isDirectory }, opened) {
    if (isDirectory) return opened?.kind === 'directory' && opened.get('repodata/repomd.xml')?.type === 'file' ? 60 : 0;
    return basename(dirname(path)) === 'repodata' && /<repomd[\s>]/.test(new TextDecoder().decode(bytes.subarray(0, 4096))) ? 100 : 0;
  },
  async inspect(path, opened) {
    const root = opened?.kind === 'directory' ? path : dirname(dirname(path));
    return { kind: 'repository', path: root, facts: await inspectRepository(root), findings: [] };
  },
  render: {
    inspect: ({ path: root, facts }) =>
      [
        `repository ${relative(process.cwd(), root) || '.'}  revision ${facts.revision ?? '?'}`,
        ...facts.metadata.map((m) => `  ${m.type.padEnd(10)} ${m.href} (${m.size ?? '?'} bytes)`),
        `${facts.packages.length} package(s):`,
        ...facts.packages.map((p) => `  ${p.nevra}  ${p.href}${p.kernelModules.length ? `  kernel-modules ${p.kernelModules.join(', ')}` : ''}`),
        facts.problems.length ? `problems:\n${facts.problems.map((p) => `  - ${p}`).join('\n')}` : 'no problems found',
      ].join('\n'),
  },
};
