import type { Command, Help } from 'commander';
import { targetKinds } from '../api.js';
import { CHECKSUM_FILES, ENVIRONMENT, EXIT_CODES, OUTPUT_NAMES_INTRO, outputNames } from './conventions.js';

/** Text as roff reads it literally: backslashes, hyphens (so options copy-paste), leading dots, non-ASCII. */
const esc = (s: string): string =>
  s
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/^([.'])/gm, '\\&$1')
    // groff reads the page as Latin-1 unless preconv runs: other characters by their Unicode name
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);

/**
 * man/dudkit.1, made from the commander program (the same source as --help): every command with
 * its usage, description, options and help text, the target kinds, exit codes and environment.
 */
export function manPage(program: Command, version: string): string {
  const help: Help = program.createHelp();
  const lines: string[] = [
    `.TH DUDKIT 1 "" "dudkit ${esc(version)}" "User Commands"`,
    '.SH NAME',
    `dudkit \\- ${esc(program.description().replace(/\.$/, ''))}`,
    '.SH SYNOPSIS',
  ];
  const all = (c: Command, path: string[]): [string[], Command][] =>
    c.commands.filter((s) => s.name() !== 'help').flatMap((s) => [[[...path, s.name()], s] as [string[], Command], ...all(s, [...path, s.name()])]);
  const commands = all(program, []);
  for (const [path, c] of commands) if (!c.commands.length) lines.push(`.B dudkit ${esc(path.join(' '))}`, esc(help.commandUsage(c).replace(/^.*? /, '').replace(path.join(' '), '').trim()), '.br');
  lines.push('.SH DESCRIPTION', esc(program.description()), '.SH GLOBAL OPTIONS');
  const options = (c: Command) => {
    for (const o of help.visibleOptions(c)) lines.push('.TP', `.B ${esc(help.optionTerm(o))}`, esc(help.optionDescription(o)));
  };
  options(program);
  lines.push('.SH COMMANDS');
  for (const [path, c] of commands) {
    lines.push(`.SS dudkit ${esc(path.join(' '))}`, esc(c.description()));
    for (const a of help.visibleArguments(c)) lines.push('.TP', `.I ${esc(help.argumentTerm(a))}`, esc(help.argumentDescription(a)));
    options(c);
  }
  lines.push('.SH TARGET KINDS', "The keys of a manifest's", '.B targets:', 'list (and the values of', '.BR \\-\\-only ).');
  for (const k of targetKinds()) lines.push('.TP', `.B ${esc(k.kind)}`, esc(k.summary));
  lines.push('.SH OUTPUT FILES', esc(OUTPUT_NAMES_INTRO));
  for (const [kind, rule] of outputNames()) lines.push('.TP', `.B ${esc(kind)}`, esc(rule));
  lines.push('.PP', esc(CHECKSUM_FILES));
  lines.push('.SH EXIT STATUS');
  for (const [code, meaning] of EXIT_CODES) lines.push('.TP', `.B ${code}`, esc(meaning));
  lines.push('.SH ENVIRONMENT');
  for (const [name, meaning] of ENVIRONMENT) lines.push('.TP', `.B ${name}`, esc(meaning));
  lines.push('.SH SEE ALSO', '.BR rpm (8),', '.BR xorriso (1),', '.BR createrepo_c (8),', '.BR modinfo (8)');
  return `${lines.join('\n')}\n`;
}
