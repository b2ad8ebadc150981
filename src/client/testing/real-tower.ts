import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TowerClient } from '../index.js';
import { silentLogger } from '../../core/logger.js';
import type { StepPart, StepRequest } from '../../core/models/types.js';
import { CommandService } from '../../core/commands/index.js';
import { SessionManager } from '../../core/sessions/index.js';
import { FakeExecutor, FakeStepper, finish, memoryLog, usage } from '../../core/testing/fakes.js';
import type { Permissions } from '../../protocol/session.js';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createHttpApp, listenHttp, type HttpServer } from '../../transports/http/index.js';

/**
 * The real HTTP app (createHttpApp over a real SessionManager and in-memory SQLite) on a real port, with
 * a scripted stepper instead of a model: what the SDK and CLI tests talk to, so they test against the
 * server itself rather than a stand-in that can drift from it.
 */
export interface RealTower {
  url: string;
  token: string | undefined;
  client: TowerClient;
  manager: SessionManager;
  /** Every request `client` made, in order, as the server received it. */
  requests: RecordedRequest[];
  /** What the next model steps answer; change it per test. Default: one text step, "hello". */
  steps: (req: StepRequest, index: number) => StepPart[] | AsyncIterable<StepPart>;
  /**
   * Makes every model step wait until `release()` is called (or the turn is aborted): a turn that stays
   * running for as long as the test needs, with no timing involved.
   */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export interface RealTowerOptions {
  token?: string;
  permissions?: Partial<Permissions>;
}

const MODELS = [
  { id: 'fake/m', provider: 'fake', name: 'm' },
  { id: 'fake/other', provider: 'fake', name: 'other' },
];

export async function startRealTower(options: RealTowerOptions = {}): Promise<RealTower> {
  const { store, log } = await memoryLog();
  const workingDir = mkdtempSync(path.join(os.tmpdir(), 'tower-real-'));
  let gate: { promise: Promise<void>; open(): void } | undefined;
  const rig = {} as RealTower;
  rig.steps = () => [{ type: 'text', delta: 'hello' }, finish];
  const stepper = new FakeStepper((req, index) => {
    const current = gate;
    if (!current) return rig.steps(req, index);
    return (async function* held() {
      await Promise.race([current.promise, new Promise((resolve) => req.signal.addEventListener('abort', resolve, { once: true }))]);
      yield* await Promise.resolve(rig.steps(req, index));
    })();
  });
  const manager = new SessionManager({
    store,
    log,
    logger: silentLogger,
    stepper,
    executor: new FakeExecutor(async (_name, args) => ({ output: `ran ${JSON.stringify(args)}`, is_error: false })),
    models: { has: (id) => MODELS.some((m) => m.id === id), list: () => MODELS, cost: () => 0 },
    defaults: {
      workingDir,
      model: 'fake/m',
      maxIterations: 5,
      permissions: { allow: [], ask: [], deny: [], policy: 'balanced', auto_approve: false, ...options.permissions },
    },
  });
  await manager.start();
  const models = { list: () => MODELS, defaultModel: 'fake/m' };
  const app = createHttpApp({
    manager,
    commands: new CommandService({ manager, models }),
    models,
    logger: silentLogger,
    version: 'test',
    ...(options.token ? { token: options.token } : {}),
  });
  const requests: RecordedRequest[] = [];
  // Every request as the server received it, recorded before the app handles it: tests check what the
  // SDK or the CLI sent.
  const recorded = Object.create(app) as OpenAPIHono;
  recorded.fetch = async (request: Request, ...rest: unknown[]) => {
    const url = new URL(request.url);
    const text = request.body ? await request.clone().text() : '';
    requests.push({
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      headers: Object.fromEntries(request.headers.entries()),
      body: text === '' ? undefined : parseJson(text),
    });
    return app.fetch(request, ...(rest as []));
  };
  const http: HttpServer = await listenHttp(recorded, { host: '127.0.0.1', port: 0 });
  return Object.assign(rig, {
    url: http.url,
    token: options.token,
    client: new TowerClient({ url: http.url, ...(options.token ? { token: options.token } : {}) }),
    manager,
    requests,
    hold: () => {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      gate = { promise, open };
    },
    release: () => {
      gate?.open();
      gate = undefined;
    },
    close: async () => {
      rig.release();
      await manager.shutdown();
      await http.close();
      await log.close();
      await store.close();
      rmSync(workingDir, { recursive: true, force: true });
    },
  });
}

/** Steps that call a tool (with these args) for a new user message, then answer `text` once it ran. */
export function toolThenText(tool: string, args: unknown, text = 'done') {
  return (req: StepRequest, index: number): StepPart[] =>
    req.messages.at(-1)?.role === 'tool'
      ? [{ type: 'text', delta: text }, finish]
      : [{ type: 'tool_call', id: `call_${index}`, name: tool, args }, { type: 'finish', usage, finish_reason: 'tool_calls' }];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
