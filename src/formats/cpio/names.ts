import { FormatError } from '../../errors.js';

/**
 * A member name as a relative path for extraction: `./` and leading `/` stripped, empty and `.`
 * components dropped, `..` refused (it could leave the output tree). '' means the archive root
 * (GNU cpio's `.` entry), which an extractor skips. Symlink targets are not checked here: an
 * extractor must never follow links from the archive while writing.
 */
export function safeMemberPath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new FormatError(`unsafe cpio member name ${JSON.stringify(name)}: contains ".."`);
  return parts.join('/');
}
