import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { StoredEvent } from '../protocol/events.js';
import { MemoryBus } from './memory.js';

function ev(session_id: string, seq: number): StoredEvent {
  return { session_id, seq, type: 'agent_choice', data: { content: String(seq) }, timestamp: '2024-01-01T00:00:00.000Z' };
}

describe('MemoryBus', () => {
  it('delivers synchronously, in order, only to listeners of the event session', () => {
    const bus = new MemoryBus();
    const a: string[] = [];
    const b: string[] = [];
    bus.subscribe('s1', (e) => a.push(`1:${e.seq}`));
    bus.subscribe('s1', (e) => a.push(`2:${e.seq}`));
    bus.subscribe('s2', (e) => b.push(`${e.session_id}:${e.seq}`));
    bus.publish([ev('s1', 1), ev('s2', 1), ev('s1', 2)]);
    expect(a).toEqual(['1:1', '2:1', '1:2', '2:2']);
    expect(b).toEqual(['s2:1']);
  });

  it("hands each listener its event's payload text, from the publish's parallel array", () => {
    const bus = new MemoryBus();
    const seen: Array<[number, string | undefined]> = [];
    bus.subscribe('s1', (e, json) => seen.push([e.seq, json]));
    bus.publish([ev('s1', 1), ev('s2', 1), ev('s1', 2)], ['{"content":"1"}', '{"content":"s2"}', undefined]);
    bus.publish([ev('s1', 3)]);
    expect(seen).toEqual([
      [1, '{"content":"1"}'],
      [2, undefined],
      [3, undefined],
    ]);
  });

  it('keeps delivering to other listeners when one throws, and logs it', () => {
    const logged: unknown[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const bus = new MemoryBus({ logger });
    const seen: number[] = [];
    bus.subscribe('s', () => {
      throw new Error('boom');
    });
    bus.subscribe('s', (e) => seen.push(e.seq));
    bus.publish([ev('s', 1), ev('s', 2)]);
    expect(seen).toEqual([1, 2]);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ session_id: 's', seq: 1, msg: 'bus listener threw' });
  });

  it('unsubscribes, and forgets sessions without listeners', async () => {
    const bus = new MemoryBus();
    const seen: number[] = [];
    const listener = (e: StoredEvent) => seen.push(e.seq);
    const off1 = await bus.subscribe('s', listener);
    const off2 = await bus.subscribe('s', listener);
    expect(bus.listenerCount('s')).toBe(2);
    bus.publish([ev('s', 1)]);
    off1();
    bus.publish([ev('s', 2)]);
    off2();
    off2();
    bus.publish([ev('s', 3)]);
    expect(seen).toEqual([1, 1, 2]);
    expect(bus.listenerCount('s')).toBe(0);
  });

  it('lets a listener unsubscribe itself during publish', async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    const off = await bus.subscribe('s', (e) => {
      seen.push(`a${e.seq}`);
      off();
    });
    bus.subscribe('s', (e) => seen.push(`b${e.seq}`));
    bus.publish([ev('s', 1), ev('s', 2)]);
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('skips a listener unsubscribed by another mid-publish; one subscribed mid-publish gets the events after', async () => {
    const bus = new MemoryBus();
    const seen: string[] = [];
    let offB: (() => void) | undefined;
    await bus.subscribe('s', (e) => {
      seen.push(`a${e.seq}`);
      if (e.seq === 1) {
        offB?.();
        void bus.subscribe('s', (l) => seen.push(`c${l.seq}`));
      }
    });
    offB = await bus.subscribe('s', (e) => seen.push(`b${e.seq}`));
    bus.publish([ev('s', 1), ev('t', 1), ev('s', 2)]);
    expect(seen).toEqual(['a1', 'a2', 'c2']);
    expect(bus.listenerCount('s')).toBe(2);
  });

  it('delivers nothing after close', async () => {
    const bus = new MemoryBus();
    const seen: number[] = [];
    bus.subscribe('s', (e) => seen.push(e.seq));
    await bus.close();
    bus.publish([ev('s', 1)]);
    (await bus.subscribe('s', (e) => seen.push(e.seq)))();
    expect(seen).toEqual([]);
  });
});
