/**
 * The read registry's bidding: on every kind of specimen (the example's build output, fixtures,
 * and media made by the real tools: xorriso, mkfs.fat + mcopy, GNU cpio, createrepo_c) exactly
 * one reader bids highest, and it is the expected one.
 */
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { FINDING_CODES } from '../src/findings.js';
import { builtinReaders, inspect, verify } from '../src/readers/index.js';
import { bidOn } from '../src/readers/registry.js';
import { ACME } from './helpers/manifest.js';
import { dudkit, FIXTURES, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('dudkit-readers-');
const out = join(dir, 'out');
const K93 = '5.14.0-362.8.1.el9_3.x86_64';

function ok(cmd: string, args: string[], cwd = dir): void {
  const r = run(cmd, args, { cwd });
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
}

beforeAll(async () => {
  const ctx = () => createContext({ epoch: 1700000000, onWarn: () => {} });
  await build(join(ROOT, 'examples/acmenet/dudkit.yaml'), { outDir: out, ctx: ctx() });
  writeFileSync(join(dir, 'el5.yaml'), `${ACME}sources:\n  - ko: ${FIXTURES}/elf/modlike-i686.ko\ntargets:\n  - rhel5: { out: el5.iso }\n  - rhel5: { out: el5, format: directory }\n`);
  await build(join(dir, 'el5.yaml'), { outDir: out, ctx: ctx() });
  // media made by the real tools, holding nothing a more specific reader claims
  mkdirSync(join(dir, 'plain'));
  writeFileSync(join(dir, 'plain/readme.txt'), 'hello\n');
  ok('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'PLAIN', '-o', 'plain.iso', 'plain']);
  ok('mkfs.fat', ['-C', '-n', 'PLAIN', 'plain.img', '4096']);
  ok('mcopy', ['-i', 'plain.img', 'plain/readme.txt', '::readme.txt']);
  ok('sh', ['-c', 'echo readme.txt | cpio -o --quiet -H newc > ../initrd.cpio', ''], join(dir, 'plain'));
  cpSync(join(FIXTURES, 'rpms'), join(dir, 'repo'), { recursive: true, filter: (p) => !p.includes('signing') });
  ok('createrepo_c', ['-q', join(dir, 'repo')]);
  // ESXi: dudkit's VIB and bundle; GNU ar archives as the shell VIB builders make them, and one that is no VIB
  writeFileSync(join(dir, 'esxi.yaml'), `${ACME}targets:\n  - esxi-vib: { esx: ["8.0.0"], files: [{ file: ${FIXTURES}/elf/modlike-i686.ko, dest: usr/lib/vmware/vmkmod/acmenet }] }\n  - esxi-bundle: { out: esxi-bundle.zip }\n  - esxi-vib: { out: esxi.vib, esx: ["8.0.0"], files: [{ file: ${FIXTURES}/elf/modlike-i686.ko, dest: usr/lib/vmware/vmkmod/acmenet }] }\n`);
  await build(join(dir, 'esxi.yaml'), { outDir: out, ctx: ctx() });
  writeFileSync(join(dir, 'plain/descriptor.xml'), '<vib version="5.0"/>');
  writeFileSync(join(dir, 'plain/sig.pkcs7'), '');
  ok('ar', ['rc', '../gnu.vib', 'descriptor.xml', 'sig.pkcs7', 'readme.txt'], join(dir, 'plain'));
  ok('ar', ['rc', '../plain.a', 'readme.txt'], join(dir, 'plain'));
});

/** Specimen → the reader kind that must win it (undefined: no reader bids). */
const specimens: [string, () => string, string | undefined][] = [
  ['a plain .ko', () => join(FIXTURES, 'ko', K93, 'acmenet.ko'), 'kernel-module'],
  ['an xz .ko', () => join(FIXTURES, 'ko', K93, 'acmenet.ko.xz'), 'kernel-module'],
  ['a gzip .ko', () => join(FIXTURES, 'ko', K93, 'acmenet.ko.gz'), 'kernel-module'],
  ['a zstd .ko', () => join(FIXTURES, 'ko', K93, 'acmestor.ko.zst'), 'kernel-module'],
  ['a kmod RPM', () => join(FIXTURES, 'rpms', `kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm`), 'rpm'],
  ['a source RPM', () => join(FIXTURES, 'rpms', 'acme-acmenet-firmware-2.4.1-1.src.rpm'), 'rpm'],
  ['a dkms tree', () => join(FIXTURES, 'dkms', 'acmenet'), 'dkms-tree'],
  ['a dkms version folder', () => join(FIXTURES, 'dkms', 'acmenet', '2.4.1'), 'dkms-tree'],
  ['a createrepo_c repository', () => join(dir, 'repo'), 'repository'],
  ['its repomd.xml', () => join(dir, 'repo', 'repodata', 'repomd.xml'), 'repository'],
  ['an rhdd3 ISO', () => join(out, 'dd-acmenet.iso'), 'rhdd3'],
  ['an rhdd3 folder', () => join(out, 'dd-acmenet'), 'rhdd3'],
  ['an rhdd3 arch folder (a repository)', () => join(out, 'dd-acmenet', 'rpms', 'x86_64'), 'repository'],
  ['a PXE overlay (cpio.gz)', () => join(out, 'dd-acmenet.cpio.gz'), 'initrd'],
  ['a GNU cpio newc archive', () => join(dir, 'initrd.cpio'), 'initrd'],
  ['a USB image', () => join(out, 'dd-acmenet-usb.img'), 'rhdd3'],
  ['an attached installer ISO', () => join(out, 'test-9.4-dd.iso'), 'installer-iso'],
  ['an installer ISO', () => join(FIXTURES, 'installer', 'test-9.4-boot.iso'), 'installer-iso'],
  ['a XenServer update pack', () => join(out, 'acmenet-2.4.1.iso'), 'xenserver-update'],
  ['a XenServer legacy pack', () => join(out, 'acmenet.iso'), 'xenserver-legacy'],
  ['a SUSE driver update (cpio.gz)', () => join(out, 'acmenet.dud'), 'suse'],
  ['a RHEL 5 disk ISO', () => join(out, 'el5.iso'), 'rhel5'],
  ['a RHEL 5 disk folder', () => join(out, 'el5'), 'rhel5'],
  ['an xorriso ISO of a plain folder', () => join(dir, 'plain.iso'), 'iso9660'],
  ['an mkfs.fat image', () => join(dir, 'plain.img'), 'fat'],
  ['an iPXE option ROM (Debian ipxe-qemu)', () => '/usr/lib/ipxe/qemu/efi-e1000.rom', 'option-rom'],
  ['a SeaBIOS VGA BIOS', () => '/usr/share/seabios/vgabios-stdvga.bin', 'option-rom'],
  ['a release zip', () => join(out, 'acmenet-2.4.1.zip'), undefined],
  ['an ESXi VIB', () => join(out, 'esxi.vib'), 'esxi-vib'],
  ['an ESXi offline bundle', () => join(out, 'esxi-bundle.zip'), 'esxi-bundle'],
  ['a VIB made by GNU ar (descriptor.xml/ names)', () => join(dir, 'gnu.vib'), 'esxi-vib'],
  ['a GNU ar archive of other files', () => join(dir, 'plain.a'), undefined],
  ['a folder of modules', () => join(FIXTURES, 'ko', K93), undefined],
];

describe('the read registry', () => {
  it.each(specimens)('%s: exactly one reader bids highest, the expected one', async (_what, path, want) => {
    const chosen = await bidOn(builtinReaders, path());
    await chosen.close();
    const [first, second] = chosen.bids;
    expect(first?.reader.kind).toBe(want);
    if (first && second) expect(first.bid, `${first.reader.kind} and ${second.reader.kind}`).toBeGreaterThan(second.bid);
  });

  it('every reader wins some specimen', () => {
    const winners = new Set(specimens.map(([, , want]) => want));
    expect(builtinReaders.map((r) => r.kind).filter((k) => !winners.has(k))).toEqual([]);
  });

  it('inspect of a module returns its facts, vermagic among them, as modinfo shows them', async () => {
    const path = join(FIXTURES, 'ko', K93, 'acmenet.ko');
    const r = await inspect(path);
    const vermagic = run('modinfo', ['-F', 'vermagic', path]).stdout.trim();
    expect(r.kind).toBe('kernel-module');
    expect((r.facts as { vermagic: string }).vermagic.trim()).toBe(vermagic);
  });

  it('initrd members show setuid/setgid/sticky bits and device nodes as cpio -tv does (GNU cpio archive)', async () => {
    const tree = join(dir, 'special');
    mkdirSync(join(tree, 'tmp'), { recursive: true });
    mkdirSync(join(tree, 'shared'));
    writeFileSync(join(tree, 'su'), '#!/bin/sh\n');
    writeFileSync(join(tree, 'nox'), '');
    chmodSync(join(tree, 'su'), 0o4755);
    chmodSync(join(tree, 'nox'), 0o6644);
    chmodSync(join(tree, 'tmp'), 0o1777);
    chmodSync(join(tree, 'shared'), 0o2775);
    const names = ['su', 'nox', 'tmp', 'shared'];
    if (process.getuid?.() === 0) {
      ok('mknod', [join(tree, 'console'), 'c', '5', '1']);
      chmodSync(join(tree, 'console'), 0o600);
      names.push('console');
    }
    const archive = join(dir, 'special.cpio');
    ok('sh', ['-c', `printf '%s\\n' ${names.join(' ')} | cpio -o --quiet -H newc > ${archive}`], tree);
    const listed = run('cpio', ['-tv', '--quiet', '-F', archive]).stdout.trim().split('\n');
    const want = new Map(listed.map((l) => [l.split(/\s+/).pop()!, l.split(' ')[0]!]));
    const r = await inspect(archive);
    const members = (r.facts as { segments: { members: { name: string; mode: string }[] }[] }).segments.flatMap((g) => g.members);
    expect(new Map(members.map((m) => [m.name, m.mode]))).toEqual(want);
    expect(want.get('su')).toBe('-rwsr-xr-x');
    expect(want.get('tmp')).toBe('drwxrwxrwt');
  });

  it('verify --json gives every finding a code from the catalogue; nested findings keep theirs', () => {
    const other = '5.14.0-570.12.1.el9_6.x86_64';
    const codes = new Set<string>();
    for (const m of ['dd-acmenet.iso', 'dd-acmenet.cpio.gz', 'dd-acmenet-usb.img', 'test-9.4-dd.iso', 'acmenet.iso', 'el5.iso']) {
      const r = dudkit(['verify', join(out, m), '--kernel', other, '--json']);
      const doc = JSON.parse(r.stdout) as { findings: { code: string; severity: string; subject: string }[] };
      for (const f of doc.findings) {
        expect(Object.keys(FINDING_CODES), `${m}: ${JSON.stringify(f)}`).toContain(f.code);
        codes.add(f.code);
      }
    }
    expect(codes.size).toBeGreaterThan(2);
    const pxe = JSON.parse(dudkit(['verify', join(out, 'dd-acmenet.cpio.gz'), '--kernel', other, '--json']).stdout) as { ok: boolean; findings: { code: string; severity: string; subject: string }[] };
    expect(pxe.ok).toBe(false);
    expect(pxe.findings).toContainEqual(expect.objectContaining({ code: 'RHDD3_NO_MATCH', severity: 'error', subject: `dd.iso: ${other}` }));
  });

  it('the library verify returns the verdict, the coded findings and the text rendered from them', async () => {
    const r = await verify(join(out, 'dd-acmenet.iso'), { kernels: [K93] });
    expect(r).toMatchObject({ kind: 'rhdd3', ok: true });
    expect(r.findings.map((f) => f.code)).toContain('LABEL_OEMDRV');
    expect(r.text).toMatch(/OK: 0 errors, \d+ warnings?$/);
  });
});
