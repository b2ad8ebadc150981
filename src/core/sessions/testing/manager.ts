import type { Store } from '../../../store/types.js';
import type { EventLog } from '../../event-log/index.js';
import { silentLogger } from '../../logger.js';
import { FakeExecutor, FakeStepper, finish } from '../../testing/fakes.js';
import { SessionManager } from '../session-manager.js';

/** A SessionManager for tests: every turn answers "hi" and stops, tools are fakes, nothing asks a person. */
export function testManager(store: Store, log: EventLog, workingDir: string): SessionManager {
  return new SessionManager({
    store, log, logger: silentLogger,
    stepper: new FakeStepper(() => [{ type: 'text', delta: 'hi' }, finish]),
    executor: new FakeExecutor(),
    models: { has: () => true, list: () => [], cost: () => 0 },
    defaults: { workingDir, model: 'fake/m', maxIterations: 2, permissions: { allow: [], ask: [], deny: [], policy: 'autonomous', auto_approve: false } },
  });
}
