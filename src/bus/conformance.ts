import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../protocol/events.js';
import type { Bus, BusListener } from './types.js';

/**
 * The behaviour every Bus must show. A backend's test file calls `describeBusConformance` with a factory
 * returning a fresh bus per call; buses one test opens may share one transport (for a network bus: two
 * nodes of one cluster), which `opts.shared` declares; buses of different tests must never meet.
 */
export interface BusConformanceOptions {
  /** Buses opened by one test reach each other (network buses); in-process buses do not. */
  shared?: boolean;
}

export function busEvent(session_id: string, seq: number): StoredEvent {
  return { session_id, seq, type: 'agent_choice', data: { content: `c${seq}` }, timestamp: '2024-05-01T10:00:00.000Z' };
}

/** Records what one listener received; `until` resolves once it holds `n` events (never on a sleep). */
export class Collector {
  readonly events: StoredEvent[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  readonly listener: BusListener = (event) => {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (this.events.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  until(n: number): Promise<void> {
    if (this.events.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  get seqs(): number[] {
    return this.events.map((e) => e.seq);
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `open(test)`: `test` is the same for every bus one test opens, and new for every test. */
export function describeBusConformance(name: string, open: (test: number) => Promise<Bus>, opts: BusConformanceOptions = {}): void {
  describe(`Bus conformance: ${name}`, () => {
    const opened: Bus[] = [];
    let test = 0;
    beforeEach(() => {
      test++;
    });
    const fresh = async (): Promise<Bus> => {
      const bus = await open(test);
      opened.push(bus);
      return bus;
    };
    afterEach(async () => {
      for (const bus of opened.splice(0).reverse()) await bus.close();
    });

    it('delivers what is published once subscribe has resolved, in seq order per session', async () => {
      const bus = await fresh();
      const c = new Collector();
      await bus.subscribe('s', c.listener);
      // Published at once after the resolve: an "active" subscription must not miss these.
      for (let from = 1; from <= 300; from += 30) await bus.publish(range(from, from + 29).map((n) => busEvent('s', n)));
      await c.until(300);
      expect(c.seqs).toEqual(range(1, 300));
      expect(c.events[0]).toEqual(busEvent('s', 1));
    });

    it('keeps many sessions apart, each in order, from interleaved batches', async () => {
      const bus = await fresh();
      const ids = Array.from({ length: 40 }, (_, i) => `session-${i}`);
      const collectors = new Map(ids.map((id) => [id, new Collector()]));
      await Promise.all(ids.map((id) => bus.subscribe(id, (collectors.get(id) as Collector).listener)));
      for (let seq = 1; seq <= 10; seq++) await bus.publish(ids.map((id) => busEvent(id, seq)));
      for (const [id, c] of collectors) {
        await c.until(10);
        expect(c.seqs).toEqual(range(1, 10));
        expect(c.events.every((e) => e.session_id === id)).toBe(true);
      }
    });

    it('fans out to every listener of a session, and a listener that throws does not stop the others', async () => {
      const bus = await fresh();
      const a = new Collector();
      const b = new Collector();
      await bus.subscribe('s', () => {
        throw new Error('listener bug');
      });
      await bus.subscribe('s', a.listener);
      await bus.subscribe('s', a.listener);
      await bus.subscribe('s', b.listener);
      await bus.publish([busEvent('s', 1), busEvent('s', 2)]);
      await a.until(4);
      await b.until(2);
      // The same function subscribed twice is two subscriptions.
      expect(a.seqs).toEqual([1, 1, 2, 2]);
      expect(b.seqs).toEqual([1, 2]);
    });

    it('unsubscribe stops delivery to that listener only; it is idempotent; resubscribing works', async () => {
      const bus = await fresh();
      const gone = new Collector();
      const stays = new Collector();
      const off = await bus.subscribe('s', gone.listener);
      await bus.subscribe('s', stays.listener);
      await bus.publish([busEvent('s', 1)]);
      await gone.until(1);
      off();
      off();
      await bus.publish([busEvent('s', 2)]);
      // `stays` seeing 2 proves 2 went through the bus; `gone` must not have it.
      await stays.until(2);
      expect(gone.seqs).toEqual([1]);

      // Every listener of a session gone, then a new one: the session's channel must work again.
      const only = new Collector();
      const offAll = await bus.subscribe('t', only.listener);
      offAll();
      const again = new Collector();
      await bus.subscribe('t', again.listener);
      await bus.publish([busEvent('t', 1)]);
      await again.until(1);
      await stays.until(2);
      expect(only.seqs).toEqual([]);
      expect(again.seqs).toEqual([1]);
    });

    it('an unsubscribe made before subscribe resolved still takes effect', async () => {
      const bus = await fresh();
      const early = new Collector();
      const witness = new Collector();
      const pending = bus.subscribe('s', early.listener);
      await bus.subscribe('s', witness.listener);
      (await pending)();
      await bus.publish([busEvent('s', 1)]);
      await witness.until(1);
      expect(early.seqs).toEqual([]);
    });

    it.runIf(opts.shared === true)('reaches subscribers on another bus of the same cluster', async () => {
      const a = await fresh();
      const b = await fresh();
      const onB = new Collector();
      const onA = new Collector();
      await b.subscribe('s', onB.listener);
      await a.subscribe('s', onA.listener);
      await a.publish([busEvent('s', 1), busEvent('s', 2)]);
      await b.publish([busEvent('s', 3)]);
      await onB.until(3);
      await onA.until(3);
      expect(onB.seqs).toEqual([1, 2, 3]);
      expect(onA.seqs).toEqual([1, 2, 3]);
    });

    it('after close delivers nothing, and publish and subscribe settle instead of hanging', async () => {
      const bus = await fresh();
      const c = new Collector();
      await bus.subscribe('s', c.listener);
      await bus.close();
      await bus.publish([busEvent('s', 1)]).catch(() => undefined);
      const late = await bus.subscribe('s', c.listener).then(
        (off) => off,
        () => undefined,
      );
      late?.();
      // A second close is harmless.
      await bus.close();
      expect(c.seqs).toEqual([]);
    });
  });
}
