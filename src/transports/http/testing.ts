import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { CommandService } from '../../core/commands/index.js';
import { silentLogger } from '../../core/logger.js';
import type { Metrics } from '../../core/metrics/index.js';
import { SessionManager } from '../../core/sessions/index.js';
import { FakeExecutor, FakeStepper, finish, memoryLog, type FakeStep } from '../../core/testing/fakes.js';
import { createHttpApp } from './app.js';
import type { Readiness } from './deps.js';

export interface MemoryHttp {
  http: OpenAPIHono;
  manager: SessionManager;
  close(): Promise<void>;
}

/** The HTTP layer in memory (`app.request`), over a real manager, command service and in-memory SQLite. */
export async function memoryHttp(opts: { token?: string; metrics?: Metrics; steps?: FakeStep; readiness?: () => Promise<Readiness> } = {}): Promise<MemoryHttp> {
  const { store, log } = await memoryLog();
  const models = { list: () => [{ id: 'fake/m', provider: 'fake', name: 'm' }], defaultModel: 'fake/m' };
  const manager = new SessionManager({
    store, log, logger: silentLogger,
    stepper: new FakeStepper(opts.steps ?? (() => [{ type: 'text', delta: 'hello' }, finish])),
    executor: new FakeExecutor(),
    models: { has: (id) => id.startsWith('fake/'), list: models.list, cost: () => 0 },
    defaults: {
      workingDir: mkdtempSync(path.join(os.tmpdir(), 'tower-http-')), model: 'fake/m', maxIterations: 5,
      permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false },
    },
  });
  const commands = new CommandService({ manager, models });
  const http = createHttpApp({
    manager, commands, models, logger: silentLogger, version: 'test',
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.readiness ? { readiness: opts.readiness } : {}),
  });
  return {
    http,
    manager,
    close: async () => {
      await log.close();
      await store.close();
    },
  };
}
