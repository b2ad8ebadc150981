/**
 * A mergeable log-bucketed latency histogram (1% relative precision, 1 µs .. 1000 s), so load generators
 * in several processes can ship their counts to the coordinator without keeping every sample.
 */
const MIN_MS = 0.001;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1e6 / MIN_MS) / LOG_GROWTH) + 2;

export interface HistogramData {
  /** Sparse [bucket, count] pairs. */
  buckets: Array<[number, number]>;
  n: number;
  sum: number;
  min: number;
  max: number;
  /** Samples below zero (clock skew between processes), recorded as 0. */
  negative: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  n = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  negative = 0;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    if (ms < 0) {
      this.negative++;
      ms = 0;
    }
    this.counts[bucketOf(ms)]! += 1;
    this.n++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /** Value at percentile p (0..100): the geometric middle of its bucket, clamped to the observed range. */
  percentile(p: number): number {
    if (this.n === 0) return NaN;
    const target = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= target) {
        const mid = i === 0 ? MIN_MS / 2 : MIN_MS * Math.pow(GROWTH, i - 0.5);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  get mean(): number {
    return this.n === 0 ? NaN : this.sum / this.n;
  }

  merge(data: HistogramData): this {
    for (const [i, c] of data.buckets) this.counts[i]! += c;
    this.n += data.n;
    this.sum += data.sum;
    this.negative += data.negative;
    if (data.n > 0) {
      this.min = Math.min(this.min, data.min);
      this.max = Math.max(this.max, data.max);
    }
    return this;
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { buckets, n: this.n, sum: this.sum, min: this.min, max: this.max, negative: this.negative };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}

function bucketOf(ms: number): number {
  if (ms < MIN_MS) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms / MIN_MS) / LOG_GROWTH));
}

/** Median of a small list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
