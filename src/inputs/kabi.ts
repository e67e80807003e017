/**
 * The kABI references a build or a verification checks modules against: `Module.symvers` files
 * (also gzip'd, as RHEL's `/boot/symvers-K.gz`) and kernel-abi-stablelist files, each for every
 * kernel or for one kernel (`KERNEL=FILE`, `rhel-9.4=FILE`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { asUserError, UserError } from '../errors.js';
import { decompress } from '../formats/compress/index.js';
import { parseKabiReference, type KabiSet } from '../rules/kabi.js';
import { kernelOrRelease } from '../rules/releases.js';
import { ReadBudget } from '../tree/bounded.js';

/** A reference file as the user names it: for every kernel, or for the one given. */
export interface KabiSpec {
  file: string;
  /** `uname -r` or a release name; absent: the file is about every kernel of its arch. */
  kernel?: string;
}


/** Read every reference (bounded: a Module.symvers is some MB; a bomb is refused). `where` names the option or key. */
export async function loadKabi(specs: readonly KabiSpec[], where: string): Promise<KabiSet> {
  const refs: KabiSet['refs'] = [];
  for (const spec of specs) {
    const kernel = spec.kernel === undefined ? undefined : kernelOrRelease(spec.kernel, where);
    try {
      if ((await stat(spec.file)).isDirectory()) throw new UserError(`${where}: is a folder: name its Module.symvers or stablelist file`, spec.file);
      const budget = new ReadBudget();
      const chunks: Uint8Array[] = [];
      for await (const c of decompress(createReadStream(spec.file) as AsyncIterable<Uint8Array>)) {
        budget.charge(c.length, 'the kABI file');
        chunks.push(c);
      }
      const ref = parseKabiReference(Buffer.concat(chunks).toString('utf8'), spec.file);
      refs.push({ ref, ...(kernel !== undefined ? { kernel } : {}) });
    } catch (err) {
      asUserError(err, spec.file);
    }
  }
  return { refs };
}
