import { afterEach, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../protocol/conversation.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { EventLog } from '../event-log/index.js';
import { fixture, type Fixture } from '../event-log/test-helpers.js';
import { silentLogger } from '../logger.js';
import { FakeExecutor, FakeStepper, finish, type FakeStep } from '../testing/fakes.js';
import type { ModelStepper, StepPart } from '../models/types.js';
import { PartQueue } from '../models/wire/part-queue.js';
import { runTurn } from './agent-loop.js';
import { TurnWriter } from './turn-writer.js';

let f: Fixture;
let log: EventLog;
afterEach(async () => {
  await log.close();
  await f.dispose();
});

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

async function turn(steps: FakeStep | ModelStepper, writer: TurnWriter, executor = new FakeExecutor()) {
  const conversation: ConversationMessage[] = [{ role: 'user', content: 'hi' }];
  const reason = await runTurn(
    { stepper: typeof steps === 'function' ? new FakeStepper(steps) : steps, executor, cost: () => 0, logger: silentLogger },
    {
      turnId: 't1', workingDir: '/tmp', model: () => 'm/x', system: 'sys', maxIterations: 5, conversation,
      signal: new AbortController().signal, writer, totals: { input_tokens: 0, output_tokens: 0, cost: 0 },
    },
  );
  return { reason, events: await f.store.readEvents('s', 0, 10_000), executor };
}

describe('runTurn with hostile model output', () => {
  it('answers tool arguments nested 5,000 deep with an invalid-tool-call result, and the turn goes on', async () => {
    f = await fixture([]);
    await f.store.createSession(testSessionRecord('s', { permissions: { allow: [], ask: [], deny: [], policy: 'autonomous', auto_approve: false } }));
    await f.store.createSession(testSessionRecord('bystander'));
    log = new EventLog(f.store, f.bus);
    const bystander = Array.from({ length: 20 }, (_, i) => log.append('bystander', { type: 'agent_choice', data: { content: `${i}` } }));
    const r = await turn(
      (_req, i) => (i === 0 ? [{ type: 'tool_call', id: 'deep', name: 'echo', args: nested(5000) }, finish] : [{ type: 'text', delta: 'ok' }, finish]),
      new TurnWriter(log, 's'),
    );
    await Promise.all(bystander);
    expect(r.reason).toBe('normal');
    expect(r.executor.calls).toEqual([]);
    const response = r.events.find((e) => e.type === 'tool_call_response');
    expect(response?.data).toMatchObject({ tool_call_id: 'deep', is_error: true });
    expect(String(response?.data.result)).toMatch(/invalid tool call: arguments are nested deeper than 64/);
    expect(r.events.at(-1)?.type).toBe('stream_stopped');
    expect(await f.store.lastSeq('bystander')).toBe(20);
  });

  it('keeps a fast model within the writer high-water mark while the store is slow', async () => {
    f = await fixture([]);
    await f.store.createSession(testSessionRecord('s'));
    log = new EventLog(f.store, f.bus);
    f.store.beforeCommit = () => new Promise((r) => setTimeout(r, 2));
    const deltas = Array.from({ length: 300 }, (_, i) => ({ type: 'text' as const, delta: `${i} ` }));
    const writer = new TurnWriter(log, 's', { highWaterMark: 16 });
    const r = await turn(() => [...deltas, finish], writer);
    expect(r.reason).toBe('normal');
    expect(r.events.filter((e) => e.type === 'agent_choice')).toHaveLength(300);
    expect(writer.maxInFlight).toBeLessThanOrEqual(17);
  });

  it('in push mode (a PartQueue drained) too: the writer holds the queue, the queue pauses the model', async () => {
    f = await fixture([]);
    await f.store.createSession(testSessionRecord('s'));
    log = new EventLog(f.store, f.bus);
    f.store.beforeCommit = () => new Promise((r) => setTimeout(r, 2));
    const flow: string[] = [];
    const stepper: ModelStepper = {
      step: (req) => {
        const queue = new PartQueue<StepPart>(req.signal, { highWaterMark: 8, lowWaterMark: 2 });
        queue.attach({ pause: () => flow.push('pause'), resume: () => flow.push('resume'), cancel: () => flow.push('cancel') });
        let n = 0;
        // One part per macrotask, as one per socket read; the queue buffers what arrives while held.
        const feed = (): void => {
          if (n === 300) {
            queue.push(finish);
            return queue.close();
          }
          queue.push({ type: 'text', delta: `${n++} ` });
          setImmediate(feed);
        };
        setImmediate(feed);
        return { [Symbol.asyncIterator]: () => queue };
      },
    };
    const writer = new TurnWriter(log, 's', { highWaterMark: 16 });
    const r = await turn(stepper, writer);
    expect(r.reason).toBe('normal');
    const text = r.events.flatMap((e) => (e.type === 'agent_choice' ? [e.data.content] : [])).join('');
    expect(text).toBe(Array.from({ length: 300 }, (_, i) => `${i} `).join(''));
    expect(writer.maxInFlight).toBeLessThanOrEqual(17);
    expect(flow).toContain('pause');
    expect(flow.at(-1)).not.toBe('cancel');
  });

  it('writes the end state with stream_stopped, in the same commit', async () => {
    f = await fixture([]);
    await f.store.createSession(testSessionRecord('s'));
    await f.store.setState('s', 'active_turn', 't1');
    log = new EventLog(f.store, f.bus);
    await turn(() => [{ type: 'text', delta: 'x' }, finish], new TurnWriter(log, 's', { endState: { active_turn: null } }));
    const stop = f.store.commits.find((c) => c.some((e) => e.type === 'stream_stopped'));
    expect(stop?.find((e) => e.type === 'stream_stopped')?.state).toEqual({ active_turn: null });
    expect(await f.store.getState('s', 'active_turn')).toBeUndefined();
  });
});
