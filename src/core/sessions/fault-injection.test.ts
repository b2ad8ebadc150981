import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/index.js';
import { TowerError } from '../../protocol/errors.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { ForwardingStore } from '../../store/testing/forwarding.js';
import type { Store } from '../../store/types.js';
import { EventLog } from '../event-log/index.js';
import { silentLogger } from '../logger.js';
import { FakeExecutor, FakeStepper, finish } from '../testing/fakes.js';
import { SessionManager } from './session-manager.js';

/** Forwards to a real store and throws a driver-like error on the Nth call after `failAt(n)`. */
class FailingStore extends ForwardingStore {
  private countdown = 0;
  failures = 0;

  failAt(n: number): void {
    this.countdown = n;
  }

  protected override call<T>(method: keyof Store, run: () => Promise<T>): Promise<T> {
    if (this.countdown > 0 && --this.countdown === 0) {
      this.failures++;
      return Promise.reject(new TowerError('internal', `sqlite: injected failure in ${method}`));
    }
    return run();
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
let dir: string;
beforeEach(() => {
  process.on('unhandledRejection', onUnhandled);
  dir = mkdtempSync(path.join(os.tmpdir(), 'tower-faults-'));
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  rmSync(dir, { recursive: true, force: true });
});

function manager(store: Store, log: EventLog): SessionManager {
  return new SessionManager({
    store, log, logger: silentLogger,
    stepper: new FakeStepper((_req, i) =>
      i % 2 === 0
        ? [{ type: 'text', delta: 'calling' }, { type: 'tool_call', id: `c${i}`, name: 'echo', args: {} }, finish]
        : [{ type: 'text', delta: 'done' }, finish],
    ),
    executor: new FakeExecutor(),
    models: { has: () => true, list: () => [], cost: () => 0 },
    defaults: { workingDir: dir, model: 'fake/m', maxIterations: 6, permissions: { allow: [], ask: [], deny: [], policy: 'autonomous', auto_approve: false } },
  });
}

describe('core/sessions under store failures', () => {
  // Every call position of a create + send + follow-up + steer + status flow fails once, in turn.
  for (let n = 1; n <= 40; n += 3) {
    it(`survives a store failure at call ${n} and the session stays usable`, async () => {
      const store = new FailingStore(openSqliteStore(':memory:'));
      const log = new EventLog(store, new MemoryBus());
      const m = manager(store, log);
      await m.start();
      const s = await m.create();
      store.failAt(n);
      await Promise.allSettled([
        m.send(s.id, 'first'),
        m.control.followup(s.id, ['queued'], 'k1'),
        m.control.steer(s.id, ['steer']),
        m.control.status(s.id),
      ]);
      // Let whatever the failure started finish (turns, drains) before using the session again.
      for (let i = 0; i < 50 && m.active.turn(s.id); i++) await m.waitIdle(s.id, 1000);
      await log.flush();
      for (let i = 0; i < 50 && m.active.turn(s.id); i++) await m.waitIdle(s.id, 1000);

      store.failAt(0);
      const again = await m.send(s.id, 'after the failure').catch(async (err: unknown) => {
        // A queued follow-up may have taken the session first: wait for it and try once more.
        if (err instanceof TowerError && err.code === 'session_busy') {
          await m.waitIdle(s.id, 5000);
          return m.send(s.id, 'after the failure');
        }
        throw err;
      });
      expect(again.turn_id).toMatch(/^turn_/);
      await m.waitIdle(s.id, 5000);
      await log.flush();
      const events = await store.readEvents(s.id, 0, 10_000);
      const asked = events.findLastIndex((e) => e.type === 'user_message' && e.data.content === 'after the failure');
      expect(asked).toBeGreaterThan(0);
      expect(events.slice(asked).map((e) => e.type)).toContain('stream_stopped');
      expect(unhandled).toEqual([]);
      await m.shutdown();
      await log.close();
      await store.close();
    });
  }

  // Fork copies history and appends `session_forked`: one transaction, so a failure leaves no half fork.
  for (let n = 1; n <= 5; n++) {
    it(`a fork failing at store call ${n} leaves either no new session or a whole one`, async () => {
      const store = new FailingStore(openSqliteStore(':memory:'));
      const log = new EventLog(store, new MemoryBus());
      const m = manager(store, log);
      await m.start();
      const s = await m.create();
      for (const text of ['one', 'two']) {
        await m.send(s.id, text);
        await m.waitIdle(s.id, 5000);
      }
      const second = (await store.listMessages(s.id)).filter((x) => x.message.role === 'user')[1];
      if (!second) throw new Error('no second user message');
      const before = new Set(await store.listSessionIds());
      const tapped: string[] = [];
      log.tap((events) => tapped.push(...events.map((e) => `${e.session_id}:${e.seq}:${e.type}`)));
      store.failAt(n);
      const forked = await m.fork(s.id, second.index).catch(() => undefined);
      await log.flush();
      store.failAt(0);
      const made = (await store.listSessionIds()).filter((id) => !before.has(id));
      expect(made).toEqual(forked ? [forked.id] : []);
      for (const id of made) {
        const events = await store.readEvents(id, 0, 10_000);
        expect(events.at(-1)).toMatchObject({ type: 'session_forked', data: { from_session_id: s.id } });
        expect((await store.getSession(id))?.last_event_seq).toBe(events.length);
        // Published like an append of it: the one new event, not the copied history.
        expect(tapped).toEqual([`${id}:${events.length}:session_forked`]);
        expect(forked?.last_event_seq).toBe(events.length);
      }
      if (!forked) expect(tapped).toEqual([]);
      expect(unhandled).toEqual([]);
      await m.shutdown();
      await log.close();
      await store.close();
    });
  }

  it('a failing drain at start-up is logged, not thrown, and the queue runs later', async () => {
    const inner = openSqliteStore(path.join(dir, 'tower.db'));
    const store = new FailingStore(inner);
    const log = new EventLog(store, new MemoryBus());
    const m = manager(store, log);
    const s = await m.create();
    await inner.setState(s.id, 'queue:followup', JSON.stringify([{ item_id: 'q_1', content: 'left over', queued_at: new Date().toISOString() }]));
    store.failAt(3);
    await m.start();
    expect(unhandled).toEqual([]);
    await m.control.followup(s.id, ['and this']);
    for (let i = 0; i < 20; i++) {
      await m.waitIdle(s.id, 5000);
      if ((await m.control.queue(s.id)).followup.depth === 0 && !m.active.turn(s.id)) break;
    }
    const users = (await store.readEvents(s.id, 0, 10_000)).filter((e) => e.type === 'user_message').map((e) => e.data.content);
    expect(users).toEqual(['left over', 'and this']);
    await m.shutdown();
    await log.close();
    await store.close();
  });
});
