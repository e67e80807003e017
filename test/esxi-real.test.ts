// dudkit inspect/verify of the 12 real ESXi files in ../shared/fixtures-real/esxi/ (VMware-signed
// Flings, VMware's community drivers, v-front and VIB Author builds), compared with what GNU ar,
// xmllint, sha256sum/sha1sum, gzip, bsdtar, unzip and openssl cms read from the same files. The
// files are reference data outside the project: without the folder these tests are skipped.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dudkit, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const REAL = resolve(ROOT, '../shared/fixtures-real/esxi');
const present = existsSync(REAL);
if (!present) console.warn(`esxi-real.test: ${REAL} is absent; the real-file comparisons are skipped`);
const files = present ? readdirSync(REAL).filter((f) => f.endsWith('.vib') || f.endsWith('.zip')).sort() : [];
const dir = present ? tempDir() : '';

const sh = (script: string, ...args: string[]) => run('sh', ['-c', script, 'sh', ...args]);
const xpath = (file: string, expr: string) => sh('xmllint --xpath "$2" "$1"', file, expr).stdout.replace(/\n$/, '');

interface Checksum { type: string; verifyProcess?: string; recorded: string; actual?: string; ok: boolean }
interface VibJson {
  id: string;
  members: { name: string; size: number }[];
  descriptor: { name: string; version: string; vendor: string; acceptance: string; files: string[]; payloads: { name: string; type: string }[] };
  payloads: { name: string; type: string; checksums: Checksum[]; entries: { name: string; type: string }[] }[];
  signature: { size: number; cms?: { ok: boolean; signer?: { subject: string } } };
}

/** What the real tools read from one VIB, compared with dudkit's facts. */
function compareVib(vib: string, facts: VibJson, work: string): void {
  mkdirSync(work, { recursive: true });
  const names = run('ar', ['t', vib]).stdout.trim().split('\n');
  expect(facts.members.map((m) => m.name), 'ar t').toEqual(names);
  const descriptor = join(work, 'descriptor.xml');
  expect(sh('ar p "$1" descriptor.xml > "$2"', vib, descriptor).status).toBe(0);
  expect(run('xmllint', ['--noout', descriptor]).status).toBe(0);
  for (const field of ['name', 'version', 'vendor'] as const) expect(facts.descriptor[field], field).toBe(xpath(descriptor, `string(/vib/${field})`));
  expect(facts.descriptor.acceptance).toBe(xpath(descriptor, 'string(/vib/acceptance-level)'));
  expect(facts.id).toBe(`${xpath(descriptor, 'string(/vib/vendor)')}_${xpath(descriptor, 'string(/vib/type)')}_${facts.descriptor.name}_${facts.descriptor.version}`);
  const fileList = xpath(descriptor, "//file-list/file/text()").split('\n').filter(Boolean);
  expect(facts.descriptor.files).toEqual(fileList);
  for (const p of facts.payloads) {
    const stored = sh('ar p "$1" "$2" | sha256sum', vib, p.name).stdout.split(' ')[0];
    const plain256 = sh('ar p "$1" "$2" | gzip -dc | sha256sum', vib, p.name).stdout.split(' ')[0];
    const plain1 = sh('ar p "$1" "$2" | gzip -dc | sha1sum', vib, p.name).stdout.split(' ')[0];
    for (const c of p.checksums) {
      const tool = c.verifyProcess === 'gunzip' ? (c.type === 'sha-1' ? plain1 : plain256) : c.type === 'sha-256' ? stored : undefined;
      expect(c.actual, `${p.name} ${c.type} ${c.verifyProcess ?? ''}`).toBe(tool);
      expect(c.ok).toBe(true);
      expect(c.recorded).toBe(tool);
    }
    if (p.type === 'tgz') {
      const listed = sh('ar p "$1" "$2" | bsdtar -tf -', vib, p.name).stdout.trim().split('\n');
      expect(p.entries.map((e) => e.name), `${p.name}: bsdtar -tf`).toEqual(listed);
    } else {
      // vmtar: no Debian tool reads it; the file list is the descriptor's account of it
      expect(p.entries.filter((e) => e.type !== 'dir').map((e) => e.name.replace(/^\.?\//, '')).sort()).toEqual([...fileList].sort());
    }
  }
  const sig = join(work, 'sig.pkcs7');
  sh('ar p "$1" sig.pkcs7 > "$2"', vib, sig);
  const sigSize = Number(sh('wc -c < "$1"', sig).stdout.trim());
  expect(facts.signature.size).toBe(sigSize);
  if (sigSize > 0) {
    const signer = join(work, 'signer.pem');
    const v = sh('openssl cms -verify -binary -noverify -inform PEM -in "$1" -content "$2" -signer "$3" -out /dev/null', sig, descriptor, signer);
    expect(facts.signature.cms?.ok, 'openssl cms -verify').toBe(v.status === 0);
    const cn = sh('openssl x509 -in "$1" -noout -subject -nameopt sep_comma_plus_space', signer).stdout;
    expect(cn).toContain(facts.signature.cms!.signer!.subject.split('CN=')[1]!);
  }
}

describe.skipIf(!present)('dudkit inspect of the real ESXi files gives what ar, xmllint, sha256sum, bsdtar, unzip and openssl read', () => {
  it.each(files)('%s', (file) => {
    const path = join(REAL, file);
    const r = dudkit(['inspect', '--json', path]);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { kind: string; findings: { severity: string }[] } & Record<string, unknown>;
    expect(json.findings.filter((f) => f.severity !== 'info'), 'findings').toEqual([]);
    const work = join(dir, file);
    if (file.endsWith('.vib')) {
      expect(json.kind).toBe('esxi-vib');
      compareVib(path, json as unknown as VibJson, work);
    } else {
      expect(json.kind).toBe('esxi-bundle');
      const b = json as unknown as { members: { name: string }[]; metadataZip: string; metadataMembers: string[]; records: { relativePath: string; sha256: string; packedSize: number }[]; vibs: { path: string; sha256: string; vib: VibJson }[] };
      expect(b.members.map((m) => m.name), 'unzip -Z1').toEqual(run('unzip', ['-Z1', path]).stdout.trim().split('\n'));
      expect(run('unzip', ['-tq', path]).status).toBe(0);
      mkdirSync(work, { recursive: true });
      expect(run('unzip', ['-q', path, '-d', join(work, 'x')]).status).toBe(0);
      expect(b.metadataMembers, 'unzip -Z1 of the metadata zip').toEqual(run('unzip', ['-Z1', join(work, 'x', b.metadataZip)]).stdout.trim().split('\n'));
      for (const rec of b.records) {
        const sha = run('sha256sum', [join(work, 'x', rec.relativePath)]).stdout.split(' ')[0];
        expect(rec.sha256, rec.relativePath).toBe(sha);
      }
      for (const [i, v] of b.vibs.entries()) {
        expect(v.sha256).toBe(run('sha256sum', [join(work, 'x', v.path)]).stdout.split(' ')[0]);
        compareVib(join(work, 'x', v.path), v.vib, join(work, `vib${i}`));
      }
    }
  });

  it.each(files)('dudkit verify %s exits 0', (file) => {
    const r = dudkit(['verify', join(REAL, file)]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^OK: 0 errors/m);
  });

  it('verify --ca with the signer certificate openssl extracts: the Fling chains to it; a foreign certificate does not', () => {
    const zip = join(REAL, 'ESXi80U3-VMKUSB-NIC-FLING-75399077-component-24052746.zip');
    const work = join(dir, 'ca');
    mkdirSync(work, { recursive: true });
    expect(run('unzip', ['-q', zip, '-d', work]).status).toBe(0);
    const vib = join(work, run('unzip', ['-Z1', zip]).stdout.split('\n').find((n) => n.endsWith('.vib'))!);
    sh('ar p "$1" sig.pkcs7 > "$2/sig.pkcs7"; ar p "$1" descriptor.xml > "$2/d.xml"', vib, work);
    expect(sh('openssl cms -verify -binary -noverify -inform PEM -in "$1/sig.pkcs7" -content "$1/d.xml" -signer "$1/signer.pem" -out /dev/null', work).status).toBe(0);
    const ok = dudkit(['verify', '--json', '--ca', join(work, 'signer.pem'), vib]);
    expect(ok.status, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).details.signature.cms.trusted).toBe(true);
    sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1/k.pem" -out "$1/other.pem" -subj "/CN=other" -days 1 2>/dev/null', work);
    const bad = dudkit(['verify', '--ca', join(work, 'other.pem'), vib]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/error: sig\.pkcs7: signed by .*VMware Certified VIB Signing, which does not chain to the given certificate/);
    writeFileSync(join(work, 'done'), '');
  });
});
