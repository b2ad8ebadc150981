import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineSweep } from './deadlines.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const sweepOnFakeClock = (): DeadlineSweep => new DeadlineSweep(() => Date.now());

describe('DeadlineSweep', () => {
  it('fires each deadline at its time, earliest first, whatever the order they were added in', () => {
    const sweep = sweepOnFakeClock();
    const fired: string[] = [];
    sweep.add(300, () => fired.push('c'));
    sweep.add(100, () => fired.push('a'));
    sweep.add(200, () => fired.push('b'));
    sweep.add(200, () => fired.push('b2'));
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
    vi.advanceTimersByTime(100);
    expect(fired.slice(1).sort()).toEqual(['b', 'b2']);
    vi.advanceTimersByTime(100);
    expect(fired.at(-1)).toBe('c');
    expect(sweep.size).toBe(0);
  });

  it('never fires a cleared deadline, and clearing twice or after it fired is harmless', () => {
    const sweep = sweepOnFakeClock();
    const fired: string[] = [];
    const a = sweep.add(100, () => fired.push('a'));
    const b = sweep.add(150, () => fired.push('b'));
    a.clear();
    a.clear();
    vi.advanceTimersByTime(200);
    expect(fired).toEqual(['b']);
    b.clear();
    expect(sweep.size).toBe(0);
  });

  it('keeps one timer for many calls that each finish before their limit', () => {
    const sweep = sweepOnFakeClock();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 1000; i++) {
      vi.advanceTimersByTime(1);
      sweep.add(135_000, () => expect.unreachable('cleared')).clear();
    }
    expect(spy).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(1);
    // The armed timer fires with nothing due and, with nothing pending, is not armed again.
    vi.advanceTimersByTime(135_000);
    expect(vi.getTimerCount()).toBe(0);
    spy.mockRestore();
  });

  it('re-arms for a deadline earlier than the armed one, and keeps the later ones', () => {
    const sweep = sweepOnFakeClock();
    const fired: number[] = [];
    sweep.add(135_000, () => fired.push(Date.now()));
    sweep.add(7_000, () => fired.push(Date.now()));
    vi.advanceTimersByTime(200_000);
    expect(fired).toEqual([7_000, 135_000]);
  });

  it('agrees with a plain list on random adds, clears and time steps', () => {
    const sweep = sweepOnFakeClock();
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const fired: number[] = [];
    const expected: Array<{ id: number; at: number }> = [];
    const live = new Map<number, { clear(): void; at: number }>();
    for (let id = 0; id < 2000; id++) {
      const op = random(10);
      if (op < 5) {
        const ms = 1 + random(500);
        live.set(id, { ...sweep.add(ms, () => fired.push(id)), at: Date.now() + ms });
      } else if (op < 8 && live.size > 0) {
        const keys = [...live.keys()];
        const key = keys[random(keys.length)]!;
        live.get(key)?.clear();
        live.delete(key);
      } else {
        const step = random(200);
        const until = Date.now() + step;
        for (const [key, entry] of live) if (entry.at <= until) {
          expected.push({ id: key, at: entry.at });
          live.delete(key);
        }
        vi.advanceTimersByTime(step);
      }
      // What fired so far is exactly what was due, in deadline order.
      expect(new Set(fired)).toEqual(new Set(expected.map((e) => e.id)));
    }
    const ats = new Map(expected.map((e) => [e.id, e.at]));
    const order = fired.map((id) => ats.get(id)!);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    expect(sweep.size).toBe(live.size);
  });
});
