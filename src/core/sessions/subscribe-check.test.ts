import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/index.js';
import type { Bus, BusListener, BusSubscribeOptions } from '../../bus/types.js';
import type { StoredEvent } from '../../protocol/events.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { ForwardingStore } from '../../store/testing/forwarding.js';
import type { Store } from '../../store/types.js';
import { EventLog, type EventSink } from '../event-log/index.js';
import type { SessionManager } from './session-manager.js';
import { testManager } from './testing/manager.js';

/** A lossy bus (network pub/sub in the small) that loses every publish carrying a `session_deleted`. */
class DeleteLosingBus implements Bus {
  readonly lossy = true;
  readonly inner = new MemoryBus();
  publish(events: readonly StoredEvent[]): Promise<void> {
    return events.some((e) => e.type === 'session_deleted') ? Promise.resolve() : this.inner.publish(events);
  }
  subscribe(sessionId: string, listener: BusListener, _opts?: BusSubscribeOptions): Promise<() => void> {
    return this.inner.subscribe(sessionId, listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Counts `lastSeq` queries. */
class CountingStore extends ForwardingStore {
  lastSeqCalls = 0;
  protected override call<T>(method: keyof Store, run: () => Promise<T>): Promise<T> {
    if (method === 'lastSeq') this.lastSeqCalls++;
    return run();
  }
}

const sink = (): EventSink => ({ onBatch: () => true });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tower-subcheck-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(bus: Bus): { manager: SessionManager; store: CountingStore; log: EventLog; close: () => Promise<void> } {
  const inner = openSqliteStore(path.join(dir, 'tower.db'));
  const store = new CountingStore(inner);
  const log = new EventLog(store, bus, { idleRecheckMs: 60_000 });
  const manager = testManager(store, log, dir);
  return { manager, store, log, close: async () => { await log.close(); await inner.close(); } };
}

describe('SessionManager.subscribeSink checks the session', () => {
  it('a lossy bus that lost the delete: a new subscriber of the deleted session gets unknown_session (404), not a subscription', async () => {
    const { manager, log, close } = setup(new DeleteLosingBus());
    const s = await manager.create({});
    // A subscriber already here keeps the session's live ring (and what it knows of the head) alive.
    const first = await manager.subscribeSink(s.id, 0, sink());
    await log.append(s.id, { type: 'agent_choice', data: { content: 'x' } });
    await manager.delete(s.id);
    await expect(manager.subscribeSink(s.id, 0, sink())).rejects.toMatchObject({ code: 'unknown_session' });
    first.close();
    await close();
  });

  it('on a lossy bus, subscribers connecting together share one store read of the head', async () => {
    const { manager, store, close } = setup(new DeleteLosingBus());
    const s = await manager.create({});
    const before = store.lastSeqCalls;
    const subs = await Promise.all(Array.from({ length: 20 }, () => manager.subscribeSink(s.id, 0, sink())));
    // One for the check; the subscriptions' own first reads go through the page cache, not lastSeq.
    expect(store.lastSeqCalls - before).toBe(1);
    for (const sub of subs) sub.close();
    await close();
  });

  it('on the in-process bus a connect burst past the first needs no store read of the head', async () => {
    const { manager, store, log, close } = setup(new MemoryBus());
    const s = await manager.create({});
    const first = await manager.subscribeSink(s.id, 0, sink());
    await log.append(s.id, { type: 'agent_choice', data: { content: 'x' } });
    const before = store.lastSeqCalls;
    const subs = await Promise.all(Array.from({ length: 20 }, () => manager.subscribeSink(s.id, 1, sink())));
    expect(store.lastSeqCalls - before).toBe(0);
    for (const sub of [first, ...subs]) sub.close();
    await manager.delete(s.id);
    await expect(manager.subscribeSink(s.id, 0, sink())).rejects.toMatchObject({ code: 'unknown_session' });
    await close();
  });
});
