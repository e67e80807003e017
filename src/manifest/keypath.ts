/** `targets[2].rhdd3.out`: how errors name a place in the manifest. */
export function keyPath(parts: readonly PropertyKey[]): string {
  const path = parts.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)), '');
  return path || '(top level)';
}
