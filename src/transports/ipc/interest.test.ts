import { afterEach, describe, expect, it } from 'vitest';
import { Subscriber, XPublisher } from 'zeromq';
import { silentLogger } from '../../core/logger.js';
import { decodePublication } from '../../protocol/pando-bus.js';
import { SubscriptionInterest } from './interest.js';
import { BusPublisher } from './publisher.js';

const sub = (flag: 0 | 1, prefix: string): Buffer => Buffer.concat([Buffer.from([flag]), Buffer.from(prefix)]);

describe('SubscriptionInterest (prefixes as ZeroMQ matches them)', () => {
  const interest = (): SubscriptionInterest => new SubscriptionInterest({ [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => undefined) }) } as unknown as XPublisher);

  it('wants nothing until something is subscribed, then what a prefix of `topic\\0` or a longer prefix matches', () => {
    const i = interest();
    expect(i.wants('llm.token')).toBe(false);
    i.apply(sub(1, 'llm.'));
    expect(i.wants('llm.token')).toBe(true);
    expect(i.wants('instance.heartbeat')).toBe(false);
    // A prefix reaching into the envelope cannot be decided by the topic: it counts as wanted.
    i.apply(sub(1, 'session.update\0{"instanceId":"x'));
    expect(i.wants('session.update')).toBe(true);
    expect(i.wants('session.updates')).toBe(false);
    i.apply(sub(0, 'llm.'));
    expect(i.wants('llm.token')).toBe(false);
    i.apply(sub(1, ''));
    expect(i.wants('instance.heartbeat')).toBe(true);
    // Not a subscription message: ignored.
    i.apply(Buffer.from('xyz'));
    expect(i.wants('llm.token')).toBe(true);
  });
});

describe('BusPublisher on an XPUB with real subscribers', () => {
  const closers: Array<() => void> = [];
  afterEach(() => {
    for (const c of closers.splice(0)) c();
  });

  it('builds no frame nobody subscribed to, delivers what a subscriber asked for, and stops when it leaves', async () => {
    const xpub = new XPublisher({ linger: 0 });
    closers.push(() => xpub.close());
    await xpub.bind('tcp://127.0.0.1:*');
    const interest = new SubscriptionInterest(xpub);
    const changed = (): Promise<void> => new Promise((resolve) => { const off = interest.onChange(() => { off(); resolve(); }); });
    const pub = new BusPublisher(xpub, 'inst', silentLogger, 100, interest);

    pub.publish('llm.token', { session_id: 's', token: 'unheard' }, 's');
    expect(pub.stats).toMatchObject({ sent: 0, skipped: 1 });

    const s = new Subscriber({ linger: 0 });
    closers.push(() => s.close());
    const subscribedNow = changed();
    s.connect(xpub.lastEndpoint!);
    s.subscribe('llm.');
    await subscribedNow;
    pub.publish('instance.heartbeat', { instance_id: 'inst', session_count: 0, uptime: '0s', started_at: '' });
    pub.publish('llm.token', { session_id: 's', token: 'heard' }, 's');
    expect(pub.stats).toMatchObject({ sent: 1, skipped: 2 });
    const [frame] = await s.receive();
    const got = decodePublication(frame!);
    expect(got?.topic).toBe('llm.token');
    expect(got?.envelope.payload).toMatchObject({ token: 'heard' });

    const left = changed();
    s.close();
    await left;
    pub.publish('llm.token', { session_id: 's', token: 'gone' }, 's');
    expect(pub.stats).toMatchObject({ sent: 1, skipped: 3 });
  });
});
