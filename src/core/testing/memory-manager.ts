import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Store } from '../../store/types.js';
import type { EventLog } from '../event-log/index.js';
import { silentLogger } from '../logger.js';
import { SessionManager } from '../sessions/index.js';
import { FakeExecutor, FakeStepper, finish, memoryLog, type FakeStep } from './fakes.js';

export interface MemoryManager {
  manager: SessionManager;
  store: Store;
  log: EventLog;
  /** Closes the log, then the store. */
  close(): Promise<void>;
}

/** The one model the manager knows (`fake/m`), as model lists give it. */
export const FAKE_MODELS = [{ id: 'fake/m', provider: 'fake', name: 'm' }];

/**
 * A real SessionManager over in-memory SQLite, with a scripted stepper (one "hello" step unless `steps`
 * says otherwise), a fake executor, the `fake/m` model and balanced permissions in a fresh working dir.
 */
export async function memoryManager(steps: FakeStep = () => [{ type: 'text', delta: 'hello' }, finish]): Promise<MemoryManager> {
  const { store, log } = await memoryLog();
  const manager = new SessionManager({
    store, log, logger: silentLogger,
    stepper: new FakeStepper(steps),
    executor: new FakeExecutor(),
    models: { has: (id) => id.startsWith('fake/'), list: () => FAKE_MODELS, cost: () => 0 },
    defaults: {
      workingDir: mkdtempSync(path.join(os.tmpdir(), 'tower-mem-')), model: 'fake/m', maxIterations: 5,
      permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false },
    },
  });
  return {
    manager, store, log,
    close: async () => {
      await log.close();
      await store.close();
    },
  };
}
