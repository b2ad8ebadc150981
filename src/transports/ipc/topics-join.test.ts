import { describe, expect, it, vi } from 'vitest';
import type { SessionRecord } from '../../store/types.js';
import type { BusTower } from '../../../test/support/fake-pando-clients.js';
import { GoSub } from '../../../test/support/fake-pando-clients.js';
import { busRig } from './testing/bus-rig.js';

const rig = busRig();

/**
 * Holds the store's batch reads of session rows while `hold()` is on (a slow store, a Postgres round
 * trip): the reads then see what was committed after they were asked for. Counts the conversation reads.
 */
function gateRows(t: BusTower): { hold(): void; release(): void; conversationReads: string[] } {
  const { store, commands } = t.tower;
  const getSessions = store.getSessions.bind(store);
  let held: { promise: Promise<void>; open(): void } | undefined;
  vi.spyOn(store, 'getSessions').mockImplementation(async (ids): Promise<SessionRecord[]> => {
    if (held) await held.promise;
    return getSessions(ids);
  });
  const execute = commands.execute.bind(commands);
  const conversationReads: string[] = [];
  vi.spyOn(commands, 'execute').mockImplementation(((name: string, params: { session_id?: string }) => {
    if (name === 'sessions.messages') conversationReads.push(params.session_id ?? '');
    return execute(name as never, params as never);
  }) as typeof commands.execute);
  return {
    hold() {
      let open = (): void => undefined;
      const promise = new Promise<void>((resolve) => (open = resolve));
      held = { promise, open };
    },
    release() {
      held?.open();
      held = undefined;
    },
    conversationReads,
  };
}

const script = [{ text: 'first answer' }, { text: 'second answer' }, { text: 'third answer' }];

describe('a subscriber joining after turns nobody watched', () => {
  it('gets message.append for what is committed after it came, even when the join read sees it', async () => {
    const t = await rig.start({ script, bus: { list: { perSessionIntervalMs: 0, maxIntervalMs: 0 } } });
    const { commands, manager } = t.tower;
    const gate = gateRows(t);
    const turn = async (id: string, content: string): Promise<void> => {
      await commands.execute('sessions.send', { session_id: id, content });
      expect(await manager.waitIdle(id, 10_000)).toBe(true);
    };
    const a = await commands.execute('sessions.create', { title: 'alpha' });
    await t.bus.topics.settled();
    await turn(a.id, 'hello');
    await t.bus.topics.settled();

    // The join's read is slow: a whole turn commits (and is tapped) before it reads the row.
    gate.hold();
    const s = await rig.sub();
    await turn(a.id, 'again');
    gate.release();
    await t.bus.topics.settled();
    const updated = (): number | undefined => (s.of('session.update').at(-1)?.envelope.payload as { message_count?: number } | undefined)?.message_count;
    await s.until((all) => all.filter((p) => p.topic === 'message.append').length >= 2 && updated() === 4, 10_000, 'the turn after the join');
    expect(s.of('message.append').map((p) => p.envelope.payload.content)).toEqual(['again', 'second answer']);
  });

  it('does not replay what was committed before it came when a read begun for nobody ends after it came', async () => {
    const t = await rig.start({ script, bus: { list: { perSessionIntervalMs: 0, maxIntervalMs: 0 } } });
    const { commands, manager } = t.tower;
    const gate = gateRows(t);
    const a = await commands.execute('sessions.create', { title: 'alpha' });
    await t.bus.topics.settled();
    await commands.execute('sessions.send', { session_id: a.id, content: 'hello' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await t.bus.topics.settled();

    // A rename is read even while nobody watches (the list needs it); that read is under way when the subscriber comes.
    gate.hold();
    await commands.execute('sessions.update', { session_id: a.id, title: 'alpha renamed' });
    const s = await rig.sub();
    gate.release();
    await t.bus.topics.settled();
    // Then a turn after the join: announced, and only it.
    await commands.execute('sessions.send', { session_id: a.id, content: 'again' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await t.bus.topics.settled();
    await s.until((all) => all.filter((p) => p.topic === 'message.append').length >= 2, 10_000, 'the turn after the join');
    expect(s.of('message.append').map((p) => p.envelope.payload.content)).toEqual(['again', 'second answer']);
  });
});

describe('a subscriber of session topics only', () => {
  it('costs no conversation reads: message.append has nobody to go to', async () => {
    const t = await rig.start({ script, bus: { list: { perSessionIntervalMs: 0, maxIntervalMs: 0 } } });
    const { commands, manager } = t.tower;
    const gate = gateRows(t);
    const s = GoSub.connect(t.pub, 'session.');
    rig.cleanup(() => s.close());
    // The XPUB reports the prefix; wait for the bus to know it (an event, not a sleep).
    await new Promise<void>((resolve) => {
      if (t.bus.publisher.wants('session.update')) return resolve();
      const off = t.bus.publisher.onInterest(() => {
        if (!t.bus.publisher.wants('session.update')) return;
        off();
        resolve();
      });
    });
    const a = await commands.execute('sessions.create', { title: 'alpha' });
    await commands.execute('sessions.send', { session_id: a.id, content: 'hello' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await t.bus.topics.settled();
    const updated = (): number | undefined => (s.of('session.update').at(-1)?.envelope.payload as { message_count?: number } | undefined)?.message_count;
    await s.until(() => updated() === 2, 10_000, 'session.update with the turn');
    expect(gate.conversationReads).toEqual([]);
    expect(s.of('message.append')).toEqual([]);

    // A second subscriber, of everything: message.append continues from the store, nothing old replayed.
    const all = await rig.sub();
    await commands.execute('sessions.send', { session_id: a.id, content: 'again' });
    expect(await manager.waitIdle(a.id, 10_000)).toBe(true);
    await t.bus.topics.settled();
    await all.until((got) => got.filter((p) => p.topic === 'message.append').length >= 2, 10_000, 'the second turn');
    expect(all.of('message.append').map((p) => p.envelope.payload.content)).toEqual(['again', 'second answer']);
    expect(new Set(gate.conversationReads)).toEqual(new Set([a.id]));
  });
});
