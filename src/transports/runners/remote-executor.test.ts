import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import type { ToolExecutor, ToolResult } from '../../protocol/tools.js';
import type { RemoteRunner, RemoteRunnerDirectory } from './directory.js';
import { RunnerRegistry } from './registry.js';
import { RunnerToolExecutor } from './remote-executor.js';

/** Placement and dispatch against a real registry; the gateway's sockets are replaced by a recorder. */
function setup(network?: boolean, remote?: RemoteRunnerDirectory) {
  const registry = new RunnerRegistry(30_000);
  const sent: Array<{ runner: string; operation: TaskOperation }> = [];
  const localCalls: string[] = [];
  const local: ToolExecutor = {
    specs: () => [],
    execute: async (call, ctx): Promise<ToolResult> => {
      localCalls.push(`${call.name}:${String(ctx.network)}`);
      return { output: 'local refusal', is_error: true };
    },
  };
  const gateway = {
    registry,
    onEvent: () => () => undefined,
    dispatch: async (runner: string, operation: TaskOperation): Promise<TaskResultPayload> => {
      sent.push({ runner, operation });
      return { task_id: 't', success: true, result: { stdout: 'hi\n', stderr: '', exit_code: 0 } };
    },
  };
  const exec = new RunnerToolExecutor({ gateway, local, labels: ['linux'], waitMs: 50, onNoRunner: () => undefined, logger: silentLogger, ...(network === undefined ? {} : { network }), ...(remote ? { remote } : {}) });
  return { registry, sent, localCalls, exec };
}

const signal = new AbortController().signal;

describe('RunnerToolExecutor placement', () => {
  it('places a call on the least busy matching runner, and runs it there while that runner stays online', async () => {
    const { registry, sent, exec } = setup();
    registry.connected('a', 'tok', 'alpha', ['linux']);
    registry.connected('b', 'tok', 'beta', ['linux']);
    registry.connected('c', 'tok', 'gamma', ['mac']);
    const call = { name: 'bash', args: { command: 'echo hi' } };
    expect(exec.place(call)).toEqual({ id: 'a', name: 'alpha' });
    // "a" got busier after the call was placed: the call still goes where its tool_call said.
    registry.taskStarted('a', 'other');
    const res = await exec.execute({ id: 'c1', ...call, runner: { id: 'a', name: 'alpha' } }, { workingDir: '/w', signal });
    expect(res).toMatchObject({ is_error: false, runner: { id: 'a', name: 'alpha' } });
    // Once it is gone, the call goes to the least busy runner still online, and the result says so.
    registry.disconnected('a');
    const moved = await exec.execute({ id: 'c2', ...call, runner: { id: 'a', name: 'alpha' } }, { workingDir: '/w', signal });
    expect(moved.runner).toEqual({ id: 'b', name: 'beta' });
    expect(sent.map((s) => s.runner)).toEqual(['a', 'b']);
  });

  it('places nothing for tools runners do not serve, junk args, no runner online, or webfetch without network', () => {
    const { registry, exec } = setup();
    expect(exec.place({ name: 'bash', args: { command: 'ls' } })).toBeUndefined();
    registry.connected('a', 'tok', 'alpha', ['linux']);
    expect(exec.place({ name: 'ask_user', args: {} })).toBeUndefined();
    expect(exec.place({ name: 'bash', args: { command: 42 } })).toBeUndefined();
    expect(exec.place({ name: 'webfetch', args: { url: 'https://x.test/' } })).toBeUndefined();
    expect(exec.place({ name: 'webfetch', args: { url: 'https://x.test/' } }, { network: true })).toEqual({ id: 'a', name: 'alpha' });
    expect(setup(true).exec.place({ name: 'webfetch', args: { url: 'https://x.test/' } })).toBeUndefined(); // no runner there
  });

  it('leaves webfetch of a session without network access to the local tool, which refuses it', async () => {
    const { registry, sent, localCalls, exec } = setup(true);
    registry.connected('a', 'tok', 'alpha', ['linux']);
    const res = await exec.execute({ id: 'w', name: 'webfetch', args: { url: 'https://x.test/' } }, { workingDir: '/w', signal, network: false });
    expect(res).toEqual({ output: 'local refusal', is_error: true });
    expect(localCalls).toEqual(['webfetch:false']);
    expect(sent).toEqual([]);
  });
});

/** Another node's runners, as the cluster's directory would give them; dispatches are recorded. */
class FakeDirectory implements RemoteRunnerDirectory {
  readonly node = 'node-a';
  runners: RemoteRunner[] = [];
  readonly sent: Array<{ runner: string; node: string }> = [];
  private readonly listeners = new Set<() => void>();
  list(): RemoteRunner[] {
    return this.runners;
  }
  candidates(labels: readonly string[]): RemoteRunner[] {
    return this.runners.filter((r) => labels.every((l) => r.labels.includes(l)));
  }
  async dispatch(runner: RemoteRunner, _op: TaskOperation, _args: unknown, opts: { onOutput?: (s: 'stdout' | 'stderr', d: string) => void }): Promise<TaskResultPayload> {
    this.sent.push({ runner: runner.id, node: runner.node });
    opts.onOutput?.('stdout', 'far\n');
    return { task_id: 't', success: true, result: { stdout: 'far\n', stderr: '', exit_code: 0 } };
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  onPresence(listener: () => void): () => void {
    return this.onChange(listener);
  }
  add(runner: RemoteRunner): void {
    this.runners.push(runner);
    for (const l of [...this.listeners]) l();
  }
}

describe('RunnerToolExecutor with runners of other nodes', () => {
  const far: RemoteRunner = { id: 'r', name: 'remote', labels: ['linux'], running_tasks: 0, node: 'node-b' };
  const call = { name: 'bash', args: { command: 'echo far' } };

  it('uses a runner of another node when none here matches, and one here when there is', async () => {
    const remote = new FakeDirectory();
    remote.add(far);
    const { registry, sent, exec } = setup(undefined, remote);
    expect(exec.place(call)).toEqual({ id: 'r', name: 'remote' });
    const output: string[] = [];
    const res = await exec.execute({ id: 'c1', ...call }, { workingDir: '/w', signal, onOutput: (_s, d) => output.push(d) });
    expect(res).toMatchObject({ is_error: false, runner: { id: 'r', name: 'remote' } });
    expect(output).toEqual(['far\n']);
    expect(remote.sent).toEqual([{ runner: 'r', node: 'node-b' }]);
    registry.connected('a', 'tok', 'alpha', ['linux']);
    expect(exec.place(call)).toEqual({ id: 'a', name: 'alpha' });
    // A call placed on the remote runner stays there while it is published.
    expect((await exec.execute({ id: 'c2', ...call, runner: { id: 'r', name: 'remote' } }, { workingDir: '/w', signal })).runner).toEqual({ id: 'r', name: 'remote' });
    expect((await exec.execute({ id: 'c3', ...call }, { workingDir: '/w', signal })).runner).toEqual({ id: 'a', name: 'alpha' });
    expect(sent.map((s) => s.runner)).toEqual(['a']);
  });

  it('a call waiting for a runner takes one another node publishes meanwhile', async () => {
    const remote = new FakeDirectory();
    const { exec } = setup(undefined, remote);
    const running = exec.execute({ id: 'w1', ...call }, { workingDir: '/w', signal });
    remote.add(far);
    expect(await running).toMatchObject({ is_error: false, runner: { id: 'r', name: 'remote' } });
  });
});
