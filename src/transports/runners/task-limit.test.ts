import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { TaskResultPayload } from '../../protocol/runner.js';
import type { ToolExecutor } from '../../protocol/tools.js';
import { isRunning } from '../../runner/executor/test-support.js';
import { RUNNER_DEFAULTS } from '../../runner/worker/config.js';
import { silentRunnerLogger } from '../../runner/worker/log.js';
import { startRunner, type RunnerHandle } from '../../runner/worker/runner.js';
import { RunnerGateway } from './gateway.js';
import { serveGateway } from './testing/gateway-server.js';
import { RunnerRegistry } from './registry.js';
import { RunnerToolExecutor, TASK_TIMEOUT } from './remote-executor.js';
import { taskLimitMs, TASK_LIMIT_SLACK_MS } from './tool-mapping.js';
import { hashRunnerToken, staticTokenVerifier } from './tokens.js';

const local: ToolExecutor = { specs: () => [], execute: () => Promise.resolve({ output: 'local', is_error: true }) };
const signal = new AbortController().signal;

describe('a remote task has the time limit of its tool', () => {
  it('is the local limit plus slack: bash and webfetch by their timeout, file tools by bash default', () => {
    expect(taskLimitMs({ operation: 'bash', args: { command: 'x', timeout: 7 } })).toBe(7000 + TASK_LIMIT_SLACK_MS);
    expect(taskLimitMs({ operation: 'bash', args: { command: 'x' } })).toBe(120_000 + TASK_LIMIT_SLACK_MS);
    expect(taskLimitMs({ operation: 'webfetch', args: { url: 'https://x.test/' } })).toBe(30_000 + TASK_LIMIT_SLACK_MS);
    expect(taskLimitMs({ operation: 'read', args: { path: 'a' } })).toBe(120_000 + TASK_LIMIT_SLACK_MS);
  });

  it('gives up on a runner that never answers, after telling it to cancel', async () => {
    const registry = new RunnerRegistry(30_000);
    registry.connected('a', 'tok', 'alpha', []);
    let aborted = false;
    const gateway = {
      registry,
      onEvent: () => () => undefined,
      dispatch: (_id: string, _op: string, _args: unknown, opts: { signal?: AbortSignal }): Promise<TaskResultPayload> => {
        opts.signal?.addEventListener('abort', () => (aborted = true));
        return new Promise(() => undefined); // a hung runner
      },
    };
    const exec = new RunnerToolExecutor({ gateway, local, labels: [], waitMs: 50, onNoRunner: () => undefined, logger: silentLogger, limitMs: () => 50, cancelGraceMs: 50 });
    const res = await exec.execute({ id: 'c1', name: 'grep', args: { pattern: 'x' } }, { workingDir: '/w', signal });
    expect(aborted).toBe(true);
    expect(res).toMatchObject({ is_error: true, runner: { id: 'a', name: 'alpha' } });
    expect(res.output.startsWith(`${TASK_TIMEOUT}: grep did not finish on runner alpha`)).toBe(true);
  });

  describe('with a real runner', () => {
    let http: Awaited<ReturnType<typeof serveGateway>>;
    let gateway: RunnerGateway;
    let workspace: string;
    let runner: RunnerHandle | undefined;

    beforeEach(async () => {
      const entries = [{ hash: hashRunnerToken('trt_limit'), record: { id: 'r-limit', name: 'limited', labels: [] }, revoked: false }];
      gateway = new RunnerGateway({ verifyToken: staticTokenVerifier(entries), log: silentLogger, heartbeatMs: 1000, runnerWaitMs: 5000 });
      http = await serveGateway(gateway);
      workspace = await mkdtemp(path.join(tmpdir(), 'tower-limit-'));
      const url = http.url;
      runner = await startRunner(
        { ...RUNNER_DEFAULTS, url, token: 'trt_limit', name: 'limited', labels: [], workspace, allow: [], deny: [], allowPrivateNet: false, sandbox: 'none', network: false, toolEnv: [], heartbeatMs: 200, reconnectMinMs: 50, reconnectMaxMs: 200 },
        silentRunnerLogger,
      );
    });

    afterEach(async () => {
      await runner?.stop();
      await gateway.close();
      await http.close();
      await rm(workspace, { recursive: true, force: true });
    });

    it('times out with task_timeout and exit code 124, and the runner kills the command', async () => {
      // The tool's own timeout (120 s) is far away: only Tower's limit (1 s here) can end this call.
      const exec = new RunnerToolExecutor({ gateway, local, labels: [], waitMs: 15_000, onNoRunner: () => undefined, logger: silentLogger, limitMs: () => 1000 });
      const res = await exec.execute(
        { id: 'c1', name: 'bash', args: { command: 'echo $$ > pid.txt; echo started; exec sleep 60' } },
        { workingDir: workspace, signal },
      );
      expect(res).toMatchObject({ is_error: true, exit_code: 124, runner: { id: 'r-limit', name: 'limited' } });
      expect(res.output).toMatch(new RegExp(`^${TASK_TIMEOUT}: bash did not finish on runner limited within 1 s; the runner was told to stop it\\n`));
      expect(res.output).toContain('started');
      const pid = Number((await readFile(path.join(workspace, 'pid.txt'), 'utf8')).trim());
      expect(pid).toBeGreaterThan(0);
      // The runner answered the cancel only after ending the command's tree.
      expect(await isRunning(pid)).toBe(false);
      expect(gateway.registry.get('r-limit')?.running_tasks).toBe(0);
    }, 30_000);
  });
});
