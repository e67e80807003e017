// Damaged media end in one line naming the file and exit 2, in `verify` as in `inspect`: never a
// FormatError's stack trace, never exit 1 (that means "the installer would fail"). The images are
// made by xorriso (ISO 9660 + Rock Ridge), mkfs.fat and mcopy (FAT) and createrepo_c (repodata),
// then damaged where the readers look. Internal errors exit 70 with one line, the stack on --debug.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';
import { dudkit, FIXTURES, ROOT, run, type Ran } from './helpers/run.js';

const dir = tempDir();
const KO = join(FIXTURES, 'ko/5.14.0-362.8.1.el9_3.x86_64/acmenet.ko');
const RPM = 'kmod-acme-acmenet-2.4.1-3.el9_3.x86_64.rpm';
const tree = join(dir, 'tree');

beforeAll(() => {
  // a driver disk tree as anaconda reads it: rhdd3, rpms/x86_64/*.rpm and its repodata
  mkdirSync(join(tree, 'rpms/x86_64'), { recursive: true });
  writeFileSync(join(tree, 'rhdd3'), 'ACME driver disk\n');
  cpSync(join(FIXTURES, 'rpms', RPM), join(tree, 'rpms/x86_64', RPM));
  execFileSync('createrepo_c', ['-q', join(tree, 'rpms/x86_64')]);
  mkdirSync(join(tree, 'docs/a/b'), { recursive: true });
  writeFileSync(join(tree, 'docs/abcd'), 'x');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-J', '-V', 'OEMDRV', '-o', join(dir, 'dd.iso'), tree], { stdio: 'ignore' });
});

/** The one error line of a failed command: exit 2, one line, naming `file`, no stack trace. */
function expectOneLine(r: Ran, file: string, message: RegExp): void {
  expect(r.stderr).not.toMatch(/^\s+at |node:internal|FormatError/m);
  expect(r.status).toBe(2);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(`dudkit: ${file}`);
  expect(lines[0]).toMatch(message);
}

/** A copy of dd.iso with `edit` applied to its bytes. */
function damaged(name: string, edit: (b: Buffer) => void): string {
  const b = readFileSync(join(dir, 'dd.iso'));
  edit(b);
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
}

/** Directory records of an extent: offset, name as recorded, extent block. */
function records(b: Buffer, lba: number, size: number): { at: number; id: string; lba: number }[] {
  const out = [];
  for (let o = lba * 2048; o < lba * 2048 + size && b[o]! > 0; o += b[o]!) out.push({ at: o, id: b.toString('latin1', o + 33, o + 33 + b[o + 32]!), lba: b.readUInt32LE(o + 2) });
  return out;
}
const rootLba = (b: Buffer) => b.readUInt32LE(32768 + 158);
const rootSize = (b: Buffer) => b.readUInt32LE(32768 + 166);

describe('damaged ISO 9660 images', () => {
  it('a directory whose record points back at the root (a loop): verify and inspect exit 2 with one line', () => {
    const iso = damaged('loop.iso', (b) => {
      const docs = records(b, rootLba(b), rootSize(b)).find((r) => r.id === 'DOCS')!;
      b.writeUInt32LE(rootLba(b), docs.at + 2);
      b.writeUInt32BE(rootLba(b), docs.at + 6);
    });
    // isoinfo (genisoimage) lists the loop: /DOCS holds what the root holds
    expect(run('timeout', ['10', 'isoinfo', '-f', '-i', iso]).stdout).toContain('/DOCS/DOCS/RHDD3.;1');
    for (const cmd of ['verify', 'inspect']) expectOneLine(dudkit([cmd, iso]), iso, /directory loop at block \d+/);
  });

  for (const [name, bad] of [['../x', '../x'], ['a/b', 'a/bc']] as const) {
    it(`a Rock Ridge name ${JSON.stringify(name)} (NM entry): verify exits 2 naming the image`, () => {
      const iso = damaged(`nm-${name.replace(/\W/g, '')}.iso`, (b) => {
        const nm = b.indexOf(Buffer.from('NM\x09\x01\x00abcd', 'latin1'));
        expect(nm).toBeGreaterThan(0);
        b.write(bad, nm + 5, 'latin1');
      });
      expect(run('isoinfo', ['-R', '-l', '-i', iso]).stdout).toContain(bad);
      expectOneLine(dudkit(['verify', iso]), iso, new RegExp(`bad file name "${bad.replace(/\./g, '\\.')}"`));
    });
  }

  it('a short image (cut in the middle): one line naming the image and the member cut off', () => {
    const iso = join(dir, 'short.iso');
    cpSync(join(dir, 'dd.iso'), iso);
    // xorriso -exec report_lba: where repomd.xml's data starts; the image ends 100 bytes into it
    const lba = Number(run('xorriso', ['-indev', iso, '-find', '/rpms/x86_64/repodata/repomd.xml', '-exec', 'report_lba']).stdout.match(/File data lba:\s*\d+\s*,\s*(\d+)/)![1]);
    truncateSync(iso, lba * 2048 + 100);
    expectOneLine(dudkit(['verify', iso]), iso, /: its data ends at byte \d+, past the end of the image \(\d+ bytes\): the image is cut short/);
  });

  it('a directory record shorter than its fixed fields', () => {
    const iso = damaged('record.iso', (b) => {
      const last = records(b, rootLba(b), rootSize(b)).at(-1)!;
      b[last.at] = 20;
    });
    for (const cmd of ['verify', 'inspect']) expectOneLine(dudkit([cmd, iso]), iso, /bad directory record length 20/);
  });
});

describe('damaged repodata', () => {
  it('repomd.xml that is not well-formed: verify exits 2 naming the medium and repomd.xml', () => {
    const disk = join(dir, 'badxml');
    cpSync(tree, disk, { recursive: true });
    const repomd = join(disk, 'rpms/x86_64/repodata/repomd.xml');
    writeFileSync(repomd, readFileSync(repomd, 'utf8').replace('</repomd>', ''));
    expect(run('xmllint', ['--noout', repomd]).status).not.toBe(0);
    expectOneLine(dudkit(['verify', disk]), disk, /repomd\.xml: not well-formed XML/);
  });

  it('corrupt gzip primary.xml.gz: verify exits 2 naming the medium', () => {
    const disk = join(dir, 'badgz');
    cpSync(tree, disk, { recursive: true });
    const repodata = join(disk, 'rpms/x86_64/repodata');
    const primary = join(repodata, readdirSync(repodata).find((n) => n.endsWith('primary.xml.gz'))!);
    const b = readFileSync(primary);
    b.fill(0x55, 20, 60);
    writeFileSync(primary, b);
    expect(run('gzip', ['-t', primary]).status).not.toBe(0);
    expectOneLine(dudkit(['verify', disk]), disk, /corrupt gzip data/);
  });

  it('inspect of a repository whose repomd.xml names an unknown open-checksum type: a problem, not "Digest method not supported"', () => {
    const repo = join(dir, 'sha999');
    cpSync(join(tree, 'rpms/x86_64'), repo, { recursive: true });
    const repomd = join(repo, 'repodata/repomd.xml');
    writeFileSync(repomd, readFileSync(repomd, 'utf8').replaceAll('<open-checksum type="sha256">', '<open-checksum type="sha999">'));
    const r = dudkit(['inspect', repo]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/primary\.xml\.gz: unknown checksum type "sha999"/);
  });
});

describe('damaged FAT images', () => {
  it('a broken cluster chain (a file whose FAT entry points outside the volume): verify exits 2 naming the image', () => {
    const img = join(dir, 'usb.img');
    execFileSync('mkfs.fat', ['-C', '-F', '32', '-n', 'OEMDRV', img, String(40 * 1024)], { stdio: 'ignore' });
    for (const d of ['::/rpms', '::/rpms/x86_64']) execFileSync('mmd', ['-i', img, d]);
    execFileSync('mcopy', ['-i', img, join(tree, 'rhdd3'), '::/rhdd3']);
    execFileSync('mcopy', ['-i', img, '-s', join(tree, 'rpms/x86_64'), '::/rpms/']);
    // mshowfat: the clusters of the RPM; its second link goes to a cluster that does not exist
    const clusters = run('mshowfat', ['-i', img, `::/rpms/x86_64/${RPM}`]).stdout.match(/<(\d+)/)![1]!;
    const b = readFileSync(img);
    const fatAt = b.readUInt16LE(14) * b.readUInt16LE(11);
    b.writeUInt32LE(0x0ffffff0, fatAt + Number(clusters) * 4);
    writeFileSync(img, b);
    expect(run('fsck.fat', ['-n', img]).status).not.toBe(0);
    expectOneLine(dudkit(['verify', img]), img, /cluster chain reaches invalid cluster/);
  });
});

describe('internal errors', () => {
  // an error nobody catches (thrown from a callback, or a rejected promise nobody awaits) after
  // the CLI installed its handlers: one line, exit 70, the stack only with DUDKIT_DEBUG=1
  const late = (throwing: string, env: NodeJS.ProcessEnv = {}) =>
    // argv is set inside the script: `node -e CODE inspect …` would start node's own debugger
    run(process.execPath, ['--input-type=module', '-e', `process.argv = [process.execPath, 'dudkit', 'inspect', ${JSON.stringify(KO)}]; await import(${JSON.stringify(join(ROOT, 'dist/src/cli.js'))}); ${throwing}`], { env });

  it('an exception from a callback: one line, exit 70, never exit 1', () => {
    const r = late(`setTimeout(() => { throw new TypeError('boom'); });`);
    expect(r.status).toBe(70);
    expect(r.stderr).toBe('dudkit: internal error: TypeError: boom — please report it (run with --debug or DUDKIT_DEBUG=1 for the stack)\n');
  });

  it('an unhandled rejection, with DUDKIT_DEBUG=1: the line, then the stack', () => {
    const r = late(`Promise.reject(new Error('lost'));`, { DUDKIT_DEBUG: '1' });
    expect(r.status).toBe(70);
    const [line, ...stack] = r.stderr.split('\n');
    expect(line).toBe('dudkit: internal error: Error: lost — please report it (run with --debug or DUDKIT_DEBUG=1 for the stack)');
    expect(stack.join('\n')).toMatch(/^Error: lost\n\s+at /);
  });
});
