import type { Histogram, LabelValues } from 'prom-client';

/** How long observations may wait for a scrape before they are folded in anyway. */
export const FOLD_DELAY_MS = 1_000;
/** Observations folded per macrotask turn when no scrape takes them (one turn stays ~1 ms). */
export const FOLD_CHUNK = 256;

/**
 * A labelled histogram's observations, kept as plain values where they happen and folded into the
 * histogram at the next scrape (its `collect`), or, without one, in chunks from a timer.
 *
 * Why: prom-client's `observe` validates the labels, builds their hash string and allocates per call,
 * 2-12 us on this box; model steps end by the hundred in one burst when many turns end together (the
 * sessions benchmark's turn end: 500 in a few macrotasks, where each millisecond counts against the
 * 50 ms event-loop bar), and an array push costs next to nothing there. A scrape shows every
 * observation made before it, as before.
 */
export class DeferredObservations<L extends string> {
  private labels: Array<LabelValues<L>> = [];
  private values: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly histogram: () => Histogram<L>) {}

  observe(labels: LabelValues<L>, value: number): void {
    this.labels.push(labels);
    this.values.push(value);
    this.timer ??= setTimeout(this.foldSome, FOLD_DELAY_MS).unref();
  }

  /** Observations not folded in yet (tests, diagnostics). */
  get pending(): number {
    return this.values.length;
  }

  /** Everything into the histogram now (its `collect`, at scrape time). */
  foldAll(): void {
    this.fold(this.values.length);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.labels = [];
    this.values = [];
  }

  private readonly foldSome = (): void => {
    this.timer = undefined;
    this.fold(FOLD_CHUNK);
    // The rest in the next turns, so a big backlog never folds in one go.
    if (this.values.length > 0) this.timer = setTimeout(this.foldSome, 0).unref();
  };

  private fold(count: number): void {
    const n = Math.min(count, this.values.length);
    if (n === 0) return;
    const histogram = this.histogram();
    for (let i = 0; i < n; i++) histogram.observe(this.labels[i] as LabelValues<L>, this.values[i] as number);
    if (n === this.values.length) {
      this.labels = [];
      this.values = [];
    } else {
      this.labels.splice(0, n);
      this.values.splice(0, n);
    }
    if (this.values.length === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
