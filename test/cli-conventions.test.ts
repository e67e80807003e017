// The command-line conventions users bring from rpmbuild, xorriso and ddiskit (issue 19):
// -q/-v, one-line usage errors with the closest spelling, documented exit codes, plain progress lines in a log.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { firmwareNames } from '../src/rules/firmware.js';
import { tempDir } from './helpers/tmp.js';
import { ACME, ACME_FIRMWARE } from './helpers/manifest.js';

const tmp = tempDir();
const env = { SOURCE_DATE_EPOCH: '1700000000' };

describe('verbosity', () => {
  const manifest = join(tmp, 'dudkit.yaml');
  writeFileSync(manifest, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso }\n`);

  it('--quiet prints nothing on success, --verbose names each phase and each file written', () => {
    const q = dudkit(['build', '-q', manifest, '-o', join(tmp, 'q')], { env });
    expect([q.status, q.stdout, q.stderr]).toEqual([0, '', '']);
    expect(readdirSync(join(tmp, 'q')).length).toBeGreaterThan(0);

    const v = dudkit(['--verbose', 'build', manifest, '-o', join(tmp, 'v')], { env });
    expect(v.status).toBe(0);
    expect(v.stderr).toMatch(/^dudkit: rhdd3: preparing /m);
    expect(v.stderr).toMatch(/^dudkit: compressing the payload of kmod-.*\.rpm/m);
    for (const f of readdirSync(join(tmp, 'v'))) expect(v.stderr).toContain(`dudkit: wrote ${join(tmp, 'v', f)}\n`);
    expect(v.stdout).toMatch(/^rhdd3: /);
  });

  it('--verbose names, per package, the rule that decided it; rpm -qp reads the kernel-modules Provides it names (issue 19 conv item 2)', () => {
    const K94 = '5.14.0-427.13.1.el9_4.x86_64';
    const K93 = '5.14.0-362.8.1.el9_3.x86_64';
    const one = join(tmp, 'one.yaml');
    writeFileSync(one, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/${K94}/*.ko\ntargets:\n  - rhdd3: { out: dd, format: directory }\n`);
    const two = join(tmp, 'two.yaml');
    writeFileSync(two, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/${K94}/*.ko\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\n    kernel: ${K93}\ntargets:\n  - rhdd3: { out: dd, format: directory }\n`);
    const rules = { dec1: 'kernelModules: auto with one x86_64 build: >= also serves the later z-stream kernels', dec2: 'kernelModules: auto with 2 x86_64 builds: each exact' };
    for (const [m, out] of [[one, 'dec1'], [two, 'dec2']] as const) {
      const v = dudkit(['build', '-v', m, '-o', join(tmp, out)], { env });
      expect(v.status, v.stderr).toBe(0);
      const lines = v.stderr.split('\n').filter((l) => /^dudkit: rhdd3: \S+\.rpm: /.test(l));
      const rpms = (readdirSync(join(tmp, out), { recursive: true }) as string[]).filter((f) => f.endsWith('.rpm'));
      // one line per package written, naming it
      expect(lines.map((l) => l.split(': ')[2]).sort()).toEqual(rpms.map((f) => f.split('/').pop()).sort());
      for (const f of rpms.filter((r) => r.includes('kmod-'))) {
        const line = lines.find((l) => l.includes(f.split('/').pop()!))!;
        const provides = run('rpm', ['-qp', '--nosignature', '--provides', join(tmp, out, f)]).stdout.split('\n').filter((p) => p.startsWith('kernel-modules '));
        expect(provides).toHaveLength(1);
        expect(line).toContain(`${provides[0]}: ${rules[out]}`);
        expect(line).toContain('modules acmenet (kernel release from its vermagic), acmestor');
      }
      expect(lines.find((l) => l.includes('-firmware-'))).toMatch(/firmware: entries \(acme\/acmenet\.bin\); kernel-modules /);
      expect(v.stderr).toMatch(/^dudkit: rhdd3: installer kernel \S+ \(x86_64\) extracts kmod-/m);
    }
  });

  it('--verbose says when a kernel came from a release name (kernel: rhel-9.3); rpm -qp reads that kernel in the Provides (issue 19 conv2 item 1)', () => {
    const K93 = '5.14.0-362.8.1.el9_3.x86_64';
    const m = join(tmp, 'rel.yaml');
    writeFileSync(m, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/${K93}/*.ko\n    kernel: rhel-9.3\ntargets:\n  - rhdd3: { out: dd, format: directory }\n`);
    const v = dudkit(['build', '-v', m, '-o', join(tmp, 'rel')], { env });
    expect(v.status, v.stderr).toBe(0);
    const line = v.stderr.split('\n').find((l) => /^dudkit: rhdd3: kmod-\S+\.rpm: /.test(l))!;
    expect(line).toContain(`acmenet (kernel: rhel-9.3, that release's kernel ${K93}; vermagic says ${K93})`);
    const rpm = join(tmp, 'rel/dd/rpms/x86_64', line.split(': ')[2]!);
    expect(run('rpm', ['-qp', '--nosignature', '--provides', rpm]).stdout).toContain(`kernel-modules >= ${K93}`);
  });

  it('--verbose on a USB image and a PXE overlay names the packages of the disk they carry; mdir finds those packages on the image (issue 19 conv2 item 1)', () => {
    const m = join(tmp, 'nested.yaml');
    writeFileSync(m, `${ACME}${ACME_FIRMWARE}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - usb: { of: rhdd3, form: fat }\n  - pxe: { of: rhdd3 }\n`);
    const v = dudkit(['build', '-v', m, '-o', join(tmp, 'nested')], { env });
    expect(v.status, v.stderr).toBe(0);
    const usb = v.stderr.split('\n').filter((l) => l.startsWith('dudkit: usb: the rhdd3 disk it holds: ') && l.includes('.rpm: '));
    const pxe = v.stderr.split('\n').filter((l) => l.startsWith('dudkit: pxe: the rhdd3 disk in dd.iso: ') && l.includes('.rpm: '));
    expect(usb.length).toBeGreaterThan(0);
    expect(pxe.map((l) => l.split(': ').slice(3).join(': '))).toEqual(usb.map((l) => l.split(': ').slice(3).join(': ')));
    const img = readdirSync(join(tmp, 'nested')).find((f) => f.endsWith('-usb.img'))!;
    const listed = run('mdir', ['-i', `${join(tmp, 'nested', img)}@@1M`, '-b', '::/rpms/x86_64']).stdout;
    for (const l of usb) expect(listed).toContain(l.split(': ')[3]!);
  });

  it('--progress where stderr is no terminal prints plain lines: no carriage return, no escape codes', () => {
    const p = dudkit(['build', '--progress', manifest, '-o', join(tmp, 'p')], { env });
    expect(p.status).toBe(0);
    expect(p.stderr).toMatch(/^dudkit: writing .*\n/m);
    expect(p.stderr).not.toMatch(/[\r\x1b]/);
  });

  it('--quiet keeps the one error line', () => {
    const r = dudkit(['build', '-q', join(tmp, 'missing.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('usage errors', () => {
  it('an unknown option is one line with the closest valid option and the --help to read, exit 2', () => {
    const r = dudkit(['build', '--onyl', 'rhdd3', 'x.yaml']);
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', "dudkit: unknown option '--onyl' (did you mean --only?); see 'dudkit build --help'\n"]);
    const c = dudkit(['verfy', 'x.iso']);
    expect([c.status, c.stderr]).toEqual([2, "dudkit: unknown command 'verfy' (did you mean verify?); see 'dudkit --help'\n"]);
    const s = dudkit(['rom', 'check']);
    expect([s.status, s.stderr]).toEqual([2, "dudkit: missing required argument 'rom'; see 'dudkit rom check --help'\n"]);
  });

  it('--help documents the exit codes 0, 1, 2, 70, 130 and 143', () => {
    const h = dudkit(['--help']);
    expect(h.status).toBe(0);
    for (const code of ['0', '1', '2', '70', '130', '143']) expect(h.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
  });
});

describe('manifest mistakes in words for people (issue 19 item 7)', () => {
  it('a wrong type says what was given, a typo of a key gets the closest known key; each with its key path and YAML line', () => {
    const m = join(tmp, 'typos.yaml');
    writeFileSync(m, `${ACME.replace('release: 3', 'release: [3]')}sumary: x\nsources:\n  - ko: a.ko\n    kernl: x\ntargets:\n  - rhdd3: { out: dd.iso, fromat: iso }\n`);
    const r = dudkit(['build', m, '-o', join(tmp, 'typos')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`dudkit: ${m}: `);
    expect(r.stderr).toContain('`release` must be a string or a number, got a list (line 3, column 1)');
    expect(r.stderr).toContain('unknown key `sumary`: did you mean `summary`? (line 6, column 1)');
    expect(r.stderr).toContain('unknown key `sources[0].kernl`: did you mean `kernel`? (line 9, column 5)');
  });

  it("a target option's typo is measured against that layout's keys", () => {
    const m = join(tmp, 'target-typo.yaml');
    const text = `${ACME}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/*.ko\ntargets:\n  - rhdd3: { out: dd.iso, fromat: iso }\n`;
    writeFileSync(m, text);
    const r = dudkit(['build', m, '-o', join(tmp, 'target-typo')]);
    // where an editor puts the cursor on `fromat` (1-based line and column)
    const before = text.slice(0, text.indexOf('fromat')).split('\n');
    expect([r.status, r.stderr]).toEqual([2, `dudkit: ${m}: unknown key \`targets[0].rhdd3.fromat\`: did you mean \`format\`? (line ${before.length}, column ${before.at(-1)!.length + 1})\n`]);
  });
  it('every kind of manifest mistake names the line and column of its key (flow-style targets too)', () => {
    const cases: [text: string, expected: string][] = [
      [`${ACME}sources: [{ ko: a.ko }]\ntargets: [{ rhdd3: { relase: 9 } }]\n`, 'unknown key `targets[0].rhdd3.relase` (line 7, column 22)'],
      [`${ACME}sources: [{ ko: a.ko }]\ntargets:\n  - rhdd4: {}\n`, 'targets[0]: unknown target kind "rhdd4"'],
      [`${ACME}sources:\n  - ko: ${FIXTURES}/ko/5.14.0-427.13.1.el9_4.x86_64/acmenet.ko\n  - rpm: missing.rpm\ntargets:\n  - rhdd3: {}\n`, 'sources[1].rpm: missing.rpm: no such file or directory'],
    ];
    for (const [i, [text, expected]] of cases.entries()) {
      const m = join(tmp, `located-${i}.yaml`);
      writeFileSync(m, text);
      const r = dudkit(['build', m, '-o', join(tmp, `located-${i}`)]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`dudkit: ${m}: ${expected}`);
      expect(r.stderr, text).toMatch(/ \(line \d+, column \d+\)\n$/);
    }
    const kind = dudkit(['build', join(tmp, 'located-1.yaml'), '-o', join(tmp, 'located-1')]);
    expect(kind.stderr).toMatch(/\(line 8, column 5\)\n$/);
    const rpm = dudkit(['build', join(tmp, 'located-2.yaml'), '-o', join(tmp, 'located-2')]);
    expect(rpm.stderr).toMatch(/\(line 8, column 5\)\n$/);
  });
});

describe('hints users need (issue 19 item 8)', () => {
  it('a module whose modinfo names firmware nothing ships: one warning naming the file and the module; shipped (also .xz, or by an RPM) it is quiet', () => {
    const ko = join(FIXTURES, 'ko/5.14.0-427.13.1.el9_4.x86_64');
    // what the module asks request_firmware() for, as modinfo reads it
    const wanted = run('modinfo', ['-F', 'firmware', join(ko, 'acmenet.ko')]).stdout.trim();
    expect(wanted).toBe('acme/acmenet.bin');
    const build = (name: string, firmware: string, sources = '') => {
      const m = join(tmp, `${name}.yaml`);
      writeFileSync(m, `${ACME}${firmware}sources:\n  - ko: ${ko}/*.ko\n${sources}targets:\n  - rhdd3: { out: dd.iso }\n`);
      return dudkit(['build', m, '-o', join(tmp, name)], { env });
    };
    const missing = build('fw-missing', '');
    expect(missing.status).toBe(0);
    expect(missing.stderr).toBe(`dudkit: warning: sources[0].ko: ${ko}/acmenet.ko: module acmenet names firmware ${wanted}, which no source or firmware: entry ships: add \`- { file: <its file>, dest: ${wanted} }\` under firmware: (or its firmware RPM under sources:), unless the installer has it already\n`);
    // the kernel's loader also takes NAME.xz and NAME.zst (CONFIG_FW_LOADER_COMPRESS)
    expect(build('fw-xz', `firmware:\n  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: ${wanted}.xz }\n`).stderr).toBe('');
    // shipped by an RPM the inputs' check is quiet; on an rhdd3 disk that RPM (no kernel-modules Provides) is never extracted, which the layout says
    const byRpm = build('fw-rpm', '', `  - rpm: ${FIXTURES}/rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm\n`).stderr;
    expect(byRpm).not.toContain('which no source or firmware: entry ships');
    expect(byRpm).toMatch(/^dudkit: warning: acme-acmenet-firmware-2\.4\.1-1\.noarch\.rpm: no installer kernel of the disk extracts its firmware .*acme\/acmenet\.bin.*: it has no kernel-modules Provides/);
  });

  it('firmware names as the kernel loader finds them: /lib/firmware, /usr/lib/firmware, updates/, <K>/, .xz/.zst', () => {
    const K = '5.14.0-427.13.1.el9_4.x86_64';
    expect(firmwareNames('/lib/firmware/acme/a.bin', [K])).toEqual(['acme/a.bin']);
    expect(firmwareNames('./usr/lib/firmware/acme/a.bin.zst', [K])).toEqual(['acme/a.bin.zst', 'acme/a.bin']);
    expect(firmwareNames(`/lib/firmware/updates/${K}/acme/a.bin`, [K])).toEqual([`updates/${K}/acme/a.bin`, `${K}/acme/a.bin`, 'acme/a.bin']);
    expect(firmwareNames('/lib/firmware/3com/typhoon.bin', [K])).toEqual(['3com/typhoon.bin']);
    expect(firmwareNames('/usr/share/licenses/acme/LICENCE', [K])).toEqual([]);
  });

  it('a ko: folder that also holds Module.symvers gets a hint about kabi:', () => {
    const dir = join(tmp, 'kbuild');
    mkdirSync(dir);
    copyFileSync(join(FIXTURES, 'ko/5.14.0-427.13.1.el9_4.x86_64/acmenet.ko'), join(dir, 'acmenet.ko'));
    writeFileSync(join(dir, 'Module.symvers'), '');
    const m = join(tmp, 'kabi-hint.yaml');
    writeFileSync(m, `${ACME}sources:\n  - ko: ${dir}/*.ko\nfirmware:\n  - { file: ${FIXTURES}/firmware/acmenet.bin, dest: acme/acmenet.bin }\ntargets:\n  - rhdd3: { out: dd.iso }\n`);
    const r = dudkit(['build', m, '-o', join(tmp, 'kabi-hint')], { env });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`dudkit: warning: sources[0].ko: ${join(dir, 'Module.symvers')} is there: add \`kabi: ${join(dir, 'Module.symvers')}\` to check every module's symbols and CRCs against it\n`);
  });
});
