/**
 * The modules inside a given kmod RPM, held to the rule `verify` applies to them
 * (rules/vermagic.ts): a module whose vermagic names another release than its
 * `lib/modules/<K>/` folder is a warning when it has symbol versions and refuses the build when it
 * has none, in the same words. The package itself is used as it is; its payload is only read.
 */
import type { Context } from '../context.js';
import { UserError } from '../errors.js';
import { decompressBuffer } from '../formats/compress/index.js';
import { parseModule, type ModuleInfo } from '../formats/elf/index.js';
import { payloadReadSize, verifyDigests } from '../formats/rpm/read-verify.js';
import type { GivenRpm } from '../model/driverset.js';
import { relocatedModulePath } from '../rules/rhdd.js';
import { vermagicVerdict } from '../rules/vermagic.js';
import { ReadBudget, tooLarge } from '../tree/bounded.js';

/** `lib/modules/<K>/…` with K a kernel folder (a leading digit), as dd_extract's modules are. */
const kernelFolder = (path: string): string | undefined => /^\.?\/?lib\/modules\/(\d[^/]*)\//.exec(path)?.[1];

/** Returns the modules read, each with its path in the package (`/lib/modules/…`), for the checks that follow (firmware they name). */
export async function checkGivenModules(given: GivenRpm, ctx: Context): Promise<{ path: string; info: ModuleInfo }[]> {
  if (given.pkg.isSource) return [];
  const budget = new ReadBudget();
  const modules: [string, Uint8Array][] = [];
  const onFile = { wants: (p: string) => relocatedModulePath(p) !== undefined && kernelFolder(p) !== undefined, take: (p: string, b: Uint8Array) => void modules.push([p, b]), budget };
  try {
    ctx.progress.phase(`checking the modules inside ${given.origin}`, payloadReadSize(given.pkg));
    await verifyDigests(given.pkg, { payload: true, onFile, onBytes: (n) => ctx.progress.advance(n) });
  } catch (err) {
    // a module beyond dudkit's limit: the package is still used as it is
    const limit = tooLarge(err);
    if (!limit) throw err;
    ctx.warn(`${given.origin}: its modules are not checked: ${limit.message}`);
    return [];
  }
  const read: { path: string; info: ModuleInfo }[] = [];
  for (const [path, bytes] of modules) {
    const info = parseModule((await decompressBuffer(bytes, budget, path)).data, path);
    const shown = `/${path.replace(/^\.?\//, '')}`;
    read.push({ path: shown, info });
    const verdict = vermagicVerdict(info, kernelFolder(path)!);
    if (!verdict) continue;
    if (verdict.severity === 'error') throw new UserError(`${shown}: ${verdict.message}`, given.origin);
    ctx.warn(`${given.origin}: ${shown}: ${verdict.message}`);
  }
  return read;
}
