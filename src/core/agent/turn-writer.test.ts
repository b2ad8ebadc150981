import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../event-log/index.js';
import { fixture, type Fixture } from '../event-log/test-helpers.js';
import { StepEnds } from './step-ends.js';
import { TurnWriter } from './turn-writer.js';

const SESSIONS = ['a', 'b', 'c', 'd', 'e'];

describe('TurnWriter wakes', () => {
  let f: Fixture;
  let log: EventLog;
  afterEach(async () => {
    await log.close();
    await f.dispose();
  });

  /**
   * Five turns whose ends share one commit: each records the macrotask turn (a counter a chain of
   * `setImmediate`s advances) in which its `commit` returned to it, and whether its `settle` waited.
   */
  async function endTogether(wakes: StepEnds | undefined): Promise<{ turns: number[]; order: string[] }> {
    f = await fixture(SESSIONS);
    log = new EventLog(f.store, f.bus);
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turns: number[] = [];
    const order: string[] = [];
    const writers = SESSIONS.map((id) => new TurnWriter(log, id, { wakes }));
    // Appends made in one tick share one transaction, so all five commits settle in one publish.
    await Promise.all(
      writers.map(async (w) => {
        await w.commit({ type: 'stream_stopped', data: { turn_id: w.sessionId, reason: 'normal' } });
        turns.push(turn);
        order.push(w.sessionId);
      }),
    );
    ticking = false;
    expect(f.store.commits).toHaveLength(1);
    return { turns, order };
  }

  it('without a pacer, every turn whose commit settled goes on in the same macrotask turn', async () => {
    const { turns } = await endTogether(undefined);
    expect(new Set(turns).size).toBe(1);
  });

  it('with a pacer, at most its allowance goes on per macrotask turn, the rest later and in order', async () => {
    const { turns, order } = await endTogether(new StepEnds(2));
    const perTurn = new Map<number, number>();
    for (const t of turns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
    expect(perTurn.size).toBeGreaterThanOrEqual(3);
    expect(order).toEqual(SESSIONS);
  });

  it('paces a settle that waited for a shared commit, not one with nothing to wait for', async () => {
    f = await fixture(SESSIONS);
    log = new EventLog(f.store, f.bus);
    const admits: string[] = [];
    const wakes = { admit: () => void admits.push('admit') };
    const writer = new TurnWriter(log, 'a', { wakes });
    await writer.settle();
    expect(admits).toEqual([]);
    writer.emit({ type: 'agent_choice', data: { content: 'x' } });
    await writer.settle();
    expect(admits).toEqual(['admit']);
  });
});
