import type { OpenAPIHono } from '@hono/zod-openapi';
import { CommandService } from '../../core/commands/index.js';
import { silentLogger } from '../../core/logger.js';
import type { Metrics } from '../../core/metrics/index.js';
import type { SessionManager } from '../../core/sessions/index.js';
import type { FakeStep } from '../../core/testing/fakes.js';
import { FAKE_MODELS, memoryManager } from '../../core/testing/memory-manager.js';
import { createHttpApp } from './app.js';
import type { Readiness } from './deps.js';

export interface MemoryHttp {
  http: OpenAPIHono;
  manager: SessionManager;
  close(): Promise<void>;
}

/** The HTTP layer in memory (`app.request`), over a real manager, command service and in-memory SQLite. */
export async function memoryHttp(opts: { token?: string; metrics?: Metrics; steps?: FakeStep; readiness?: () => Promise<Readiness> } = {}): Promise<MemoryHttp> {
  const { manager, close } = await memoryManager(opts.steps);
  const models = { list: () => FAKE_MODELS, defaultModel: 'fake/m' };
  const commands = new CommandService({ manager, models });
  const http = createHttpApp({
    manager, commands, models, logger: silentLogger, version: 'test',
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.readiness ? { readiness: opts.readiness } : {}),
  });
  return { http, manager, close };
}
