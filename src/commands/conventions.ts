/** What --help and the man page both tell: exit codes, the environment dudkit reads, output names. */
import { targetKinds } from '../api.js';

export const EXIT_CODES: [code: string, meaning: string][] = [
  ['0', 'success'],
  ['1', 'verification failed (verify, rom check): the medium is read but its consumer would refuse it'],
  ['2', 'bad input or usage: one line on stderr naming the file, the manifest key and the problem; nothing is written'],
  ['70', 'internal error (a dudkit bug): one line; --debug or DUDKIT_DEBUG=1 adds the stack'],
  ['130', 'interrupted by SIGINT (Ctrl-C); temporaries are removed, nothing is written'],
  ['143', 'terminated by SIGTERM or SIGHUP; temporaries are removed, nothing is written'],
];

export const ENVIRONMENT: [name: string, meaning: string][] = [
  ['SOURCE_DATE_EPOCH', 'seconds since 1970 used for every timestamp written (files, RPM headers, ISO volume dates), so the same inputs give byte-identical media; default: now'],
  ['DUDKIT_DEBUG', 'set to 1 to print the stack of an internal error, like --debug'],
  ['DUDKIT_MAX_MODULE_SIZE', 'largest kernel module or decompressed input member read (bytes, or a number with K, M or G); larger inputs are refused instead of filling memory or disk'],
  ['DUDKIT_MAX_UNPACK_SIZE', 'most an input read by inspect or verify may unpack to disk in all (SUSE update archives and images, ESXi bundle members, driver disks inside an initrd; default 4G); beyond it the input is refused instead of filling the disk'],
  ['DUDKIT_KEY_PASSPHRASE', "passphrase of an encrypted signing key (the manifest's passphraseEnv: names another variable)"],
  ['DUDKIT_DEFAULTS', 'the defaults file build layers under the manifest (an explicit path must exist); set but empty: none, as --no-defaults'],
  ['XDG_CONFIG_HOME', 'without DUDKIT_DEFAULTS, build reads $XDG_CONFIG_HOME/dudkit/defaults.yaml (default ~/.config/dudkit/defaults.yaml) when it exists'],
  ['TMPDIR', 'where scratch folders are made (dudkit-PID-…), removed when the command ends'],
];

/** How a target's output is named when it gives no `out:`, and which checksum files go beside it (build --help, man page, README). */
export const OUTPUT_NAMES_INTRO = 'Output names, when a target gives no out: (<name>, <version>, <release>, <vendor> are the manifest\'s keys), and the checksum files written beside the output:';

export function outputNames(): [kind: string, rule: string][] {
  return targetKinds().map((k) => [k.kind, `${k.out}${k.checksums.length ? ` + ${k.checksums.map((c) => `.${c}`).join(', ')}` : ''}`]);
}

export const CHECKSUM_FILES =
  'Checksum files: OUT.sha256 and OUT.md5 in sha256sum/md5sum format (sha256sum -c OUT.sha256 checks the output), for image outputs only (a directory output gets none). ' +
  "A target's checksums: option lists which to write: checksums: [md5, sha256] writes both, checksums: [] none.";
