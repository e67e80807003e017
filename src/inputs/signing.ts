/**
 * `signing: { key, cert }`: every module the manifest's sources give is signed as the kernel's
 * `sign-file sha256 KEY CERT` signs it, before any layout sees it, so every medium carries the
 * same signed bytes. A module signed already is re-signed (its old signature replaced), with a
 * warning. Signed modules are shipped uncompressed: the signature covers the ELF bytes, and a
 * medium that keeps compression would otherwise carry the unsigned original.
 */
import type { Context } from '../context.js';
import { findSignature } from '../formats/elf/index.js';
import type { KernelModule } from '../model/driverset.js';
import type { CmsSigner } from '../sign/cms-signer.js';
import { moduleSignatureTrailer } from '../sign/module.js';
import { readSource, type Source } from '../tree/source.js';

/** The first `length` bytes of `source`, then `tail`. */
function prefixThen(source: Source, length: number, tail: Uint8Array): Source {
  return {
    size: length + tail.length,
    origin: source.origin,
    async *open() {
      let left = length;
      for await (const chunk of source.open()) {
        if (left <= 0) break;
        const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
        left -= part.length;
        yield part;
      }
      yield tail;
    },
  };
}

export async function signModule(mod: KernelModule, signer: CmsSigner, ctx: Context): Promise<KernelModule> {
  const bytes = await readSource(mod.plain);
  const { elfLength, signature: old } = findSignature(bytes);
  if (old) ctx.warn(`${mod.origin}: signed already${old.signer ? ` by ${old.signer}` : ''}; re-signed with signing.key (the old signature is dropped)`);
  const elf = bytes.subarray(0, elfLength);
  const trailer = await moduleSignatureTrailer(elf, signer);
  const { signature } = findSignature(Buffer.concat([elf.subarray(Math.max(0, elf.length - 64)), trailer]));
  const plain = prefixThen(mod.plain, elfLength, trailer);
  return { ...mod, facts: { ...mod.facts, signed: true, ...(signature ? { signature } : {}) }, original: plain, compression: 'none', plain };
}
