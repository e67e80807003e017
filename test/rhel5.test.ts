import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build, createContext } from '../src/api.js';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';

const dir = tempDir();
const EPOCH = 1700000000;
const K93 = '5.14.0-362.8.1.el9_3.x86_64';
const EL5 = '2.6.18-398.el5';
const MODLIKE = join(FIXTURES, 'elf/modlike-i686.ko');

function manifest(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `${ACME}${body}`);
  return p;
}

/** The warning for a module's `firmware=` file that nothing on the disk ships (the modlike fixtures name acme/modlike.bin). */
const noFirmware = (module: string, file: string) => expect.stringMatching(new RegExp(`: module ${module} names firmware ${file.replace(/[./]/g, '\\$&')}, which no source or firmware: entry ships`));

async function buildQuiet(path: string, out: string) {
  const warnings: string[] = [];
  await build(path, { outDir: out, ctx: createContext({ epoch: EPOCH, onWarn: (m) => warnings.push(m) }) });
  return warnings;
}

/**
 * The i686 module-like fixture (vermagic `2.6.18-398.el5 SMP mod_unload `) and two variants of it:
 * ` SMP` becomes `PAE ` / `xen `, the same length, so the ELF stays valid and vermagic names
 * `2.6.18-398.el5PAE` / `…xen` (what modules built for those kernels carry).
 */
function variants(): Record<string, string> {
  const src = readFileSync(MODLIKE);
  const old = Buffer.from(`vermagic=${EL5} SMP mod_unload `);
  const out: Record<string, string> = { '': MODLIKE };
  for (const v of ['PAE', 'xen']) {
    const at = src.indexOf(old);
    const copy = Buffer.from(src);
    Buffer.from(`vermagic=${EL5}${v}  mod_unload `).copy(copy, at);
    mkdirSync(join(dir, v), { recursive: true });
    writeFileSync((out[v] = join(dir, v, 'modlike32.ko')), copy);
  }
  return out;
}

const zcatCpio = (cgz: string, args: string[], cwd?: string) => run('sh', ['-c', `zcat "$0" | cpio ${args.join(' ')}`, cgz], cwd ? { cwd } : {});

describe('rhel5: an i686 disk with base, PAE and xen builds', () => {
  const out = join(dir, 'el5');
  let warnings: string[] = [];
  beforeAll(async () => {
    const v = variants();
    const m = manifest(
      'el5.yaml',
      `sources:
  - ko: ${v['']}
  - ko: ${v.PAE}
  - ko: ${v.xen}
targets:
  - rhel5: { out: dd.img, kernels: [${EL5}], rpms: true }
  - rhel5: { out: dd, format: directory, kernels: [${EL5}], rpms: true }
  - pxe: { out: dd.cpio.gz, of: rhel5 }
`,
    );
    warnings = await buildQuiet(m, out);
  });

  it('build -v names the folder of each variant and the Requires of each package; rpm -qp reads the same (issue 19 conv item 2)', () => {
    const v = dudkit(['build', '-v', join(dir, 'el5.yaml'), '-o', join(dir, 'el5-v'), '--only', 'rhel5:dd']);
    expect(v.status, v.stderr).toBe(0);
    for (const variant of ['', 'PAE', 'xen']) {
      expect(v.stderr).toContain(`dudkit: rhel5: modules.cgz ${EL5}${variant}/i686/: modlike32 for the ${variant || 'base'} kernel of ${EL5} (kernels:)`);
      const rpm = `kmod-acme-acmenet${variant ? `-${variant}` : ''}-2.4.1-3.398.el5${variant}.i686.rpm`;
      const requires = run('rpm', ['-qp', '--nosignature', '--requires', join(dir, 'el5-v/dd/rpms', rpm)]).stdout;
      const kernel = `${variant ? `kernel-${variant}` : 'kernel'} >= ${EL5}`;
      expect(requires).toContain(kernel);
      expect(v.stderr).toContain(`dudkit: rhel5: ${rpm}: rpms: true; Requires ${kernel} and Provides dud-<module>${variant ? `-${variant}` : ''}`);
    }
  });

  it('PXE of a RHEL 5 disk: GNU cpio lists exactly dd.img at the root, and verify follows it into the disk', () => {
    expect(zcatCpio(join(out, 'dd.cpio.gz'), ['-t', '--quiet']).stdout).toBe('dd.img\n');
    const v = dudkit(['verify', join(out, 'dd.cpio.gz'), '--kernel', EL5]);
    expect(v.status).toBe(0);
  });

  it('zcat modules.cgz | cpio -t lists exactly <uname -r>/<arch>/<module>.ko for every variant; gzip -t; newc', () => {
    const cgz = join(out, 'dd/modules.cgz');
    expect(run('gzip', ['-t', cgz]).status).toBe(0);
    expect(run('sh', ['-c', 'zcat "$0" | head -c 6', cgz]).stdout).toBe('070701');
    const t = zcatCpio(cgz, ['-t', '--quiet']);
    expect(t.status).toBe(0);
    expect(t.stdout).toBe(`${EL5}/i686/modlike32.ko\n${EL5}PAE/i686/modlike32.ko\n${EL5}xen/i686/modlike32.ko\n`);
    expect(zcatCpio(cgz, ['-tv', '--quiet']).stdout).toMatch(/^-rw-r--r-- +1 root +root /);
    expect(warnings).toEqual([noFirmware('modlike32', 'acme/modlike.bin')]);
  });

  it('cpio -i extracts byte-equal modules whose modinfo vermagic names the member folder; modinfo -F alias', () => {
    const x = join(dir, 'x');
    mkdirSync(x);
    expect(zcatCpio(join(out, 'dd/modules.cgz'), ['-idm', '--quiet'], x).status).toBe(0);
    const v = variants();
    for (const [variant, src] of Object.entries(v)) {
      const ko = join(x, `${EL5}${variant}/i686/modlike32.ko`);
      expect(readFileSync(ko).equals(readFileSync(src))).toBe(true);
      expect(run('modinfo', ['-F', 'vermagic', ko]).stdout.startsWith(`${EL5}${variant} `)).toBe(true);
    }
    const aliases = run('modinfo', ['-F', 'alias', join(x, `${EL5}/i686/modlike32.ko`)]).stdout.trim().split('\n');
    expect(readFileSync(join(out, 'dd/modules.alias'), 'utf8')).toBe(aliases.map((a) => `alias ${a} modlike32\n`).join(''));
  });

  it('rhdd, modinfo, modules.dep and pcitable bytes follow the loader rules', () => {
    expect(readFileSync(join(out, 'dd/rhdd'), 'utf8')).toBe('acmenet-2.4.1 driver disk\n');
    expect(readFileSync(join(out, 'dd/modinfo'), 'utf8')).toBe('Version 0\nmodlike32\n\tother\n\t"module-like object for i686"\n\tdebug "Debug level"\n');
    expect(readFileSync(join(out, 'dd/modules.dep'))).toHaveLength(0);
    expect(readFileSync(join(out, 'dd/pcitable'), 'utf8')).toBe('0xac3e\t0x3002\t"modlike32"\t"module-like object for i686"\n0xac3e\t0x3001\t"modlike32"\t"module-like object for i686"\n');
  });

  it('isoinfo sees an OEMDRV volume with Rock Ridge names; bsdtar extracts the directory target', () => {
    const img = join(out, 'dd.img');
    const d = run('isoinfo', ['-d', '-i', img]).stdout;
    expect(d).toMatch(/Volume id: OEMDRV/);
    expect(d).toMatch(/Rock Ridge signatures version 1 found/);
    const names = run('isoinfo', ['-R', '-f', '-i', img]).stdout.split('\n');
    for (const n of ['/rhdd', '/modinfo', '/modules.dep', '/modules.cgz', '/modules.alias', '/pcitable', '/rpms/repodata/repomd.xml']) expect(names).toContain(n);
    const t = join(dir, 'bsdtar');
    mkdirSync(t);
    expect(run('bsdtar', ['-xf', img, '-C', t]).status).toBe(0);
    expect(run('diff', ['-r', t, join(out, 'dd')]).status).toBe(0);
  });

  it('rpm -qp: one package per variant providing dud-<module>[-<variant>], gzip payload, MD5 file digests; sha1 repodata', () => {
    const repo = join(out, 'dd/rpms');
    const rpms = readdirSync(repo).filter((n) => n.endsWith('.rpm')).sort();
    expect(rpms).toEqual(['kmod-acme-acmenet-2.4.1-3.398.el5.i686.rpm', 'kmod-acme-acmenet-PAE-2.4.1-3.398.el5PAE.i686.rpm', 'kmod-acme-acmenet-xen-2.4.1-3.398.el5xen.i686.rpm']);
    const dud = rpms.map((f) => run('rpm', ['-qp', '--nosignature', '--provides', join(repo, f)]).stdout.split('\n').filter((l) => l.startsWith('dud-')).map((l) => l.split(' ')[0]));
    expect(dud).toEqual([['dud-modlike32'], ['dud-modlike32-PAE'], ['dud-modlike32-xen']]);
    for (const f of rpms) {
      expect(run('rpm', ['-qp', '--nosignature', '--qf', '%{PAYLOADCOMPRESSOR} %{FILEDIGESTALGO}\n', join(repo, f)]).stdout).toBe('gzip (none)\n');
      expect(run('rpm', ['-qp', '--nosignature', '--requires', join(repo, f)]).stdout).not.toMatch(/rpmlib\((FileDigests|PayloadIsXz)\)/);
      expect(run('rpm', ['-K', '--nosignature', join(repo, f)]).stdout).toMatch(/digests OK/);
    }
    const repomd = readFileSync(join(repo, 'repodata/repomd.xml'), 'utf8');
    expect(repomd).toMatch(/<checksum type="sha1">/);
    expect(repomd).not.toMatch(/sqlite/);
  });

  it('is deterministic: a second build is byte-identical', async () => {
    const again = join(dir, 'el5-again');
    await buildQuiet(join(dir, 'el5.yaml'), again);
    expect(run('cmp', [join(out, 'dd.img'), join(again, 'dd.img')]).status).toBe(0);
    expect(run('cmp', [join(out, 'dd/modules.cgz'), join(again, 'dd/modules.cgz')]).status).toBe(0);
  });

  it('dudkit verify accepts the ISO for every variant and fails a kernel it has no member for', () => {
    const ok = dudkit(['verify', join(out, 'dd.img'), '--kernel', `${EL5}PAE`, '--kernel', `${EL5}xen`]);
    expect(ok.stdout).toMatch(/RHEL 4\/5 driver disk "acmenet-2.4.1 driver disk" \(label OEMDRV, found automatically\), read by RHEL 5 and RHEL 4/);
    expect(ok.stdout).toContain(`kernel ${EL5}PAE: i686/modlike32`);
    expect(ok.stdout).toMatch(/OK: 0 errors/);
    expect(ok.status).toBe(0);
    const bad = dudkit(['verify', join(out, 'dd'), '--kernel', '2.6.18-400.el5', '--json']);
    expect(bad.status).toBe(1);
    const doc = JSON.parse(bad.stdout) as { kind: string; findings: { severity: string; message: string }[] };
    expect(doc.kind).toBe('rhel5');
    expect(doc.findings.some((f) => f.severity === 'error' && /no module for this kernel/.test(f.message))).toBe(true);
  });
});

describe('rhel5: a RHEL 4 disk (base and smp builds)', () => {
  it('cpio -t lists 2.6.9-89.EL and 2.6.9-89.ELsmp members; rpms: is refused as useless with a warning; verify passes', async () => {
    const src = readFileSync(MODLIKE);
    const old = Buffer.from(`vermagic=${EL5} SMP mod_unload `);
    const paths: string[] = [];
    for (const [name, magic] of [['el4', 'vermagic=2.6.9-89.EL SMP mod_unload    '], ['el4smp', 'vermagic=2.6.9-89.ELsmp SMP mod_unload ']] as const) {
      const copy = Buffer.from(src);
      Buffer.from(magic).copy(copy, src.indexOf(old));
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'modlike32.ko'), copy);
      paths.push(join(dir, name, 'modlike32.ko'));
    }
    const m = manifest('el4.yaml', `sources:\n  - ko: ${paths[0]}\n  - ko: ${paths[1]}\ntargets:\n  - rhel5: { out: el4.iso, rpms: true }\n`);
    const warnings = await buildQuiet(m, join(dir, 'el4-out'));
    expect(warnings).toEqual([noFirmware('modlike32', 'acme/modlike.bin'), 'rhel5: rpms: RHEL 4 ignores rpms/; only RHEL 5 installs from it']);
    const x = join(dir, 'el4-x');
    mkdirSync(x);
    expect(run('bsdtar', ['-xf', join(dir, 'el4-out/el4.iso'), '-C', x]).status).toBe(0);
    expect(zcatCpio(join(x, 'modules.cgz'), ['-t', '--quiet']).stdout).toBe('2.6.9-89.EL/i686/modlike32.ko\n2.6.9-89.ELsmp/i686/modlike32.ko\n');
    const r = dudkit(['verify', join(dir, 'el4-out/el4.iso'), '--kernel', '2.6.9-89.ELsmp']);
    expect(r.stdout).toContain('read by RHEL 5 and RHEL 4');
    expect(r.status).toBe(0);
  });
});

describe('rhel5: verify against disks made by other tools', () => {
  const out = join(dir, 'el5');

  it("the dkms reference producer's crc cgz (find . -type f | cpio -H crc -o | gzip -9) is read like ours", () => {
    const t = join(dir, 'crc');
    run('cp', ['-r', join(out, 'dd'), t]);
    const x = join(dir, 'crc-x');
    mkdirSync(x);
    expect(zcatCpio(join(t, 'modules.cgz'), ['-idm', '--quiet'], x).status).toBe(0);
    expect(run('sh', ['-c', `find . -type f | sort | cpio --quiet -H crc -o | gzip -9 > ${t}/modules.cgz`], { cwd: x }).status).toBe(0);
    expect(run('sh', ['-c', `zcat ${t}/modules.cgz | head -c 6`]).stdout).toBe('070702');
    const r = dudkit(['verify', t, '--json']);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as { details: { cpioFormat: string; members: { name: string }[] } };
    expect(doc.details.cpioFormat).toBe('crc');
    expect(doc.details.members.map((m) => m.name)).toEqual([`${EL5}/i686/modlike32.ko`, `${EL5}PAE/i686/modlike32.ko`, `${EL5}xen/i686/modlike32.ko`]);
  });

  it('rpms/ with a RHEL 6+ package (xz payload, SHA-256 file digests) fails, and so does its stale repodata', () => {
    const t = join(dir, 'rpm6');
    run('cp', ['-r', join(out, 'dd'), t]);
    run('cp', [join(FIXTURES, 'rpms/kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm'), join(t, 'rpms/kmod-acme-acmenet-2.4.1-3.398.el5.i686.rpm')]);
    expect(run('rpm', ['-qp', '--nosignature', '--qf', '%{PAYLOADCOMPRESSOR} %{FILEDIGESTALGO}', join(t, 'rpms/kmod-acme-acmenet-2.4.1-3.398.el5.i686.rpm')]).stdout).toBe('xz 8');
    const r = dudkit(['verify', t]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("error: rpms/kmod-acme-acmenet-2.4.1-3.398.el5.i686.rpm: payload compressed with xz: RHEL 5's rpm 4.4 reads only gzip");
    expect(r.stdout).toContain("error: rpms/kmod-acme-acmenet-2.4.1-3.398.el5.i686.rpm: file digests are sha256: RHEL 5's rpm 4.4 knows only MD5");
    expect(r.stdout).toContain("error: rpms/kmod-acme-acmenet-2.4.1-3.398.el5.i686.rpm: requires rpmlib(FileDigests): RHEL 5's rpm 4.4 cannot install it");
    expect(r.stdout).toMatch(/error: rpms: .*kmod-acme-acmenet-2\.4\.1-3\.398\.el5\.i686\.rpm.* \(yum fails on the target\)/);
  });

  it('an ISO made by genisoimage without -R (8.3 names) is rejected: no modules.alias', () => {
    const iso = join(dir, 'norr.iso');
    expect(run('genisoimage', ['-quiet', '-V', 'OEMDRV', '-o', iso, join(out, 'dd')]).status).toBe(0);
    expect(run('isoinfo', ['-f', '-i', iso]).stdout).toContain('/MODULES.ALI;1');
    const r = dudkit(['verify', iso]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/error: ISO without Rock Ridge: the loader sees 8\.3 names \(.*modules\.ali, .*\), so modules\.alias is missing and RHEL 5 rejects the disk/);
  });
});

describe('rhel5: table bytes from two x86_64 modules with dependencies and PCI aliases', () => {
  const out = join(dir, 'fmt');
  let warnings: string[] = [];
  beforeAll(async () => {
    const m = manifest(
      'fmt.yaml',
      `${ACME_FIRMWARE}sources:
  - ko: ${FIXTURES}/ko/${K93}/*.ko
targets:
  - rhel5: { out: dd, kernels: [${K93}], types: { acmestor: scsi } }
`,
    );
    warnings = await buildQuiet(m, out);
  });

  it('modinfo: Version 0, one block per module with type, quoted description and parameters', () => {
    expect(readFileSync(join(out, 'dd/modinfo'), 'utf8')).toBe(
      'Version 0\nacmenet\n\teth\n\t"ACME 25GbE network driver (test fixture)"\n\tlro "Enable large receive offload"\n\trx_ring "Receive ring entries (default 512)"\n' +
        'acmestor\n\tscsi\n\t"ACME NVMe-oF offload (test fixture)"\n',
    );
    expect(warnings).toEqual([`rhel5: kernels: ${K93} is not a RHEL 4/5 kernel release; only the RHEL 4/5 loader reads this disk format`]);
  });

  it('modules.dep from modinfo -F depends, ending with a newline; modules.alias from modinfo -F alias', () => {
    expect(readFileSync(join(out, 'dd/modules.dep'), 'utf8')).toBe(`acmestor: ${run('modinfo', ['-F', 'depends', join(FIXTURES, 'ko', K93, 'acmestor.ko')]).stdout.trim()}\n`);
    const alias = ['acmenet', 'acmestor'].flatMap((m) => run('modinfo', ['-F', 'alias', join(FIXTURES, 'ko', K93, `${m}.ko`)]).stdout.trim().split('\n').map((a) => `alias ${a} ${m}\n`));
    expect(readFileSync(join(out, 'dd/modules.alias'), 'utf8')).toBe(alias.join(''));
  });

  it('pcitable: 2- and 4-number rows; a vendor-wide class alias cannot be expressed and is left out', () => {
    const lines = readFileSync(join(out, 'dd/pcitable'), 'utf8').split('\n');
    expect(lines).toEqual([
      '0xac3e\t0x1002\t0xac3e\t0xa001\t"acmenet"\t"ACME 25GbE network driver (test fixture)"',
      '0xac3e\t0x1001\t"acmenet"\t"ACME 25GbE network driver (test fixture)"',
      '0xac3e\t0x2001\t"acmestor"\t"ACME NVMe-oF offload (test fixture)"',
      '',
    ]);
  });

  it('cpio -t: one member per module under the vermagic release', () => {
    expect(zcatCpio(join(out, 'dd/modules.cgz'), ['-t', '--quiet']).stdout).toBe(`${K93}/x86_64/acmenet.ko\n${K93}/x86_64/acmestor.ko\n`);
  });

  it('dudkit verify catches a modinfo without its last newline and a modules.dep line with two spaces', () => {
    const t = join(dir, 'fmt-bad');
    run('cp', ['-r', join(out, 'dd'), t]);
    writeFileSync(join(t, 'modinfo'), readFileSync(join(t, 'modinfo'), 'utf8').replace(/\n$/, ''));
    writeFileSync(join(t, 'modules.dep'), 'acmestor:  acmenet\n');
    const r = dudkit(['verify', t]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('error: modinfo: does not end with a newline: the loader crashes reading the last line');
    expect(r.stdout).toContain('warning: modules.dep: line "acmestor:  acmenet" is not "module: dep dep" with single spaces and bare names');
  });
});

describe('rhel5: refusals (exit 2, nothing written)', () => {
  function refuse(name: string, body: string, pattern: RegExp) {
    const m = manifest(`${name}.yaml`, body);
    const r = dudkit(['build', m, '-o', join(dir, name)]);
    expect(r.status).toBe(2);
    const errors = r.stderr.trim().split('\n').filter((l) => !l.startsWith('dudkit: warning: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(pattern);
    expect(existsSync(join(dir, name, 'dd.iso'))).toBe(false);
  }

  it('modules built for RHEL 9 kernels are not taken for 2.6.18-398.el5', () => {
    refuse('k', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhel5: { out: dd.iso, kernels: [${EL5}] }\n`, /kernels: 2\.6\.18-398\.el5: no module is built for it or one of its variants; modules are given for 5\.14\.0-362\.8\.1\.el9_3\.x86_64 \(x86_64\)/);
  });

  it('without kernels:, a set with no RHEL 4/5 build', () => {
    refuse('none', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\ntargets:\n  - rhel5: { out: dd.iso }\n`, /no module is built for a RHEL 4\/5 kernel/);
  });

  it('a kernel: override that files a module under a release its vermagic does not name', () => {
    refuse('override', `sources:\n  - ko: ${FIXTURES}/ko/${K93}/acmenet.ko\n    kernel: ${EL5}\ntargets:\n  - rhel5: { out: dd.iso }\n`, /acmenet\.ko: built for 5\.14\.0-362\.8\.1\.el9_3\.x86_64 \(vermagic\) but given as kernel 2\.6\.18-398\.el5/);
  });

  it('a type for a module that is not on the disk', () => {
    refuse('types', `sources:\n  - ko: ${MODLIKE}\ntargets:\n  - rhel5: { out: dd.iso, types: { acmenet: eth } }\n`, /types: acmenet is not a module on this disk/);
  });
});
