import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationMessage } from '../../protocol/conversation.js';
import type { Store } from '../../store/types.js';
import { silentLogger } from '../logger.js';
import { FakeExecutor, FakeStepper, finish, memoryLog, type FakeStep } from '../testing/fakes.js';
import type { ModelStepper, StepPart, StepPartIterator, StepRequest } from '../models/types.js';
import { PartQueue } from '../models/wire/part-queue.js';
import { runTurn } from './agent-loop.js';
import type { TurnHooks } from './turn-types.js';
import { TurnWriter } from './turn-writer.js';
import { EventLog } from '../event-log/index.js';
import { fixture } from '../event-log/test-helpers.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';

let store: Store;
let log: EventLog;
afterEach(async () => {
  await log?.close();
  await store?.close();
});

async function setup() {
  ({ store, log } = await memoryLog());
  await store.createSession(testSessionRecord('s', { permissions: { allow: [], ask: [], deny: [], policy: 'autonomous', auto_approve: false } }));
}

async function turn(
  steps: FakeStep | ModelStepper,
  opts: { hooks?: TurnHooks; abort?: AbortController; max?: number; executor?: FakeExecutor } = {},
) {
  const stepper = typeof steps === 'function' ? new FakeStepper(steps) : steps;
  const conversation: ConversationMessage[] = [{ role: 'user', content: 'hi' }];
  const reason = await runTurn(
    { stepper, executor: opts.executor ?? new FakeExecutor(), cost: () => 0.5, logger: silentLogger },
    {
      turnId: 't1', workingDir: '/tmp', model: () => 'm/x', system: 'sys', maxIterations: opts.max ?? 50,
      conversation, signal: (opts.abort ?? new AbortController()).signal, writer: new TurnWriter(log, 's'),
      totals: { input_tokens: 0, output_tokens: 0, cost: 0 }, ...(opts.hooks ? { hooks: opts.hooks } : {}),
    },
  );
  const events = await store.readEvents('s', 0, 1000);
  const requests = stepper instanceof FakeStepper ? stepper.requests : [];
  return { reason, events, types: events.map((e) => e.type), requests, conversation, messages: (await store.listMessages('s')).map((m) => m.message) };
}

const toolStep = (id: string) => [{ type: 'text' as const, delta: 'calling ' }, { type: 'tool_call' as const, id, name: 'echo', args: {} }, finish];

describe('runTurn', () => {
  it('loops model step → tools until the model stops, recording usage and one result per call', async () => {
    await setup();
    const r = await turn((_req, i) => (i === 0 ? toolStep('c1') : [{ type: 'text', delta: 'done' }, finish]));
    expect(r.reason).toBe('normal');
    expect(r.types).toEqual(['agent_choice', 'tool_call', 'token_usage', 'tool_call_response', 'agent_choice', 'token_usage', 'stream_stopped']);
    expect(r.events.filter((e) => e.type === 'token_usage').map((e) => e.data.total_cost)).toEqual([0.5, 1]);
    expect(r.messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'assistant']);
    expect((await store.getSession('s'))?.input_tokens).toBe(20);
  });

  it('stops at max_iterations', async () => {
    await setup();
    const r = await turn((_req, i) => toolStep(`c${i}`), { max: 3 });
    expect(r.reason).toBe('max_iterations');
    expect(r.requests).toHaveLength(3);
    expect(r.events.at(-1)?.data).toMatchObject({ reason: 'max_iterations' });
  });

  it('a model error becomes an error event and keeps the partial text', async () => {
    await setup();
    const r = await turn(() => [{ type: 'text', delta: 'half' }, { type: 'error', code: 'rate_limited', message: 'slow down' }]);
    expect(r.reason).toBe('error');
    expect(r.events.find((e) => e.type === 'error')?.data).toEqual({ code: 'rate_limited', message: 'slow down' });
    expect(r.messages).toEqual([{ role: 'assistant', content: 'half', partial: true }]);
  });

  it('an abort mid-stream ends as canceled, keeps partial text, drops the unfinished tool calls', async () => {
    await setup();
    const abort = new AbortController();
    const r = await turn(
      () =>
        (async function* () {
          yield { type: 'text' as const, delta: 'partial' };
          yield { type: 'tool_call' as const, id: 'c1', name: 'echo', args: {} };
          abort.abort();
          yield finish;
        })(),
      { abort },
    );
    expect(r.reason).toBe('canceled');
    expect(r.messages).toEqual([{ role: 'assistant', content: 'partial', partial: true }]);
    expect(r.types.at(-1)).toBe('stream_stopped');
  });

  it('injects steered messages before the next model call and continues a turn that would have ended', async () => {
    await setup();
    const queue = [{ content: 'steer me', item_id: 'q1' }];
    let served = false;
    const hooks: TurnHooks = {
      takeSteering: async (record) => {
        if (!served) {
          served = true;
          await record({ items: queue.splice(0) });
        }
      },
      hasSteering: () => queue.length > 0,
    };
    const r = await turn((_req, i) => [{ type: 'text', delta: `answer ${i}` }, finish], { hooks });
    expect(r.requests[0]?.messages.at(-1)).toEqual({ role: 'user', content: 'steer me' });
    expect(r.events.find((e) => e.type === 'user_message')?.data).toMatchObject({ steered: true, queue_item_id: 'q1' });
    expect(r.reason).toBe('normal');
  });

  it('gates all calls of a step at once and runs the allowed ones in order; denied calls get results', async () => {
    await setup();
    const waiting: string[] = [];
    const release: Array<() => void> = [];
    const hooks: TurnHooks = {
      gate: (call) =>
        new Promise((resolve) => {
          waiting.push(call.id);
          release.push(() => resolve(call.id === 'c2' ? { allow: false, reason: 'no' } : { allow: true }));
          if (waiting.length === 2) release.reverse().forEach((f) => f());
        }),
    };
    const executor = new FakeExecutor();
    const r = await turn(
      (_req, i) =>
        i === 0
          ? [{ type: 'tool_call', id: 'c1', name: 'echo', args: {} }, { type: 'tool_call', id: 'c2', name: 'echo', args: {} }, finish]
          : [finish],
      { hooks, executor },
    );
    expect(waiting).toEqual(['c1', 'c2']);
    expect(executor.calls).toEqual(['c1']);
    expect(r.events.filter((e) => e.type === 'tool_call_response').map((e) => [e.data.tool_call_id, e.data.is_error])).toEqual([
      ['c1', false],
      ['c2', true],
    ]);
  });

  it('an abort while a tool runs records a canceled result for every call of the step', async () => {
    await setup();
    const abort = new AbortController();
    const executor = new FakeExecutor(async () => {
      abort.abort();
      return { output: 'killed', is_error: true };
    });
    const r = await turn(
      () => [{ type: 'tool_call', id: 'a', name: 'echo', args: {} }, { type: 'tool_call', id: 'b', name: 'echo', args: {} }, finish],
      { abort, executor },
    );
    expect(r.reason).toBe('canceled');
    expect(r.messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool']);
    expect(executor.calls).toEqual(['a']);
  });

  it("names the executor's placement of a call in its tool_call event and hands it to execute", async () => {
    await setup();
    const seen: unknown[] = [];
    class PlacingExecutor extends FakeExecutor {
      place(call: { name: string; args: unknown }) {
        return call.name === 'echo' ? { id: 'rn_1', name: 'builder' } : undefined;
      }
      override async execute(call: { id: string; name: string; args: unknown; runner?: unknown }, ctx: { signal: AbortSignal }) {
        seen.push(call.runner);
        return { ...(await super.execute(call, ctx)), runner: { id: 'rn_1', name: 'builder' } };
      }
    }
    const r = await turn((_req, i) => (i === 0 ? toolStep('c1') : [{ type: 'text', delta: 'done' }, finish]), { executor: new PlacingExecutor() });
    expect(r.events.find((e) => e.type === 'tool_call')?.data).toEqual({ tool_call_id: 'c1', tool: 'echo', args: {}, runner: { id: 'rn_1', name: 'builder' } });
    expect(r.events.find((e) => e.type === 'tool_call_response')?.data).toMatchObject({ runner: { id: 'rn_1', name: 'builder' } });
    expect(seen).toEqual([{ id: 'rn_1', name: 'builder' }]);
    // Without a placement the event has no runner field at all.
    await log.close();
    await store.close();
    await setup();
    const plain = await turn((_req, i) => (i === 0 ? toolStep('c2') : [{ type: 'text', delta: 'done' }, finish]));
    expect(plain.events.find((e) => e.type === 'tool_call')?.data).toEqual({ tool_call_id: 'c2', tool: 'echo', args: {} });
  });
});

describe('runTurn, interrupted while the step is being recorded', () => {
  it('still records a result for every tool call of the recorded assistant message', async () => {
    const f = await fixture(['s']);
    const abort = new AbortController();
    f.store.beforeCommit = async (entries) => {
      if (entries.some((e) => e.type === 'token_usage')) abort.abort();
    };
    const eventLog = new EventLog(f.store, f.bus);
    const conversation: ConversationMessage[] = [{ role: 'user', content: 'hi' }];
    const executor = new FakeExecutor();
    const reason = await runTurn(
      { stepper: new FakeStepper(() => toolStep('late')), executor, cost: () => 0, logger: silentLogger },
      {
        turnId: 't', workingDir: '/tmp', model: () => 'm/x', system: '', maxIterations: 5, conversation,
        signal: abort.signal, writer: new TurnWriter(eventLog, 's'), totals: { input_tokens: 0, output_tokens: 0, cost: 0 },
      },
    );
    expect(reason).toBe('canceled');
    expect(executor.calls).toEqual([]);
    const messages = (await f.store.listMessages('s')).map((m) => m.message);
    expect(messages.map((m) => m.role)).toEqual(['assistant', 'tool']);
    expect(messages[1]).toMatchObject({ tool_call_id: 'late', is_error: true });
    await eventLog.close();
    await f.dispose();
  });
});

/**
 * A stepper whose parts come through a `PartQueue` (as the wire stepper's do): `fill` pushes them, all
 * at once (a backlog: the process fell behind the model) or spread over macrotasks.
 */
class QueueStepper implements ModelStepper {
  private calls = 0;
  constructor(private readonly fill: (queue: PartQueue<StepPart>, step: number) => void) {}
  step(req: StepRequest): AsyncIterable<StepPart> {
    const queue = new PartQueue<StepPart>(req.signal);
    this.fill(queue, this.calls++);
    if (queueMode === 'push') return { [Symbol.asyncIterator]: () => queue };
    // The pull path (`next` + `takeReady`), for iterators without `drain`.
    const pull: StepPartIterator = { next: () => queue.next(), takeReady: () => queue.takeReady(), return: () => queue.return() };
    return { [Symbol.asyncIterator]: () => pull };
  }
}
/** How the loop reads a QueueStepper: `drain` (push) or `next`/`takeReady` (pull). */
let queueMode: 'push' | 'pull' = 'push';

const pushAll = (queue: PartQueue<StepPart>, parts: StepPart[]) => {
  for (const part of parts) queue.push(part);
  queue.close();
};
const text = (delta: string): StepPart => ({ type: 'text', delta });
const reasoning = (delta: string): StepPart => ({ type: 'reasoning', delta });
const deltas = (events: Awaited<ReturnType<typeof turn>>['events']) =>
  events.flatMap((e) => (e.type === 'agent_choice' || e.type === 'agent_choice_reasoning' || e.type === 'tool_call' ? [[e.type, e.type === 'tool_call' ? e.data.tool_call_id : e.data.content]] : []));

describe.each(['push', 'pull'] as const)('runTurn, deltas that arrived together (%s)', (mode) => {
  beforeEach(() => {
    queueMode = mode;
  });

  it('appends a buffered run of one kind as one event, in order, never merging across a tool call or kinds', async () => {
    await setup();
    const r = await turn(
      new QueueStepper((queue, step) =>
        pushAll(
          queue,
          step === 0
            ? [reasoning('th'), reasoning('ink'), text('a'), text('b'), text('c'), { type: 'tool_call', id: 'c1', name: 'echo', args: {} }, text('d'), text('e'), reasoning('x'), text('f'), finish]
            : [text('do'), text('ne'), finish],
        ),
      ),
    );
    expect(r.reason).toBe('normal');
    expect(deltas(r.events)).toEqual([
      ['agent_choice_reasoning', 'think'],
      ['agent_choice', 'abc'],
      ['tool_call', 'c1'],
      ['agent_choice', 'de'],
      ['agent_choice_reasoning', 'x'],
      ['agent_choice', 'f'],
      ['agent_choice', 'done'],
    ]);
    expect(r.types.filter((t) => t === 'token_usage')).toHaveLength(2);
    expect(r.messages[0]).toEqual({ role: 'assistant', content: 'abcdef', reasoning: 'thinkx', tool_calls: [{ id: 'c1', name: 'echo', args: {} }] });
    expect(r.messages.at(-1)).toEqual({ role: 'assistant', content: 'done' });
  });

  it('a run stops growing at 64 KiB: larger buffered deltas are appended apart', async () => {
    await setup();
    const big = 'x'.repeat(40 * 1024);
    const r = await turn(new QueueStepper((queue) => pushAll(queue, [text(big), text(big), text('y'), finish])));
    expect(deltas(r.events).map(([, content]) => content)).toEqual([big, `${big}y`]);
  });

  it('without a backlog every delta is its own event', async () => {
    await setup();
    const r = await turn(
      new QueueStepper((queue) => {
        const parts = [text('a'), text('b'), reasoning('r'), text('c'), finish];
        const feed = () => {
          const part = parts.shift();
          if (part === undefined) return queue.close();
          queue.push(part);
          setImmediate(feed);
        };
        setImmediate(feed);
      }),
    );
    expect(deltas(r.events)).toEqual([
      ['agent_choice', 'a'],
      ['agent_choice', 'b'],
      ['agent_choice_reasoning', 'r'],
      ['agent_choice', 'c'],
    ]);
  });

  it('a part the loop cannot take ends the step as a model_error and cancels the model stream', async () => {
    await setup();
    let cancelled = false;
    const executor = new FakeExecutor();
    const placing = Object.assign(executor, {
      place: () => {
        throw new Error('no runner table');
      },
    });
    const r = await turn(
      new QueueStepper((queue) => {
        queue.attach({ pause: () => {}, resume: () => {}, cancel: () => (cancelled = true) });
        setImmediate(() => queue.push(text('a')));
        setImmediate(() => queue.push({ type: 'tool_call', id: 'c1', name: 'echo', args: {} }));
      }),
      { executor: placing },
    );
    expect(r.reason).toBe('error');
    expect(r.events.find((e) => e.type === 'error')?.data).toEqual({ code: 'model_error', message: 'no runner table' });
    expect(deltas(r.events)).toEqual([['agent_choice', 'a']]);
    expect(cancelled).toBe(true);
  });

  it('an abort keeps what was taken (events and partial message agree) and drops what still waited', async () => {
    await setup();
    const abort = new AbortController();
    const r = await turn(
      new QueueStepper((queue) => {
        for (const part of [text('par'), text('tial')]) queue.push(part);
        // Taken in one go; then, while the loop waits for more, the turn is interrupted with parts buffered.
        setImmediate(() => {
          queue.push(text(' lost'));
          queue.push(text(' too'));
          abort.abort();
        });
      }),
      { abort },
    );
    expect(r.reason).toBe('canceled');
    expect(deltas(r.events)).toEqual([['agent_choice', 'partial']]);
    expect(r.messages).toEqual([{ role: 'assistant', content: 'partial', partial: true }]);
  });
});
