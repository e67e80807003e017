// `dudkit completion bash|zsh|fish` (issue 19 item 4): scripts generated from the commander program,
// parsed by the real shells (bash -n, zsh -n, fish -n) and run by bash and fish to complete.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dudkit, ROOT, run } from './helpers/run.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir();
const script = (shell: string): string => {
  const r = dudkit(['completion', shell]);
  expect([shell, r.status, r.stderr]).toEqual([shell, 0, '']);
  const file = join(tmp, `dudkit.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
};
const KINDS = ['rhdd3', 'rhel5', 'pxe', 'usb', 'attach', 'suse', 'esxi-vib'];

/** COMPREPLY of bash's _dudkit for the words typed so far (the last one being completed). */
function bashComplete(file: string, words: string[]): string[] {
  const r = run('bash', ['-c', `source "$0"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dudkit; printf '%s\\n' "\${COMPREPLY[@]}"`, file], { cwd: ROOT });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('dudkit completion', () => {
  it('bash: bash -n accepts the script; it completes commands, options, target kinds after --only, subcommands and files', () => {
    const file = script('bash');
    expect(run('bash', ['-n', file]).status).toBe(0);
    expect(bashComplete(file, ['dudkit', ''])).toEqual(expect.arrayContaining(['build', 'inspect', 'verify', 'iso', 'keygen', 'rom', 'completion']));
    expect(bashComplete(file, ['dudkit', 'build', '--o'])).toEqual(['--out-dir', '--only']);
    expect(bashComplete(file, ['dudkit', 'build', '--only', ''])).toEqual(expect.arrayContaining(KINDS));
    expect(bashComplete(file, ['dudkit', 'build', '--set', 'sig'])).toEqual(['signing.key=', 'signing.cert=', 'signing.passphraseEnv=']);
    expect(bashComplete(file, ['dudkit', 'rom', ''])).toEqual(['fix', 'check']);
    expect(bashComplete(file, ['dudkit', 'rom', 'fix', '--v'])).toEqual(['--vendor', '--verbose']);
    expect(bashComplete(file, ['dudkit', 'iso', '--iso-level', ''])).toEqual(['1', '3']);
    expect(bashComplete(file, ['dudkit', 'build', 'examples/acmenet/dudk'])).toEqual(['examples/acmenet/dudkit.yaml']);
    expect(bashComplete(file, ['dudkit', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('zsh: zsh -n accepts the script', () => {
    expect(run('zsh', ['-n', script('zsh')]).status).toBe(0);
  });

  it('fish: fish -n accepts the script; complete -C lists commands and target kinds', () => {
    const file = script('fish');
    expect(run('fish', ['-n', file]).status).toBe(0);
    const complete = (line: string) => run('fish', ['-c', `source ${file}; complete -C '${line}'`]).stdout.split('\n').map((l) => l.split('\t')[0]);
    expect(complete('dudkit ')).toEqual(expect.arrayContaining(['build', 'verify', 'completion']));
    expect(complete('dudkit build --only ')).toEqual(expect.arrayContaining(KINDS));
    expect(complete('dudkit build --set ven')).toEqual(expect.arrayContaining(['vendor=', 'vendorName=']));
  });

  it('an unknown shell is one line naming the choices, exit 2', () => {
    const r = dudkit(['completion', 'tcsh']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^dudkit: .*'tcsh'.*bash, zsh, fish.*\n$/);
  });
});
