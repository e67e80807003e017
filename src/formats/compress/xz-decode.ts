/**
 * xz (and lzma_alone) decoding driven on lzma-native's native stream, without its Transform:
 * the Transform splits every input chunk wherever the bytes `YZ` occur (about every 64 KiB of
 * random data), each split a separate thread-pool hop, then re-queues every 64 KiB of output
 * through setImmediate and a userland stream. Here each piece (`xzSlices`: whole reads whose
 * output is bounded) is one hop, its output handed over as it comes, and the next piece is fed
 * only once that output is consumed, so memory stays within one piece's output as before.
 */
/** liblzma's LZMA_IGNORE_CHECK (5.1.4 on; lzma-native does not export it). */
const IGNORE_CHECK = 0x10;

export interface XzDecodeOptions {
  /** Skip the integrity checks (CRC32/CRC64/SHA-256 of each block): for callers that do not rely on them. */
  ignoreCheck?: boolean;
}

/** Decode `pieces` of one or more concatenated .xz streams (or an lzma_alone stream) on the thread pool. */
export async function* xzDecode(pieces: AsyncIterable<Uint8Array>, opts: XzDecodeOptions = {}): AsyncGenerator<Uint8Array> {
  const { default: lzma } = await import('lzma-native');
  const native = new lzma.Stream();
  native.autoDecoder({ flags: lzma.CONCATENATED | (opts.ignoreCheck ? IGNORE_CHECK : 0) });
  let out: Uint8Array[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  // called on the main thread once a hop is done: its output buffers, then `null` at the stream's
  // end or on an error, then the count of input chunks consumed
  native.bufferHandler = (buf, processed, error) => {
    if (buf) out.push(buf);
    else if (buf === null) {
      ended = true;
      if (error) failure = error;
    }
    if (buf === null || processed !== undefined) wake?.();
  };
  const hop = (piece: Uint8Array | null): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      native.code(piece, true);
    });
  try {
    for await (const piece of pieces) {
      // an empty buffer would tell the native stream to finish
      if (piece.length === 0) continue;
      await hop(piece);
      if (failure) throw failure;
      const got = out;
      out = [];
      yield* got;
      // with CONCATENATED liblzma ends only when told to finish; nothing is fed past an end
      if (ended) return;
    }
    await hop(null);
    if (failure) throw failure;
    yield* out;
  } finally {
    // frees the dictionary now rather than when the stream is collected (a check stops early)
    native.resetUnderlying();
  }
}
