import type { Layout } from './types.js';

/** Every target kind dudkit builds. Adding a medium: one module here and one line below. */
export const layouts: Layout[] = [];

export function findLayout(kind: string): Layout | undefined {
  return layouts.find((l) => l.kind === kind);
}
