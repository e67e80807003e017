/**
 * Whether a kernel loads a module whose vermagic names another release (redhat-dud.md §3.6): the
 * one rule `build` (a `kernel:` given for `ko:` sources) and `verify` (a module filed under
 * `lib/modules/<K>/` or `<K>/<arch>/`) both apply, in the same words. The loader (kernel
 * `check_modinfo()`/`same_magic()`) skips the release word of vermagic when the module has
 * `__versions` (CONFIG_MODVERSIONS) and compares the imported symbols' CRCs instead; without
 * symbol versions it compares the whole string.
 */

export interface VermagicVerdict {
  severity: 'warning' | 'error';
  message: string;
}

/** The verdict for a module of vermagic release `release` filed for kernel `kernel`; undefined when they agree. */
export function vermagicVerdict(mod: { kernelRelease: string; versions: readonly unknown[] }, kernel: string): VermagicVerdict | undefined {
  const r = mod.kernelRelease;
  if (r === kernel) return undefined;
  if (mod.versions.length > 0) {
    return { severity: 'warning', message: `vermagic release ${r} is not ${kernel}: ${kernel} loads it only if the CRCs of the symbols it imports match its own (kABI), which is not checked` };
  }
  return { severity: 'error', message: `vermagic release ${r} is not ${kernel}, and it has no symbol versions: ${kernel} refuses it` };
}
