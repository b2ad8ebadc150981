/** The `i`th of a benchmark's session ids: a valid UUID, the same in every run and every tree. */
export function benchSessionId(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}
