/** Unix file modes as archives and file systems store them (cpio, tar, Rock Ridge, zip). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

const TYPES: Readonly<Record<number, string>> = { 0o140000: 's', [S_IFLNK]: 'l', [S_IFREG]: '-', 0o060000: 'b', [S_IFDIR]: 'd', 0o020000: 'c', 0o010000: 'p' };

/** `ls -l`'s (and `cpio -tv`'s) mode string: file type, then rwx with setuid/setgid/sticky folded in. */
export function modeString(mode: number): string {
  let s = TYPES[mode & S_IFMT] ?? '?';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? 'rwx'[i % 3] : '-';
  const special = (pos: number, bit: number, set: string) => {
    if (mode & bit) s = s.slice(0, pos) + (s[pos] === 'x' ? set : set.toUpperCase()) + s.slice(pos + 1);
  };
  special(3, 0o4000, 's');
  special(6, 0o2000, 's');
  special(9, 0o1000, 't');
  return s;
}
