import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';
import {
  legacyKernel, modinfoText, modulesAliasText, modulesDepText, parseModinfo, parseModulesDep, pcitableRow, PCITABLE_LINE, typeFromAliases, variantOf,
} from '../src/rules/rhel5.js';

describe('RHEL 4/5 loader rules (rhel5-dud.md)', () => {
  it("modinfo: the spec's example block, byte for byte, and the loader's reading of it", () => {
    const text = modinfoText([{ module: 'foofc', type: 'scsi', description: 'Acme FooFC 8Gb Fibre Channel HBA', params: [{ name: 'qdepth', help: 'Maximum queue depth' }] }]);
    expect(text).toBe('Version 0\nfoofc\n\tscsi\n\t"Acme FooFC 8Gb Fibre Channel HBA"\n\tqdepth "Maximum queue depth"\n');
    expect(parseModinfo(text)).toEqual({ blocks: [{ module: 'foofc', type: 'scsi', typeClass: 'SCSI/storage', description: 'Acme FooFC 8Gb Fibre Channel HBA', params: ['qdepth'] }], problems: [] });
  });

  it('modinfo: quotes and newlines in descriptions cannot break the quoted line; only the last word of the type line counts', () => {
    const text = modinfoText([{ module: 'm', type: 'eth', description: 'say "hi"\nsecond line', params: [] }]);
    expect(text).toBe(`Version 0\nm\n\teth\n\t"say 'hi'"\n`);
    const p = parseModinfo('Version 0\n# comment\nm\n   network eth  \n\tunquoted\n');
    expect(p.blocks[0]).toMatchObject({ module: 'm', type: 'eth', typeClass: 'network (ethernet)' });
    // a structured verdict, not words to match: a skipped line is a warning, a rejected file an error
    expect(p.problems).toEqual([{ code: 'RHEL5_MODINFO', severity: 'warning', message: 'line 5: description of m is not in double quotes (ignored)' }]);
    expect(parseModinfo('Version 1\n').problems).toEqual([{ code: 'RHEL5_MODINFO_REJECTED', severity: 'error', message: 'does not start with "Version 0\\n": the loader rejects it' }]);
    expect(parseModinfo('Version 0\nm\n\teth').problems).toContainEqual(expect.objectContaining({ code: 'RHEL5_MODINFO_CRASH', severity: 'error' }));
  });

  it('modules.dep: only modules with dependencies, single spaces, final newline; continuations joined on reading', () => {
    expect(modulesDepText([{ module: 'a', depends: [] }])).toBe('');
    expect(modulesDepText([{ module: 'b', depends: ['x', 'y'] }])).toBe('b: x y\n');
    expect(parseModulesDep('b: x \\\ny\n').deps.get('b')).toEqual(['x', 'y']);
    expect(parseModulesDep('b: x').problems).toEqual([{ code: 'RHEL5_MODULES_DEP_CRASH', severity: 'error', message: 'does not end with a newline: the loader crashes on its last line' }]);
  });

  it('modules.alias and pcitable rows from PCI aliases', () => {
    expect(modulesAliasText([{ alias: 'pci:v00008086d000010D3sv*sd*bc*sc*i*', module: 'foo' }])).toBe('alias pci:v00008086d000010D3sv*sd*bc*sc*i* foo\n');
    expect(pcitableRow('pci:v00008086d000010D3sv*sd*bc*sc*i*', 'foo', 'Foo NIC')).toEqual({ row: '0x8086\t0x10d3\t"foo"\t"Foo NIC"' });
    expect(pcitableRow('pci:v00008086d000010D3sv00001028sd000001F0bc*sc*i*', 'foo', 'Foo NIC')).toEqual({ row: '0x8086\t0x10d3\t0x1028\t0x01f0\t"foo"\t"Foo NIC"' });
    expect(pcitableRow('pci:v00008086d*sv*sd*bc02sc00i*', 'foo', '')).toEqual({ problem: 'alias pci:v00008086d*sv*sd*bc02sc00i* matches any device, which pcitable cannot express' });
    expect(pcitableRow('usb:v1234p5678d*', 'foo', '')).toBeUndefined();
    for (const a of ['pci:v00008086d000010D3sv*sd*bc*sc*i*', 'pci:v00008086d000010D3sv00001028sd000001F0bc*sc*i*']) {
      const r = pcitableRow(a, 'foo', 'Foo NIC');
      expect(r && 'row' in r && PCITABLE_LINE.test(r.row)).toBe(true);
    }
    expect(typeFromAliases(['pci:v*d*sv*sd*bc01sc08i02'])).toBe('scsi');
    expect(typeFromAliases(['pci:v00001234d00005678sv*sd*bc*sc*i*'])).toBe('other');
  });

  it('kernel releases: RHEL 5 and RHEL 4 variants', () => {
    expect(legacyKernel('2.6.18-398.el5PAE')).toEqual({ base: '2.6.18-398.el5', variant: 'PAE', rhel: 5 });
    expect(legacyKernel('2.6.18-398.el5')).toEqual({ base: '2.6.18-398.el5', variant: '', rhel: 5 });
    expect(legacyKernel('2.6.9-89.ELlargesmp')).toEqual({ base: '2.6.9-89.EL', variant: 'largesmp', rhel: 4 });
    expect(legacyKernel('5.14.0-362.8.1.el9_3.x86_64')).toBeUndefined();
    expect(variantOf('2.6.18-398.el5xen', '2.6.18-398.el5')).toBe('xen');
    expect(variantOf('2.6.18-398.el5debug2', '2.6.18-398.el5')).toBeUndefined();
    expect(variantOf('2.6.18-400.el5', '2.6.18-398.el5')).toBeUndefined();
  });

  it("kmod as outside reader: depmod's modules.alias equals ours for the same .ko files, its modules.dep reads back as ours", () => {
    // depmod + modprobe read the aliases and dependencies out of the real fixture modules
    const base = tempDir('dudkit-rhel5-kmod-');
    const kdir = join(base, 'lib/modules/9.9');
    mkdirSync(join(kdir, 'extra'), { recursive: true });
    const kos = ['acmenet', 'acmestor'].map((m) => join(FIXTURES, 'ko/5.14.0-362.8.1.el9_3.x86_64', `${m}.ko`));
    for (const ko of kos) copyFileSync(ko, join(kdir, 'extra', basename(ko)));
    expect(run('depmod', ['-b', base, '9.9']).status).toBe(0);

    const facts = kos.map((ko) => ({
      module: basename(ko, '.ko'),
      aliases: run('modinfo', ['-F', 'alias', ko]).stdout.split('\n').filter(Boolean),
      depends: run('modinfo', ['-F', 'depends', ko]).stdout.trim().split(',').filter(Boolean),
    }));
    const ours = modulesAliasText(facts.flatMap((f) => f.aliases.map((alias) => ({ alias, module: f.module })))).split('\n').filter(Boolean);
    const depmods = readFileSync(join(kdir, 'modules.alias'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ours.length).toBe(4);
    expect([...ours].sort()).toEqual([...depmods].sort());

    const ourDep = modulesDepText(facts);
    expect(ourDep).toBe('acmestor: acmenet\n');
    // depmod writes paths and lists modules without dependencies; the RHEL 5 loader wants neither
    const depmodAsRhel5 = readFileSync(join(kdir, 'modules.dep'), 'utf8').split('\n').filter((l) => /: ./.test(l)).map((l) => l.replace(/extra\/|\.ko/g, '') + '\n').join('');
    expect(depmodAsRhel5).toBe(ourDep);
    expect(parseModulesDep(depmodAsRhel5)).toEqual({ deps: new Map([['acmestor', ['acmenet']]]), problems: [] });
    const byName = (p: string) => basename(p, '.ko');
    // modprobe resolves the same load order and maps a device to the module our pcitable row names
    const order = run('modprobe', ['-d', base, '-S', '9.9', '--show-depends', 'acmestor']).stdout.split('\n').filter(Boolean).map((l) => byName(l.split(' ')[1] ?? ''));
    expect(order).toEqual(['acmenet', 'acmestor']);
    const row = pcitableRow('pci:v0000AC3Ed00001001sv*sd*bc*sc*i*', 'acmenet', 'AcmeNet');
    expect(row).toEqual({ row: '0xac3e\t0x1001\t"acmenet"\t"AcmeNet"' });
    expect(run('modprobe', ['-d', base, '-S', '9.9', '-R', 'pci:v0000AC3Ed00001001sv00001028sd000001F0bc02sc00i00']).stdout.trim().split('\n')).toContain('acmenet');
  });
});
