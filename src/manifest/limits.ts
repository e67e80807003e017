/**
 * Longest values that become parts of file names. The longest name dudkit makes from them,
 * `kmod-<vendor>-<name>-<version>-<release>.<kernel tag>.<arch>.rpm`, stays under NAME_MAX (255
 * bytes) with these; a kernel release is at most 64 characters (`uname -r`, __NEW_UTS_LEN).
 */
export const MAX_LENGTH = { name: 64, vendor: 32, version: 32, release: 32, kernel: 64 } as const;

/** The message of a `.max()` on such a value. */
export function tooLong(max: number): string {
  return `must be at most ${max} characters: file names are made from it (shorten it)`;
}
