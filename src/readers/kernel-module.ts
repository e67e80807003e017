/**
 * Kernel modules as given: `.ko`, or whole-file compressed (xz, gzip, zstd, bzip2), as `modinfo`
 * shows them.
 */
import { detectCompression } from '../formats/compress/magic.js';
import { readModuleFile, type ModuleFile } from '../inputs/ko.js';
import type { Reader } from './types.js';

export type ModuleFacts = ModuleFile;

/** CRCs as `modprobe --dump-modversions` and Module.symvers print them. */
const hex = (crc: number): string => `0x${crc.toString(16).padStart(8, '0')}`;

const ET_REL = 1;

export const kernelModuleReader: Reader<ModuleFacts> = {
  kind: 'kernel-module',
  // an ELF relocatable object, or a compressed file named `.ko.*` (decided by its content later)
  bid({ path, bytes, isDirectory }) {
    if (isDirectory) return 0;
    if (bytes.length >= 18 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
      const type = bytes[5] === 2 ? bytes[16]! * 256 + bytes[17]! : bytes[16]! + bytes[17]! * 256;
      return type === ET_REL ? 100 : 0;
    }
    return detectCompression(bytes) !== 'none' && /\.ko\.(xz|gz|zst|bz2)$/.test(path) ? 100 : 0;
  },
  async inspect(path, _opened, { ctx }) {
    const facts = await readModuleFile(path, (w) => ctx.warn(w));
    return { kind: 'kernel-module', path, facts, findings: [] };
  },
  render: {
    inspect: (r) => describeModule(r.facts),
    json: ({ facts: m }) => ({
      ...m,
      versions: m.versions.map((v) => ({ symbol: v.name, crc: hex(v.crc) })),
      exports: m.exports.map(({ name, crc, ...e }) => ({ symbol: name, ...(crc === undefined ? {} : { crc: hex(crc) }), ...e })),
    }),
  },
};

/** The facts a user needs about one module, as aligned text lines. */
function describeModule(m: ModuleFacts): string {
  const rows: [string, string[]][] = [
    ['kernel release', [m.kernelRelease]],
    ['arch', [m.arch]],
    ['version', m.version === undefined ? [] : [m.version]],
    ['license', m.licenses],
    ['description', m.description === undefined ? [] : m.description.split('\n')],
    ['compression', [m.compression]],
    ['signed', [m.signature ? `yes (${[m.signature.idType, m.signature.signer && `signer ${m.signature.signer}`, m.signature.hashAlgorithm].filter(Boolean).join(', ')})` : 'no']],
    ['depends', [m.depends.join(', ') || '(none)']],
    ['softdep', m.softdeps],
    ['firmware', m.firmware],
    ['aliases', m.aliases],
    ['exports', m.exports.map((e) => `${e.name}${e.crc === undefined ? '' : ` ${hex(e.crc)}`} (${e.type}${e.namespace ? `, namespace ${e.namespace}` : ''})`)],
    ['symbol CRCs', [m.versions.length ? `${m.versions.length} (__versions; --json lists them)` : 'none (built without CONFIG_MODVERSIONS)']],
    ['parameters', m.parms.map((p) => `${p.name}${p.type ? ` (${p.type})` : ''}${p.description ? `: ${p.description}` : ''}`)],
  ];
  const lines = [`kernel module ${m.name}: ${m.path}`];
  for (const [label, values] of rows) {
    values.forEach((v, i) => lines.push(`  ${(i === 0 ? label : '').padEnd(15)} ${v}`));
  }
  return lines.join('\n');
}
