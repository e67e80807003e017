import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dudkit, FIXTURES, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir();
const el93 = '5.14.0-362.8.1.el9_3.x86_64';
const el94 = '5.14.0-427.13.1.el9_4.x86_64';

/** Copy the plain `.ko` files of one fixture kernel into `to`. */
function copyModules(release: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of ['acmenet.ko', 'acmestor.ko']) cpSync(join(FIXTURES, 'ko', release, name), join(to, name));
}

describe('dudkit init', () => {
  it('writes a manifest for modules of two kernel releases that builds and verifies; xorriso lists the kmods', () => {
    const work = join(dir, 'modules');
    copyModules(el93, join(work, 'el9_3'));
    copyModules(el94, join(work, 'el9_4'));
    // the firmware acmenet names (modinfo firmware=acme/acmenet.bin), where a vendor keeps it
    mkdirSync(join(work, 'firmware'));
    cpSync(join(FIXTURES, 'firmware/acmenet.bin'), join(work, 'firmware/acmenet.bin'));
    const r = dudkit(['init', work]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manifest = readFileSync(join(work, 'dudkit.yaml'), 'utf8');
    expect(manifest).toContain('name: acmenet');
    expect(manifest).toContain('version: 2.4.1');
    expect(manifest).toContain('vendor: acme');
    expect(manifest).toContain('  - ko: el9_3/*.ko\n  - ko: el9_4/*.ko\n');
    expect(manifest).toContain('firmware:\n  - { file: firmware/acmenet.bin, dest: acme/acmenet.bin }\n');
    expect(manifest).toContain('  # - xenserver-update: {}');

    const build = dudkit(['build', join(work, 'dudkit.yaml'), '-o', join(work, 'out')]);
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const iso = join(work, 'out', 'dd-acmenet.iso');
    const verify = dudkit(['verify', iso]);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    const listing = run('xorriso', ['-indev', iso, '-find', '/rpms', '-name', '*.rpm']);
    expect(listing.status).toBe(0);
    for (const kernel of ['362.8.1.el9_3', '427.13.1.el9_4']) expect(listing.stdout).toContain(`/rpms/x86_64/kmod-acme-acmenet-2.4.1-1.${kernel}.x86_64.rpm`);

    const again = dudkit(['init', work]);
    expect(again.status).toBe(2);
    expect(again.stderr.trim().split('\n')).toEqual([`dudkit: ${join(work, 'dudkit.yaml')}: already exists; edit it, or remove it to start again`]);
    expect(readFileSync(join(work, 'dudkit.yaml'), 'utf8')).toBe(manifest);
  });

  it('takes kmod RPMs; one carrying a module also given as a .ko is left commented out so the disk builds', () => {
    const work = join(dir, 'rpms');
    copyModules(el93, join(work, 'ko'));
    for (const rpm of ['kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm', 'acme-acmenet-firmware-2.4.1-1.noarch.rpm']) cpSync(join(FIXTURES, 'rpms', rpm), join(work, 'rpms', rpm));
    expect(dudkit(['init', work]).status).toBe(0);
    const manifest = readFileSync(join(work, 'dudkit.yaml'), 'utf8');
    expect(manifest).toContain('  # - rpm: rpms/kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm  # carries modules also found as .ko files\n');
    // the firmware package is taken because it ships the file acmenet names
    expect(manifest).toContain('  - rpm: rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm\n');
    expect(dudkit(['build', join(work, 'dudkit.yaml'), '-o', join(work, 'out')]).status).toBe(0);
    rmSync(join(work, 'ko'), { recursive: true });
    rmSync(join(work, 'dudkit.yaml'));
    expect(dudkit(['init', work]).status).toBe(0);
    expect(readFileSync(join(work, 'dudkit.yaml'), 'utf8')).toContain('  - rpm:\n      - rpms/kmod-acme-acmenet-2.4.1-3.el8_9.x86_64.rpm\n');
    expect(readFileSync(join(work, 'dudkit.yaml'), 'utf8')).toContain('  - rpm: rpms/acme-acmenet-firmware-2.4.1-1.noarch.rpm\n');
    const build = dudkit(['build', join(work, 'dudkit.yaml'), '-o', join(work, 'out2')]);
    // the given firmware RPM has no kernel-modules Provides: the rhdd3 installer never extracts it, and the build says so
    expect(build.stderr).toMatch(/^dudkit: warning: acme-acmenet-firmware-2\.4\.1-1\.noarch\.rpm: no installer kernel of the disk extracts its firmware [^\n]*\n$/);
    expect(build.status).toBe(0);
  });

  it('refuses a folder with no driver files in one line', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = dudkit(['init', empty]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('no kernel modules');
  });

  it('writes a dkms source for a dkms tree that builds', () => {
    const work = join(dir, 'dkms');
    cpSync(join(FIXTURES, 'dkms', 'acmenet'), join(work, 'acmenet'), { recursive: true, verbatimSymlinks: true });
    expect(dudkit(['init'], { cwd: work }).status).toBe(0);
    const manifest = readFileSync(join(work, 'dudkit.yaml'), 'utf8');
    expect(manifest).toContain(`  - { dkms: acmenet, kernel: ${el93} }\n  - { dkms: acmenet, kernel: ${el94} }\n`);
    // a Debian kernel release is no RPM version-release: listed, commented out
    expect(manifest).toContain('  # - { dkms: acmenet, kernel: 6.1.0-56-amd64 }');
    expect(manifest).toContain('vendor: acme');
    // no firmware file in the folder: a commented hint, and the build's one warning names the file and the module
    expect(manifest).toContain('#   - { file: path/to/acmenet.bin, dest: acme/acmenet.bin }  # named by acmenet; not found here\n');
    const build = dudkit(['build', 'dudkit.yaml', '-o', 'out'], { cwd: work });
    expect(build.stderr).toMatch(/^dudkit: warning: sources\[0\]\.dkms: \S+\/acmenet\.ko\.xz \(and 1 more naming it\): module acmenet names firmware acme\/acmenet\.bin, which no source or firmware: entry ships: [^\n]+\n$/);
    expect(build.status).toBe(0);
  });
});
