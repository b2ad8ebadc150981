/**
 * Lets a long loop give the event loop a turn. `await` on an already-settled promise runs as a microtask,
 * which timers and I/O callbacks cannot interleave with, so loops over in-memory data (matching lines,
 * sorting names) must hand over explicitly: every `budgetMs` of continuous work they wait one macrotask.
 */
export class Yielder {
  private since = performance.now();

  constructor(private readonly budgetMs = 8) {}

  /** Resolves at once when under budget; otherwise after one `setImmediate` turn. */
  async maybe(): Promise<void> {
    if (performance.now() - this.since < this.budgetMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }
}

const SORT_CHUNK = 4096;

/**
 * A stable merge sort that yields between chunks, so sorting a directory with a million entries never
 * blocks the event loop for long. Small arrays take the plain `Array.prototype.sort` path.
 */
export async function sortYielding<T>(items: T[], compare: (a: T, b: T) => number, yielder = new Yielder()): Promise<T[]> {
  if (items.length <= SORT_CHUNK) return items.sort(compare);
  let runs: T[][] = [];
  for (let i = 0; i < items.length; i += SORT_CHUNK) {
    runs.push(items.slice(i, i + SORT_CHUNK).sort(compare));
    await yielder.maybe();
  }
  while (runs.length > 1) {
    const next: T[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i] ?? [];
      const b = runs[i + 1];
      next.push(b === undefined ? a : await merge(a, b, compare, yielder));
    }
    runs = next;
  }
  return runs[0] ?? [];
}

async function merge<T>(a: T[], b: T[], compare: (x: T, y: T) => number, yielder: Yielder): Promise<T[]> {
  const out: T[] = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as T;
    const y = b[j] as T;
    if (compare(y, x) < 0) {
      out[k++] = y;
      j += 1;
    } else {
      out[k++] = x;
      i += 1;
    }
    if ((k & 0xfff) === 0) await yielder.maybe();
  }
  while (i < a.length) out[k++] = a[i++] as T;
  while (j < b.length) out[k++] = b[j++] as T;
  return out;
}
