import { describe, expect, it } from 'vitest';
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
    expect(p.problems).toEqual(['line 5: description of m is not in double quotes (ignored)']);
    expect(parseModinfo('Version 1\n').problems).toEqual(['does not start with "Version 0\\n": the loader rejects it']);
  });

  it('modules.dep: only modules with dependencies, single spaces, final newline; continuations joined on reading', () => {
    expect(modulesDepText([{ module: 'a', depends: [] }])).toBe('');
    expect(modulesDepText([{ module: 'b', depends: ['x', 'y'] }])).toBe('b: x y\n');
    expect(parseModulesDep('b: x \\\ny\n').deps.get('b')).toEqual(['x', 'y']);
    expect(parseModulesDep('b: x').problems).toEqual(['does not end with a newline: the loader crashes on its last line']);
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
});
