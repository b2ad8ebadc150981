import { performance } from 'node:perf_hooks';

/** A deadline in a sweep; `clear` takes it out (a no-op once it fired or was cleared). */
export interface Deadline {
  clear(): void;
}

interface Entry extends Deadline {
  at: number;
  fire: () => void;
  /** Position in the heap; -1 once out of it. */
  index: number;
}

/**
 * One timer for many deadlines, earliest first (a binary min-heap). Remote tool calls each carry a time
 * limit (the tool's own plus slack, 135 s for most), and nearly all finish long before it, so a timer per
 * call is armed and cleared for nothing. Here the timer is armed for the earliest deadline and is left in
 * place when that one is cleared: it fires, finds nothing due, and is armed again for the earliest left.
 * A new deadline later than the armed time costs a heap insert only; an earlier one re-arms. While no
 * deadline is pending the timer is unref'd, so the sweep never keeps a process alive by itself.
 *
 * `fire` runs from the timer, in deadline order; a throw is the callback's own problem and is reported
 * (as any timer callback's would be) after the rest of the due ones ran.
 */
export class DeadlineSweep {
  private readonly heap: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (performance.now() ms); Infinity when none is armed. */
  private armedAt = Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Calls `fire` after `ms`, unless cleared first. */
  add(ms: number, fire: () => void): Deadline {
    const entry: Entry = { at: this.now() + ms, fire, index: this.heap.length, clear: () => this.remove(entry) };
    this.heap.push(entry);
    this.up(entry.index);
    if (entry.at < this.armedAt) this.arm(entry.at);
    else this.timer?.ref();
    return entry;
  }

  /** Pending deadlines (for tests and diagnostics). */
  get size(): number {
    return this.heap.length;
  }

  private remove(entry: Entry): void {
    const i = entry.index;
    if (i < 0) return;
    entry.index = -1;
    const last = this.heap.pop();
    if (last !== undefined && last !== entry) {
      this.heap[i] = last;
      last.index = i;
      this.down(i);
      this.up(last.index);
    }
    // The timer stays armed (clearing and re-arming per call is what this saves), but holds nothing alive.
    if (this.heap.length === 0) this.timer?.unref();
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = at;
    // At least 1 ms: a timer may fire a fraction of a millisecond before `now()` reaches `at`.
    this.timer = setTimeout(() => this.sweep(), Math.max(1, Math.ceil(at - this.now())));
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    const due: Entry[] = [];
    for (let head = this.heap[0]; head !== undefined && head.at <= now; head = this.heap[0]) {
      this.remove(head);
      due.push(head);
    }
    const next = this.heap[0];
    if (next) this.arm(next.at);
    let failure: { err: unknown } | undefined;
    for (const entry of due) {
      try {
        entry.fire();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure) throw failure.err;
  }

  private up(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.at <= entry.at) break;
      heap[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    heap[i] = entry;
    entry.index = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.at < heap[child]!.at) child += 1;
      const smaller = heap[child]!;
      if (smaller.at >= entry.at) break;
      heap[i] = smaller;
      smaller.index = i;
      i = child;
    }
    heap[i] = entry;
    entry.index = i;
  }
}
