import { type Command, Option } from 'commander';
import { build, printManifest, targetKinds } from '../api.js';
import { action, commandContext, printJson, say, detail, checksums } from './common.js';
import { CHECKSUM_FILES, OUTPUT_NAMES_INTRO, outputNames } from './conventions.js';

export function register(program: Command): void {
  program
    .command('build')
    .description('build every target of a manifest (or those named with --only)')
    .argument('<manifest>', 'dudkit manifest (YAML or JSON)')
    .option('-o, --out-dir <dir>', 'folder the targets are written to', '.')
    .option('--only <target>', 'build only this target kind (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON document describing the outputs on stdout')
    .option('--progress', 'show progress on stderr even when it is not a terminal')
    .option('--set <key=value>', 'override a manifest value (repeatable, later wins): KEY a key path such as release, signing.key or sources[0].kernel; VALUE a YAML scalar', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--no-defaults', 'read no defaults file (also DUDKIT_DEFAULTS= empty), for reproducible builds')
    .addOption(new Option('--print-manifest', 'print the merged manifest (YAML, each value commented with its file:line or --set) and exit without building').conflicts('json'))
    .addHelpText(
      'after',
      `\nTarget kinds (the keys of a manifest's targets: list):\n${targetKinds().map((l) => `  ${l.kind.padEnd(17)} ${l.summary}`).join('\n')}\n` +
        `\nEverything that can be checked (options, sources, module arches, files named by options, each\n` +
        `target's plan) is checked before anything is written; a mistake there leaves OUTDIR untouched.\n` +
        `Targets are then written one by one, each whole or not at all. If one fails, those written\n` +
        `before it stay, complete, and the error line ends "already written and complete: <paths>".\n` +
        `\n${OUTPUT_NAMES_INTRO}\n${outputNames().map(([kind, rule]) => `  ${kind.padEnd(17)} ${rule}`).join('\n')}\n${CHECKSUM_FILES}\n` +
        `\nLayers, later wins: the defaults file ($DUDKIT_DEFAULTS, else $XDG_CONFIG_HOME/dudkit/defaults.yaml,\n` +
        `default ~/.config/dudkit/defaults.yaml, if it exists; it may give vendor, vendorName, license, url,\n` +
        `signing, kabi), the manifest (a key it gives replaces the default whole), then each --set.\n` +
        `Relative paths resolve against the file that gives them; those from --set against the current folder.\n`,
    )
    .action(
      action(async (manifest: string, opts: { outDir: string; only: string[]; json?: boolean; progress?: boolean; set: string[]; defaults: boolean; printManifest?: boolean }) => {
        const layers = { set: opts.set, ...(opts.defaults ? {} : { defaults: false as const }) };
        if (opts.printManifest) {
          process.stdout.write(await printManifest(manifest, layers));
          return;
        }
        const ctx = commandContext(opts);
        const result = await build(manifest, { outDir: opts.outDir, only: opts.only, ctx, ...layers });
        if (opts.json) {
          // the document describes the manifest; each target entry its medium, as `iso --json` does
          printJson({
            path: result.manifest,
            kind: 'manifest',
            targets: result.targets.map(({ target, path, medium, size, md5, sha256, sidecars, notes, decisions }) => ({
              target,
              path,
              kind: medium,
              ...(size !== undefined ? { size } : {}),
              checksums: checksums({ md5, sha256 }),
              sidecars: sidecars ?? [],
              notes,
              decisions,
            })),
            warnings: result.warnings,
            defaults: result.defaults,
          });
          return;
        }
        detail(result.defaults);
        for (const t of result.targets) {
          for (const d of t.decisions) detail(`${t.target}: ${d}`);
          for (const f of [t.path, ...(t.sidecars ?? [])]) detail(`wrote ${f}`);
        }
        for (const t of result.targets) {
          say(`${t.target}: ${t.path}${t.size !== undefined ? ` (${t.size} bytes)` : ''}\n`);
          for (const n of t.notes) say(`  ${n.replace(/\n/g, '\n  ')}\n`);
        }
        const cert = result.signingCertificate;
        if (cert) {
          detail(`wrote ${cert.path}`);
          say(`module signing certificate: ${cert.path}\n${cert.notes.map((n) => `  ${n}\n`).join('')}`);
        }
      }),
    );
}
