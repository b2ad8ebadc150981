/**
 * The seqs of a catch-up page as a store's frame query aggregates them (`group_concat(seq)` in SQLite,
 * `string_agg(seq::text, ',')` in PostgreSQL: decimal integers and commas), or undefined if they are not
 * ascending or not all digits (the aggregate keeps its subquery's order; checked rather than assumed).
 * Parsed in one pass over the characters: no string per seq for the young generation to collect.
 */
export function ascendingSeqs(text: string): number[] | undefined {
  const seqs: number[] = [];
  let value = 0;
  let last = -Infinity;
  for (let i = 0, n = text.length; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 0x2c;
    if (c !== 0x2c) {
      // Seqs are positive integers; anything else goes the checked way.
      if (c < 0x30 || c > 0x39) return undefined;
      value = value * 10 + (c - 0x30);
      continue;
    }
    if (!(value > last)) return undefined;
    seqs.push(value);
    last = value;
    value = 0;
  }
  return seqs;
}
