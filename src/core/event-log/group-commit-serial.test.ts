import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from './event-log.js';
import { choice, fixture, type Fixture } from './test-helpers.js';

/**
 * A serial writer that awaits each append through an async frame (as the session code does): its next
 * append comes a few microtasks after the drain loop's last look, which used to cost a macrotask turn
 * (`setImmediate`) per append.
 */
describe('GroupCommit: the lone serial writer', () => {
  let f: Fixture;
  afterEach(async () => f.dispose());

  /** `append` behind an async helper that returns its promise (three microtasks more than awaiting it). */
  const viaHelper = (log: EventLog, sessionId: string, i: number) =>
    (async () => log.append(sessionId, choice(`e${i}`)))();

  it('is drained without a macrotask turn per append, one commit per append', async () => {
    f = await fixture(['s1']);
    // The time slice out of the way: the only turns are the ones the scheduling itself takes.
    const log = new EventLog(f.store, f.bus, { commits: { drainSliceMs: 60_000 } });
    await viaHelper(log, 's1', 0);
    // Queued while the drain loop runs: it runs at the loop's next macrotask turn.
    let turned = false;
    setImmediate(() => (turned = true));
    const turnsSeen: number[] = [];
    for (let i = 1; i <= 30; i++) {
      await viaHelper(log, 's1', i);
      if (turned) turnsSeen.push(i);
    }
    expect(turnsSeen).toEqual([]);
    expect(f.store.commits.map((c) => c.length)).toEqual(Array.from({ length: 31 }, () => 1));
    expect(await f.store.lastSeq('s1')).toBe(31);
    await log.close();
  });

  it('still gives the event loop a turn within the time slice', async () => {
    f = await fixture(['s1']);
    const log = new EventLog(f.store, f.bus);
    await viaHelper(log, 's1', 0);
    let turned = false;
    setImmediate(() => (turned = true));
    const cap = 20_000;
    let appended = 1;
    while (!turned && appended < cap) await viaHelper(log, 's1', appended++);
    expect(turned).toBe(true);
    expect(appended).toBeLessThan(cap);
    await log.close();
  });

  it('a second writer ends it: the two sessions\' appends share transactions as before', async () => {
    f = await fixture(['s1', 's2']);
    const log = new EventLog(f.store, f.bus, { commits: { drainSliceMs: 60_000 } });
    const writer = async (sessionId: string): Promise<void> => {
      for (let i = 0; i < 10; i++) await viaHelper(log, sessionId, i);
    };
    await Promise.all([writer('s1'), writer('s2')]);
    expect(f.store.commits.map((c) => c.map((e) => e.session_id).sort().join())).toEqual(Array.from({ length: 10 }, () => 's1,s2'));
    await log.close();
  });
});
