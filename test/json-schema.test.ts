// One --json vocabulary (issue 19 item 3): every document the example build's commands print is
// valid against schema/dudkit-output.schema.json, checked by Ajv (a JSON Schema 2020-12 validator).
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { dudkit, FIXTURES, ROOT } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const schema = JSON.parse(readFileSync(join(ROOT, 'schema/dudkit-output.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true }).compile(schema);
const tmp = tempDir();
const out = join(tmp, 'out');
const env = { SOURCE_DATE_EPOCH: '1700000000' };

interface Medium {
  target: string;
  path: string;
  kind: string;
  size?: number;
  checksums: { md5?: string; sha256?: string };
  sidecars: string[];
}

/** Run a command with --json and return its document, after checking it against the schema. */
function document(args: string[]): Record<string, unknown> {
  const r = dudkit([...args, '--json'], { env });
  expect([args.join(' '), r.stderr]).toEqual([args.join(' '), '']);
  const doc = JSON.parse(r.stdout) as Record<string, unknown>;
  validate(doc);
  expect([args.join(' '), validate.errors ?? []]).toEqual([args.join(' '), []]);
  return doc;
}

let build: Record<string, unknown>;
beforeAll(() => {
  build = document(['build', join(ROOT, 'examples/acmenet/dudkit.yaml'), '-o', out]);
});

describe('dudkit --json documents (Ajv against the packaged JSON Schema)', () => {
  it('build: schemaVersion 1, path = the manifest, one medium entry per target with kind, size and checksums', () => {
    expect(build).toMatchObject({ schemaVersion: 1, path: join(ROOT, 'examples/acmenet/dudkit.yaml'), kind: 'manifest' });
    const iso = (build.targets as Medium[]).find((t) => t.target === 'rhdd3' && t.kind === 'iso')!;
    expect(iso.checksums.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('inspect and verify of every medium built: path = that medium', () => {
    for (const t of build.targets as Medium[]) {
      if (t.target === 'release-zip') continue; // a zip of the pack and sources, no medium a reader claims
      expect(document(['inspect', t.path]).path).toBe(t.path);
      if (t.target !== 'xenserver-update') expect(document(['verify', t.path])).toMatchObject({ path: t.path, ok: true });
    }
    expect(document(['verify', join(out, 'acmenet-2.4.1.iso'), '--key', join(out, 'RPM-GPG-KEY-acme')])).toMatchObject({ ok: true });
  });

  it("iso --json is build's per-medium entry: path, kind, size, checksums, sidecars", () => {
    const image = join(tmp, 'dd.iso');
    const doc = document(['iso', join(out, 'dd-acmenet'), '-o', image, '--md5', '--sha256', '--joliet-long']);
    expect(doc).toMatchObject({ schemaVersion: 1, path: image, kind: 'iso', sidecars: [`${image}.md5`, `${image}.sha256`] });
    expect(Object.keys(doc.checksums as object)).toEqual(['md5', 'sha256']);
    const built = (build.targets as Medium[]).find((t) => t.target === 'rhdd3' && t.kind === 'iso')!;
    expect(Object.keys(doc).filter((k) => k in built).sort()).toEqual(['checksums', 'kind', 'path', 'sidecars', 'size']);
  });

  it('inspect of the inputs, rom check (Debian ipxe-qemu ROM) and keygen say the same', () => {
    document(['inspect', join(FIXTURES, 'ko/5.14.0-427.13.1.el9_4.x86_64/acmenet.ko')]);
    document(['inspect', join(FIXTURES, 'dkms/acmenet')]);
    expect(document(['rom', 'check', '/usr/lib/ipxe/qemu/efi-e1000.rom'])).toMatchObject({ path: '/usr/lib/ipxe/qemu/efi-e1000.rom', kind: 'option-rom' });
    expect(document(['keygen', join(tmp, 'k'), '--bits', '2048'])).toMatchObject({ path: join(tmp, 'k.asc'), kind: 'openpgp-key' });
  });

  it('init: path = the manifest written, found = each module, RPM and dkms tree read, with its kind and whether a source names it', () => {
    const work = join(tmp, 'init');
    cpSync(join(FIXTURES, 'ko/5.14.0-427.13.1.el9_4.x86_64'), join(work, 'ko'), { recursive: true });
    cpSync(join(FIXTURES, 'dkms/acmenet'), join(work, 'dkms/acmenet'), { recursive: true, verbatimSymlinks: true });
    const doc = document(['init', work]);
    expect(doc).toMatchObject({ schemaVersion: 1, path: join(work, 'dudkit.yaml'), kind: 'manifest', scanned: work, name: 'acmenet', vendor: 'acme' });
    const found = doc.found as { path: string; kind: string; used: boolean; kernels: string[] }[];
    expect(found.filter((f) => f.kind === 'kernel-module').map((f) => f.path)).toContain(join(work, 'ko/acmenet.ko'));
    const tree = found.find((f) => f.kind === 'dkms-tree')!;
    expect(tree).toMatchObject({ path: join(work, 'dkms'), name: 'acmenet', used: true });
    // its Debian kernel build is written commented out: no RPM version-release
    expect(tree.kernels).toContain('6.1.0-56-amd64');
    expect(doc.skipped).toContainEqual(expect.stringContaining('6.1.0-56-amd64'));
    expect(readFileSync(join(work, 'dudkit.yaml'), 'utf8')).toContain('  - ko: ko/*.ko\n');
  });
});
