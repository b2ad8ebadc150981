import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { TaskOperation, TaskResultPayload } from '../../protocol/runner.js';
import type { ToolExecutor, ToolResult } from '../../protocol/tools.js';
import { RunnerRegistry } from './registry.js';
import { RunnerToolExecutor } from './remote-executor.js';

/** Placement and dispatch against a real registry; the gateway's sockets are replaced by a recorder. */
function setup(network?: boolean) {
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
  const exec = new RunnerToolExecutor({ gateway, local, labels: ['linux'], waitMs: 50, onNoRunner: () => undefined, logger: silentLogger, ...(network === undefined ? {} : { network }) });
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
