import { describe, expect, it, vi } from 'vitest';
import { XSubscriber } from 'zeromq';
import { GoSub, startBusTower, subscribed } from '../../../test/support/fake-pando-clients.js';
import { encodePublication, rfc3339Nano } from '../../protocol/pando-bus.js';
import { FrameBuilder } from './publisher.js';
import { Subscriptions } from './subscriptions.js';

const sub = (prefix: string): Buffer => Buffer.concat([Buffer.from([1]), Buffer.from(prefix)]);
const unsub = (prefix: string): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(prefix)]);

describe('Subscriptions (what the XPUB socket reports)', () => {
  it('matches topics by prefix, follows unsubscriptions and ignores junk', () => {
    const s = new Subscriptions();
    expect(s.wants('llm.token')).toBe(false);
    expect(s.apply(sub('llm.'))).toBe(true);
    expect(s.wants('llm.token')).toBe(true);
    expect(s.wants('session.list')).toBe(false);
    expect(s.apply(sub(''))).toBe(true);
    expect(s.wants('session.list')).toBe(true);
    expect(s.apply(unsub(''))).toBe(true);
    expect(s.wants('session.list')).toBe(false);
    expect(s.wants('llm.end')).toBe(true);
    for (const junk of [Buffer.alloc(0), Buffer.from('llm.token\0{}'), Buffer.from([2, 0x6c])]) expect(s.apply(junk)).toBe(false);
    expect(s.size).toBe(1);
    expect(s.apply(unsub('llm.'))).toBe(true);
    expect(s.wants('llm.token')).toBe(false);
  });
});

describe('FrameBuilder', () => {
  it('builds exactly the bytes encodePublication gives, with and without a session id', () => {
    vi.useFakeTimers({ now: new Date('2026-03-04T05:06:07.890Z'), toFake: ['Date'] });
    try {
      const frames = new FrameBuilder('inst-"1"');
      const cases: Array<[string, unknown, string | undefined]> = [
        ['llm.token', { session_id: 's1', token: 'héllo "quoted" \u2028 \n' }, 's1'],
        ['instance.heartbeat', { instance_id: 'i', session_count: 3, uptime: '1s', started_at: 'x' }, undefined],
        ['session.list', { sessions: [] }, ''],
        ['llm.token', { session_id: 's2', token: '' }, 's2'],
      ];
      for (const [topic, payload, sessionId] of cases) {
        const expected = encodePublication({
          instanceId: 'inst-"1"', projectId: '', ...(sessionId ? { sessionId } : {}), topic, timestamp: rfc3339Nano(), payload,
        });
        expect(frames.build(topic, payload, sessionId)).toBe(expected);
      }
      // A new millisecond gives a new timestamp.
      vi.setSystemTime(new Date('2026-03-04T05:06:08.000Z'));
      expect(frames.build('llm.start', { session_id: 's' }, 's')).toContain('"timestamp":"2026-03-04T05:06:08Z"');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the bus builds no frame for topics nobody subscribed to', () => {
  it('publishes only what a subscriber wants, stops when it leaves, and shrugs off junk from peers', async () => {
    const t = await startBusTower();
    const junk = new XSubscriber({ linger: 0 });
    const closing: Array<() => unknown> = [() => junk.close(), () => t.close()];
    try {
      const { commands, log } = t.tower;
      const session = await commands.execute('sessions.create', { title: 'quiet' });
      await t.bus.topics.settled();
      // Taps run before an append resolves: once it has, the publisher has decided.
      const token = async (text: string): Promise<number> => {
        await log.append(session.id, { type: 'agent_choice', data: { content: text } });
        return t.bus.publisher.stats.sent;
      };
      // Nobody listens: neither the session's creation nor its tokens were built into frames.
      expect(await token('unheard')).toBe(0);

      // A peer that sends junk on the PUB side (no subscription prefix, several frames) changes nothing.
      junk.connect(t.pub);
      await junk.send('not a subscription');
      await junk.send([Buffer.from([7]), 'two frames']);

      const s = GoSub.connect(t.pub, 'llm.');
      closing.unshift(() => s.close());
      for (let i = 0; s.of('llm.token').length === 0; i++) {
        if (i > 200) throw new Error('llm.token never arrived');
        await token(`heard ${i}`);
        await s.until((all) => all.some((p) => p.topic === 'llm.token'), 50).catch(() => undefined);
      }
      await token('one more');
      const sent = t.bus.publisher.stats.sent;
      await s.until((all) => all.length === sent, 5_000, 'every frame built');
      expect(s.received.every((p) => p.topic.startsWith('llm.'))).toBe(true);
      expect(s.dropped).toHaveLength(0);
      // A rename gives session.update and session.list: nobody wants them, so nothing is built.
      await commands.execute('sessions.update', { session_id: session.id, title: 'renamed' });
      await t.bus.topics.settled();
      expect(t.bus.publisher.stats.sent).toBe(sent);

      // A subscriber to everything gets them.
      const all = GoSub.connect(t.pub);
      closing.unshift(() => all.close());
      await subscribed(all, t.bus);
      await commands.execute('sessions.update', { session_id: session.id, title: 'renamed again' });
      await all.until((got) => got.some((p) => p.topic === 'session.list'), 5_000, 'session.list');

      // Once both are gone (the XPUB reports the last unsubscription on disconnect), nothing is built again.
      await closing.shift()!();
      await closing.shift()!();
      const deadline = Date.now() + 10_000;
      for (let before = -1, now = t.bus.publisher.stats.sent; before !== now; now = await token('unheard again')) {
        if (Date.now() > deadline) throw new Error('still publishing after every subscriber left');
        before = now;
      }
    } finally {
      for (const c of closing) await c();
    }
  });
});
