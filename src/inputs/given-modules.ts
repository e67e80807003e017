/**
 * The modules inside a given kmod RPM, held to the rule `verify` applies to them
 * (rules/vermagic.ts): a module whose vermagic names another release than its
 * `lib/modules/<K>/` folder is a warning when it has symbol versions and refuses the build when it
 * has none, in the same words. The package itself is used as it is; its payload is only read,
 * and only as far as its last module: its digests are `verify`'s business, not the build's
 * (hashing them doubled the time of a disk made from given RPMs).
 */
import { asUserError, FormatError, UserError } from '../errors.js';
import { decompress, decompressBuffer } from '../formats/compress/index.js';
import { parseModule, type ModuleInfo } from '../formats/elf/index.js';
import { payloadReadSize } from '../formats/rpm/read-verify.js';
import type { GivenRpm } from '../model/driverset.js';
import { relocatedModulePath } from '../rules/rhdd.js';
import { vermagicVerdict } from '../rules/vermagic.js';
import { ReadBudget, readExactly, tooLarge } from '../tree/bounded.js';

/** `lib/modules/<K>/…` with K a kernel folder (a leading digit), as dd_extract's modules are. */
const kernelFolder = (path: string): string | undefined => /^\.?\/?lib\/modules\/(\d[^/]*)\//.exec(path)?.[1];

const isModule = (p: string) => relocatedModulePath(p) !== undefined && kernelFolder(p) !== undefined;

/** How many modules the header's file list says the payload holds (none: the payload is not opened). */
function modulesListed(given: GivenRpm): number {
  return given.pkg.isSource ? 0 : given.pkg.files.filter((f) => f.type === 'file' && !f.ghost && isModule(f.path)).length;
}

/** What `checkGivenModules` reports as read at most (the stored payload, then the archive), for progress. */
export function givenModulesReadSize(given: GivenRpm): number {
  return modulesListed(given) === 0 ? 0 : payloadReadSize(given.pkg);
}

/**
 * Check the modules of `given`; `advance` is told the bytes read (stored payload and archive),
 * `givenModulesReadSize` of them in all, also when the archive's end is not read. Returns the
 * modules read, each with its path in the package (`/lib/modules/…`), for the checks that follow
 * (firmware they name).
 */
export async function checkGivenModules(given: GivenRpm, warn: (message: string) => void, advance: (bytes: number) => void = () => undefined): Promise<{ path: string; info: ModuleInfo }[]> {
  let left = modulesListed(given);
  if (left === 0) return [];
  const budget = new ReadBudget();
  const modules: [string, Uint8Array][] = [];
  let bytesRead = 0;
  const counted = async function* (input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of input) {
      bytesRead += chunk.length;
      advance(chunk.length);
      yield chunk;
    }
  };
  let stream: AsyncGenerator<Uint8Array> | undefined;
  try {
    // what cpioStream() reads, with the stored bytes counted too; xz's block checks are not
    // computed: like the package's digests they are verify's, and SHA-256 (rpm's) cost a sixth
    // of the decoding
    if (given.pkg.payloadFormat !== 'cpio') return [];
    stream = counted(decompress(counted(given.pkg.rawPayload()), await given.pkg.payloadCompression(), { ignoreCheck: true }));
    for await (const { file, size, data } of given.pkg.members(stream)) {
      if (file.type !== 'file' || !isModule(file.path)) continue;
      modules.push([file.path, await readExactly(data, size, budget, file.path)]);
      // the rest of the payload is not decompressed
      if (--left === 0) break;
    }
  } catch (err) {
    // a module beyond dudkit's limit: the package is still used as it is
    const limit = tooLarge(err);
    if (limit) {
      warn(`${given.origin}: its modules are not checked: ${limit.message}`);
      return [];
    }
    // a payload that does not unpack is verify's finding (a failed digest), not the build's
    if (err instanceof FormatError) return [];
    asUserError(err, given.pkg.path);
  } finally {
    await stream?.return(undefined);
    advance(Math.max(0, payloadReadSize(given.pkg) - bytesRead));
  }
  const read: { path: string; info: ModuleInfo }[] = [];
  for (const [path, bytes] of modules) {
    const info = parseModule((await decompressBuffer(bytes, budget, path)).data, path);
    const shown = `/${path.replace(/^\.?\//, '')}`;
    read.push({ path: shown, info });
    const verdict = vermagicVerdict(info, kernelFolder(path)!);
    if (!verdict) continue;
    if (verdict.severity === 'error') throw new UserError(`${shown}: ${verdict.message}`, given.origin);
    warn(`${given.origin}: ${shown}: ${verdict.message}`);
  }
  return read;
}
