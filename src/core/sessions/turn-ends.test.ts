import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../bus/index.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { ForwardingStore } from '../../store/testing/forwarding.js';
import type { Store } from '../../store/types.js';
import { EventLog } from '../event-log/index.js';
import { testManager } from './testing/manager.js';

/** Counts reads of state rows (where the queues live). */
class CountingStore extends ForwardingStore {
  stateReads = 0;
  protected override call<T>(method: keyof Store, run: () => Promise<T>): Promise<T> {
    if (method === 'getState') this.stateReads++;
    return run();
  }
}

/** Every promise reaction queued so far has run (the drain after a turn is all promise reactions here). */
const afterReactions = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tower-turnends-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup() {
  const inner = openSqliteStore(path.join(dir, 'tower.db'));
  const store = new CountingStore(inner);
  const log = new EventLog(store, new MemoryBus());
  const manager = testManager(store, log, dir);
  return { manager, store, close: async () => { await log.close(); await inner.close(); } };
}

describe('the end of a turn', () => {
  it('drains an empty queue from the copy the turn held, without reading the queue rows again', async () => {
    const { manager, store, close } = setup();
    const s = await manager.create({});
    const before = store.stateReads;
    await manager.send(s.id, 'hello');
    const loaded = store.stateReads - before;
    expect(loaded).toBeGreaterThan(0); // the turn's start loads the queues
    expect(await manager.waitIdle(s.id, 10_000)).toBe(true);
    await afterReactions();
    expect(store.stateReads - before).toBe(loaded);
    // The copy was let go afterwards: the next turn loads the queues from the store again.
    await manager.send(s.id, 'again');
    expect(store.stateReads - before).toBe(2 * loaded);
    expect(await manager.waitIdle(s.id, 10_000)).toBe(true);
    await close();
  });
});
