/**
 * POSIX ustar writer (source archives): one 512-byte header per member, data padded to 512, two
 * zero blocks at the end. Owner root:root (0/0), the caller's mtime: deterministic. Names longer
 * than 100 bytes are split into the 155-byte prefix field at a `/`; longer ones are refused
 * rather than written in an extension format older tools misread.
 */
import { UserError } from '../../errors.js';
import { BLOCK, headerChecksum } from './header.js';
import { exactly } from '../bytes.js';

export type TarMember =
  | { type: 'file'; name: string; mode: number; mtime: number; size: number; data: AsyncIterable<Uint8Array> }
  | { type: 'dir'; name: string; mode: number; mtime: number }
  | { type: 'symlink'; name: string; mtime: number; target: string };

/** The octal size field holds 11 digits. */
const MAX_SIZE = 8 ** 11 - 1;

function field(buf: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new RangeError(`"${value}" does not fit a ${length}-byte tar field`);
  buf.set(bytes, offset);
}

function octal(buf: Uint8Array, offset: number, length: number, value: number): void {
  field(buf, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** Split a long name at a `/` into (prefix ≤ 155, name ≤ 100) bytes. */
function splitName(name: string): [prefix: string, name: string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i), rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '') return [prefix, rest];
  }
  throw new UserError(`tar: the path ${name} is too long for a ustar header (100-byte name, 155-byte prefix)`);
}

/** The ustar header of one member. */
export function tarHeader(m: TarMember): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const name = m.type === 'dir' ? `${m.name}/` : m.name;
  const [prefix, base] = splitName(name);
  field(h, 0, 100, base);
  octal(h, 100, 8, m.type === 'symlink' ? 0o777 : m.mode & 0o7777);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, m.type === 'file' ? m.size : 0);
  octal(h, 136, 12, m.mtime);
  h[156] = (m.type === 'file' ? '0' : m.type === 'dir' ? '5' : '2').charCodeAt(0);
  if (m.type === 'symlink') {
    if (Buffer.byteLength(m.target) > 100) throw new UserError(`tar: the link target of ${m.name} is longer than 100 bytes`);
    field(h, 157, 100, m.target);
  }
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 265, 32, 'root');
  field(h, 297, 32, 'root');
  field(h, 345, 155, prefix);
  const sum = headerChecksum(h);
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The archive as a stream; each member's data must be exactly its size. */
export async function* writeTar(members: Iterable<TarMember> | AsyncIterable<TarMember>): AsyncGenerator<Uint8Array> {
  for await (const m of members) {
    if (m.type === 'file' && (m.size > MAX_SIZE || !Number.isInteger(m.size) || m.size < 0)) throw new UserError(`tar: ${m.name}: size ${m.size} does not fit a ustar header`);
    yield tarHeader(m);
    if (m.type !== 'file') continue;
    yield* exactly(m.data, m.size, m.name);
    if (m.size % BLOCK) yield new Uint8Array(BLOCK - (m.size % BLOCK));
  }
  yield new Uint8Array(2 * BLOCK);
}
