/**
 * Run `work` on each item, up to `atOnce` started ahead of the one in hand (their I/O overlaps,
 * memory stays bounded), and hand the results to `use` strictly in item order, so the output is
 * the same as one-by-one. The first failure in order ends the loop once the jobs started ahead have
 * settled (none still writes after the caller cleans up); their failures are caught, so none goes
 * unhandled.
 */
export async function inOrder<T, R>(items: readonly T[], atOnce: number, work: (item: T) => Promise<R>, use: (result: R) => void | Promise<void>): Promise<void> {
  const ahead: Promise<R>[] = [];
  const start = (i: number): void => {
    if (i >= items.length) return;
    const p = work(items[i]!);
    p.catch(() => undefined); // awaited below, in order; this only keeps a later failure from going unhandled
    ahead[i] = p;
  };
  for (let i = 0; i < atOnce; i++) start(i);
  try {
    for (let i = 0; i < items.length; i++) {
      const result = await ahead[i]!;
      delete ahead[i];
      start(i + atOnce);
      await use(result);
    }
  } catch (err) {
    await Promise.allSettled(ahead.filter(Boolean));
    throw err;
  }
}
