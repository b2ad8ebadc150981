import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { makeMessage, parseFrame, type MessageType, type PayloadOf, type RunnerMessage } from '../../src/protocol/runner.js';
import type { ToolExecutor } from '../../src/protocol/tools.js';
import { CANCEL_UNANSWERED, RunnerGateway } from '../../src/transports/runners/gateway.js';
import { RunnerToolExecutor, TASK_TIMEOUT } from '../../src/transports/runners/remote-executor.js';
import { serveGateway } from '../../src/transports/runners/testing/gateway-server.js';
import { hashRunnerToken, staticTokenVerifier } from '../../src/transports/runners/tokens.js';

/**
 * A runner that takes tasks and cancels and never answers them (hung, or wedged in a syscall): Tower must
 * give up on such a task within its cancel grace, free the slot, and drop the runner's late answer.
 */

const TOKEN = 'trt_silent';
const RUNNER = 'r-silent';
const local: ToolExecutor = { specs: () => [], execute: () => Promise.resolve({ output: 'local', is_error: true }) };

interface LogLine {
  msg: string;
  task_id?: string;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(cancelGraceMs: number): Promise<{ gateway: RunnerGateway; url: string; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const entries = [{ hash: hashRunnerToken(TOKEN), record: { id: RUNNER, name: 'silent', labels: [] }, revoked: false }];
  const gateway = new RunnerGateway({ verifyToken: staticTokenVerifier(entries), log, heartbeatMs: 60_000, cancelGraceMs });
  const http = await serveGateway(gateway);
  cleanups.push(() => http.close(), () => gateway.close());
  return { gateway, url: http.url, logs };
}

/** A hand-driven runner: records what Tower sends, answers only when told. */
class SilentRunner {
  readonly frames: RunnerMessage[] = [];
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const parsed = parseFrame(d as Buffer);
      if (!parsed.ok) return;
      this.frames.push(parsed.message);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string): Promise<SilentRunner> {
    const runner = new SilentRunner(new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } }));
    cleanups.push(() => runner.ws.terminate());
    await runner.next((m) => m.type === 'welcome');
    return runner;
  }

  /** The first frame (past or future) matching `probe`. */
  async next(probe: (m: RunnerMessage) => boolean): Promise<RunnerMessage> {
    for (;;) {
      const found = this.frames.find(probe);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  send<T extends MessageType>(type: T, payload: PayloadOf<T>): void {
    this.ws.send(JSON.stringify(makeMessage(type, payload, `m-${Math.random()}`)));
  }

  /** Resolves once Tower has handled everything sent before: a bad frame's `error` answer comes after them. */
  async flush(): Promise<void> {
    const before = this.frames.filter((f) => f.type === 'error').length;
    this.ws.send('not json');
    await this.next(() => this.frames.filter((f) => f.type === 'error').length > before);
  }

  errorCodes(): string[] {
    return this.frames.flatMap((f) => (f.type === 'error' ? [f.payload.code] : []));
  }
}

const isRequest = (id?: string) => (m: RunnerMessage) => m.type === 'task.request' && (id === undefined || m.payload.task_id === id);
const isCancel = (id: string) => (m: RunnerMessage) => m.type === 'task.cancel' && m.payload.task_id === id;

describe('a runner that never answers a canceled task', () => {
  it('is given up on after the grace: a typed failure, the slot freed, the late answer logged and dropped', async () => {
    const { gateway, url, logs } = await setup(200);
    const runner = await SilentRunner.connect(url);
    const ac = new AbortController();
    const first = gateway.dispatch(RUNNER, 'bash', { command: 'sleep 100' }, { taskId: 'hung-1', signal: ac.signal });
    await runner.next(isRequest('hung-1'));
    expect(gateway.registry.get(RUNNER)?.running_tasks).toBe(1);
    ac.abort();
    await runner.next(isCancel('hung-1'));
    const result = await first;
    expect(result).toMatchObject({ task_id: 'hung-1', success: false });
    expect(result.error?.startsWith(`${CANCEL_UNANSWERED}: runner ${RUNNER} did not answer the cancel`)).toBe(true);
    expect(gateway.registry.get(RUNNER)?.running_tasks).toBe(0);

    // A new task is running when the runner finally answers the old one: the answer must not reach it.
    const second = gateway.dispatch(RUNNER, 'bash', { command: 'echo two' }, { taskId: 'next-2' });
    await runner.next(isRequest('next-2'));
    runner.send('task.output', { task_id: 'hung-1', stream: 'stdout', data: 'late output' });
    runner.send('task.result', { task_id: 'hung-1', success: true, exit_code: 0, result: { stdout: 'late' } });
    await runner.flush();
    expect(runner.errorCodes()).toEqual(['invalid_json']); // the late frames were dropped, not refused
    expect(logs.filter((l) => l.task_id === 'hung-1').map((l) => l.msg)).toEqual([
      'runner gateway: runner did not answer a cancel; task given up on',
      'runner gateway: late result for a task given up on after its cancel; ignored',
    ]);
    expect(gateway.registry.get(RUNNER)?.running_tasks).toBe(1);
    runner.send('task.result', { task_id: 'next-2', success: true, exit_code: 0, result: { stdout: 'two\n' } });
    expect(await second).toMatchObject({ task_id: 'next-2', success: true, result: { stdout: 'two\n' } });
    expect(gateway.registry.get(RUNNER)?.running_tasks).toBe(0);
    // An id given up on cannot be dispatched again (the runner would ignore it; its answer would be stale).
    await expect(gateway.dispatch(RUNNER, 'bash', { command: 'x' }, { taskId: 'hung-1' })).rejects.toThrow(/already run/);
  });

  it('an interrupted tool call ends as canceled instead of waiting for the runner forever', async () => {
    const { gateway, url } = await setup(200);
    const runner = await SilentRunner.connect(url);
    const exec = new RunnerToolExecutor({ gateway, local, labels: [], waitMs: 10_000, onNoRunner: () => undefined, logger: pino({ level: 'silent' }) });
    const ac = new AbortController();
    const call = exec.execute({ id: 'c1', name: 'bash', args: { command: 'sleep 100' } }, { workingDir: '/w', signal: ac.signal });
    const request = await runner.next(isRequest());
    ac.abort();
    await runner.next(isCancel(request.type === 'task.request' ? request.payload.task_id : ''));
    expect(await call).toMatchObject({ is_error: true, output: expect.stringMatching(/^canceled: /), runner: { id: RUNNER } });
    expect(gateway.registry.get(RUNNER)?.running_tasks).toBe(0);
  });

  it('a task past its limit ends with task_timeout and its runner slot is released with it', async () => {
    const { gateway, url } = await setup(200);
    await SilentRunner.connect(url);
    const exec = new RunnerToolExecutor({ gateway, local, labels: [], waitMs: 10_000, onNoRunner: () => undefined, logger: pino({ level: 'silent' }), limitMs: () => 100 });
    const res = await exec.execute({ id: 'c1', name: 'bash', args: { command: 'sleep 100' } }, { workingDir: '/w', signal: new AbortController().signal });
    expect(res).toMatchObject({ is_error: true, exit_code: 124, runner: { id: RUNNER } });
    expect(res.output.startsWith(`${TASK_TIMEOUT}: bash did not finish on runner silent`)).toBe(true);
    expect(gateway.registry.get(RUNNER)?.running_tasks).toBe(0);
  });

  it('a task canceled before its runner dropped is canceled again after the reconnect, not started again', async () => {
    const { gateway, url } = await setup(60_000);
    const before = await SilentRunner.connect(url);
    const ac = new AbortController();
    const task = gateway.dispatch(RUNNER, 'bash', { command: 'sleep 100' }, { taskId: 'drop-1', signal: ac.signal });
    await before.next(isRequest('drop-1'));
    ac.abort();
    await before.next(isCancel('drop-1'));
    before.ws.terminate();
    await once(before.ws, 'close');
    const after = await SilentRunner.connect(url);
    await after.next(isCancel('drop-1'));
    await after.flush();
    expect(after.frames.some(isRequest('drop-1'))).toBe(false);
    after.send('task.result', { task_id: 'drop-1', success: false, error: 'canceled' });
    expect(await task).toMatchObject({ task_id: 'drop-1', success: false, error: 'canceled' });
  });
});
