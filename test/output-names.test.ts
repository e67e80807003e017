// Output names and checksum files as documented (issue 19 conv item 5): the rule each layout entry
// states (build --help, man page, README) is what its defaultOut gives and its checksums: default.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layouts } from '../layouts/index.js';
import type { DriverSet } from '../src/model/driverset.js';
import { outputNames } from '../src/commands/conventions.js';
import { dudkit, ROOT } from './helpers/run.js';

const set = { meta: { name: 'acmenet', version: '2.4.1', release: '3', vendor: 'acme', summary: 's', description: 's', license: 'GPL-2.0-only' }, kernels: [], rpms: [], firmware: [] } as DriverSet;
/** Options each layout accepts with nothing else given (attach needs its installer). */
const minimal: Record<string, unknown> = { attach: { installer: 'isos/boot.iso' }, suse: { dist: ['sle15'] } };
const placeholders: Record<string, string> = { '<name>': 'acmenet', '<version>': '2.4.1', '<release>': '3', '<label>': 'acmenet', '<installer file name without .iso>': 'boot' };

describe('default output names follow the documented rule', () => {
  for (const entry of layouts) {
    it(`${entry.kind}: ${entry.out}`, async () => {
      const layout = await entry.load();
      const parsed = layout.options.safeParse(minimal[entry.kind] ?? {});
      // ESXi and XenServer targets need options of their own: their rule names them
      if (!parsed.success) return void expect(entry.out).toMatch(/<(VIB ID|bulletin ID|label)>/);
      const rule = Object.entries(placeholders).reduce((s, [k, v]) => s.replaceAll(k, v), entry.out.replace(/ \(.*$/, ''));
      // what is left in <…> is made of the target's own options (a VIB or bulletin ID)
      const pattern = new RegExp(`^${rule.split(/<[^>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
      expect(layout.defaultOut(set, parsed.data, () => ({}))).toMatch(pattern);
      expect((parsed.data as { checksums?: string[] }).checksums ?? []).toEqual(entry.checksums);
    });
  }

  it('build --help and the README state each rule and how to turn the checksum files off', () => {
    const help = dudkit(['build', '--help']).stdout;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [kind, rule] of outputNames()) {
      expect(help).toContain(`  ${kind.padEnd(17)} ${rule}\n`);
      expect(readme).toContain(`| \`${kind}\` | \`${rule}\` |`);
    }
    for (const text of [help, readme]) expect(text).toContain('checksums: []');
  });
});
