/**
 * The first `n` bytes of a stream (fewer if it is shorter), and the whole stream again: readers
 * decide by magic bytes without buffering more than the chunks that hold them.
 */
export async function peek(input: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: AsyncIterable<Uint8Array> }> {
  const it = (async function* () {
    yield* input;
  })();
  const seen: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    seen.push(r.value);
    have += r.value.length;
  }
  const head = Buffer.concat(seen).subarray(0, n);
  const stream = (async function* () {
    yield* seen;
    if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  return { head, stream };
}
