import { describe, expect, it } from 'vitest';
import { charts, foldTelemetry, loadTelemetry, type TelemetryRecord, type TelemetryState } from './telemetry.js';

const rec = (id: string, tokens_out: number, cost: number): TelemetryRecord => ({
  pid: 1,
  instance_id: id,
  title: `title ${id}`,
  turns: 1,
  tokens_in: 0,
  tokens_out,
  cost,
  status: 'running',
  duration_sec: 0,
});

describe('telemetry fold and charts', () => {
  it('keeps readings that change, in time order, and ignores junk', () => {
    let s: TelemetryState = new Map();
    s = foldTelemetry(s, rec('a', 10, 0.1), 1000);
    s = foldTelemetry(s, rec('a', 10, 0.1), 2000);
    s = foldTelemetry(s, rec('a', 30, 0.2), 3000);
    s = foldTelemetry(s, rec('a', 50, 0.3), 2500);
    s = foldTelemetry(s, { instance_id: 'x' }, 4000);
    expect(s.get('a')?.readings).toEqual([{ t: 1, tokens: 10, cost: 0.1 }, { t: 3, tokens: 30, cost: 0.2 }]);
    expect(s.get('a')?.latest.tokens_out).toBe(50);
    expect(s.has('x')).toBe(false);
  });

  it('tokens per second from growth between readings; totals sum each session\'s latest reading', () => {
    let s = loadTelemetry(undefined, [rec('a', 0, 0), rec('b', 100, 1)], 10_000);
    s = foldTelemetry(s, rec('a', 40, 0.5), 12_000);
    s = foldTelemetry(s, rec('b', 130, 1.5), 13_000);
    const c = charts(s, 6);
    expect(c.x).toEqual([10, 12, 13]);
    expect(c.totalCost).toEqual([1, 1.5, 2]);
    expect(c.totalRate).toEqual([null, 20, 30]);
    const a = c.perSession.find((p) => p.id === 'a');
    expect(a?.rate).toEqual([null, 20, null]);
    expect(a?.cost).toEqual([0, 0.5, null]);
    expect(c.perSession.map((p) => p.id)).toEqual(['b', 'a']);
    expect(c.sum).toEqual({ tokens: 170, cost: 2 });
    expect(charts(s, 1).perSession).toHaveLength(1);
    // A later read keeps the history of listed sessions and drops the deleted.
    const reread = loadTelemetry(s, [rec('a', 40, 0.5)], 20_000);
    expect([...reread.keys()]).toEqual(['a']);
    expect(reread.get('a')?.readings).toHaveLength(2);
  });
});
