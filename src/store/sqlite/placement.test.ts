import { describe, expect, it } from 'vitest';
import { CommitPlacement, LoopLoad, spans, type LoadSignal, type ThreadView } from './placement.js';

/** A load signal the test sets; counts how often the policy looked at it. */
class FixedLoad implements LoadSignal {
  reads = 0;
  constructor(public value: number) {}
  load(): number {
    this.reads++;
    return this.value;
  }
}

/** A thread's state as the policy sees it; counts the starts it asked for. */
const view = (over: Partial<Omit<ThreadView, 'prestart'>> = {}): ThreadView & { starts: number } => {
  const v = { broken: false, inFlight: 0, up: true, starts: 0, ...over, prestart: () => void v.starts++ };
  return v;
};
const up = view();
const wide = (n: number) => Array.from({ length: n }, (_, i) => ({ session_id: `s${i}` }));
const narrow = (n: number, sessions = 1) => Array.from({ length: n }, (_, i) => ({ session_id: `s${i % sessions}` }));

describe('commit placement', () => {
  it('keeps small commits inline on an idle loop and sends large ones to the thread', () => {
    const load = new FixedLoad(0.1);
    const p = new CommitPlacement(load, { minBatch: 256 });
    expect(p.place(wide(1), up)).toBe('inline');
    expect(p.place(wide(100), up)).toBe('inline');
    expect(p.place(wide(256), up)).toBe('thread');
    expect(p.place(narrow(300), up)).toBe('thread');
  });

  it('sends every commit to the thread while a thread batch is in flight, whatever its size or the load', () => {
    const p = new CommitPlacement(new FixedLoad(0), {});
    const busy = view({ inFlight: 1 });
    expect(p.place(wide(1), busy)).toBe('thread');
    expect(p.place(narrow(3), busy)).toBe('thread');
  });

  it('commits inline when the thread is not usable, even large batches', () => {
    const p = new CommitPlacement(new FixedLoad(1), {});
    const broken = view({ broken: true, inFlight: 2, up: false });
    expect(p.place(wide(1000), broken)).toBe('inline');
    expect(p.place(wide(10), broken)).toBe('inline');
  });

  it('moves commits spanning many sessions to the thread while the loop is saturated', () => {
    const load = new FixedLoad(0.9);
    const p = new CommitPlacement(load, { minSessions: 4, busyAbove: 0.75, idleBelow: 0.5 });
    expect(p.place(wide(4), up)).toBe('thread');
    expect(p.busy).toBe(true);
    expect(p.place(wide(150), up)).toBe('thread');
  });

  it('keeps a serial writer inline on a saturated loop: one or a few sessions per commit', () => {
    const load = new FixedLoad(1);
    const p = new CommitPlacement(load, { minSessions: 4 });
    // One entry: the load is not even read (the serial append path pays nothing for the policy).
    expect(p.place(wide(1), up)).toBe('inline');
    expect(load.reads).toBe(0);
    // A burst of one session (append concurrent), and of three.
    expect(p.place(narrow(100), up)).toBe('inline');
    expect(p.place(narrow(100, 3), up)).toBe('inline');
    expect(p.place(narrow(100, 4), up)).toBe('thread');
  });

  it('holds its decision between the two thresholds (no flapping once per window)', () => {
    const load = new FixedLoad(0.6);
    const p = new CommitPlacement(load, { busyAbove: 0.75, idleBelow: 0.5 });
    expect(p.place(wide(10), up)).toBe('inline');
    load.value = 0.8;
    expect(p.place(wide(10), up)).toBe('thread');
    load.value = 0.6;
    expect(p.place(wide(10), up)).toBe('thread');
    load.value = 0.49;
    expect(p.place(wide(10), up)).toBe('inline');
    expect(p.busy).toBe(false);
    load.value = 0.7;
    expect(p.place(wide(10), up)).toBe('inline');
  });

  it('asks for the thread instead of waiting for its start-up when saturated and the thread is not up', () => {
    const p = new CommitPlacement(new FixedLoad(1), {});
    const starting = view({ up: false });
    expect(p.place(wide(10), starting)).toBe('inline');
    expect(starting.starts).toBe(1);
    // A large batch still goes (it starts the thread itself, as before).
    expect(p.place(wide(300), starting)).toBe('thread');
    expect(starting.starts).toBe(1);
  });

  it('counts distinct sessions up to the bound', () => {
    expect(spans([], 1)).toBe(false);
    expect(spans(narrow(5), 1)).toBe(true);
    expect(spans(narrow(50, 2), 3)).toBe(false);
    expect(spans([...narrow(3, 1), ...wide(3)], 3)).toBe(true);
    // Interleaved repeats count once.
    expect(spans([{ session_id: 'a' }, { session_id: 'b' }, { session_id: 'a' }, { session_id: 'b' }], 3)).toBe(false);
  });
});

describe('loop load', () => {
  it("adds the thread's commit time in the window to the loop's own utilisation, clamped to 1", () => {
    let threadMs = 0;
    let now = 0;
    // Each call is one 100 ms window later.
    const load = new LoopLoad(() => threadMs, 100, () => (now += 100));
    threadMs += 50;
    expect(load.load()).toBeGreaterThanOrEqual(0.5);
    threadMs += 1e9;
    expect(load.load()).toBe(1);
    const idle = load.load();
    expect(idle).toBeGreaterThanOrEqual(0);
    expect(idle).toBeLessThanOrEqual(1);
  });

  it('keeps the last value until a window has passed', () => {
    let threadMs = 0;
    let now = 0;
    const load = new LoopLoad(() => threadMs, 100, () => now);
    threadMs += 1e9;
    now = 99;
    expect(load.load()).toBe(0);
    now = 100;
    expect(load.load()).toBe(1);
  });
});
