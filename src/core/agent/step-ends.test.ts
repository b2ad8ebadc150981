import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConversationMessage } from '../../protocol/conversation.js';
import { EventLog } from '../event-log/index.js';
import { fixture, type Fixture } from '../event-log/test-helpers.js';
import { silentLogger } from '../logger.js';
import { FakeExecutor, FakeStepper, finish } from '../testing/fakes.js';
import { testSessionRecord } from '../../store/testing/fixtures.js';
import { runTurn } from './agent-loop.js';
import { StepEnds } from './step-ends.js';
import { TurnWriter } from './turn-writer.js';

/** One macrotask turn (the pacer's unit), not a sleep. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('StepEnds', () => {
  it('lets a lone step end go on at once', () => {
    expect(new StepEnds(4).admit()).toBeUndefined();
  });

  it('lets `perTurn` through in a turn and the rest in later turns, in arrival order', async () => {
    const ends = new StepEnds(2);
    const woken: number[] = [];
    const now = Array.from({ length: 7 }, (_, i) => {
      const wait = ends.admit();
      if (wait) void wait.then(() => woken.push(i));
      return wait === undefined;
    });
    expect(now).toEqual([true, true, false, false, false, false, false]);
    expect(ends.queued).toBe(5);
    await nextTurn();
    expect(woken).toEqual([2, 3]);
    // Woken ones use up that turn's allowance: a newcomer in the same turn waits behind the queue.
    const late = ends.admit();
    expect(late).toBeInstanceOf(Promise);
    void late?.then(() => woken.push(7));
    await nextTurn();
    expect(woken).toEqual([2, 3, 4, 5]);
    await nextTurn();
    await nextTurn();
    expect(woken).toEqual([2, 3, 4, 5, 6, 7]);
    expect(ends.queued).toBe(0);
    // The burst is over: the next step end goes on at once again.
    await nextTurn();
    expect(ends.admit()).toBeUndefined();
  });

  it('refuses an allowance below one', () => {
    expect(() => new StepEnds(0)).toThrow(RangeError);
  });
});

describe('runTurn with a step-end pacer', () => {
  let f: Fixture;
  let log: EventLog;
  afterEach(async () => {
    await log.close();
    await f.dispose();
  });

  it('records the step end (usage, message, stream_stopped) only once the pacer lets it, and keeps the text', async () => {
    f = await fixture([]);
    await f.store.createSession(testSessionRecord('s'));
    log = new EventLog(f.store, f.bus);
    let release!: () => void;
    let asked!: () => void;
    const askedFor = new Promise<void>((resolve) => (asked = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const conversation: ConversationMessage[] = [{ role: 'user', content: 'hi' }];
    const writer = new TurnWriter(log, 's');
    const turn = runTurn(
      {
        stepper: new FakeStepper(() => [{ type: 'text', delta: 'hello' }, finish]),
        executor: new FakeExecutor(),
        cost: () => 0,
        logger: silentLogger,
        stepEnds: {
          admit: () => {
            asked();
            return gate;
          },
        },
      },
      {
        turnId: 't1', workingDir: '/tmp', model: () => 'm/x', system: 'sys', maxIterations: 3, conversation,
        signal: new AbortController().signal, writer, totals: { input_tokens: 0, output_tokens: 0, cost: 0 },
      },
    );
    await askedFor;
    await writer.settle();
    // The step's text is out; its end waits for the pacer.
    expect((await f.store.readEvents('s', 0, 100)).map((e) => e.type)).toEqual(['agent_choice']);
    expect(conversation).toHaveLength(1);
    release();
    expect(await turn).toBe('normal');
    const types = (await f.store.readEvents('s', 0, 100)).map((e) => e.type);
    expect(types).toEqual(['agent_choice', 'token_usage', 'stream_stopped']);
    expect(conversation.at(-1)).toMatchObject({ role: 'assistant', content: 'hello' });
  });

  it("joins the step's text runs only once the pacer let its end go on, not in the stream's end", async () => {
    f = await fixture([]);
    await f.store.createSession(testSessionRecord('s'));
    log = new EventLog(f.store, f.bus);
    const join = vi.spyOn(Array.prototype, 'join');
    // A join of the step's runs: an array holding the first run's delta.
    const joinedRuns = (): boolean => join.mock.contexts.some((ctx) => Array.isArray(ctx) && ctx.includes('hel'));
    let joinedBeforeAdmit: boolean | undefined;
    const conversation: ConversationMessage[] = [{ role: 'user', content: 'hi' }];
    try {
      const reason = await runTurn(
        {
          stepper: new FakeStepper(() => [{ type: 'text', delta: 'hel' }, { type: 'text', delta: 'lo' }, finish]),
          executor: new FakeExecutor(),
          cost: () => 0,
          logger: silentLogger,
          stepEnds: {
            admit: () => {
              joinedBeforeAdmit = joinedRuns();
              return nextTurn();
            },
          },
        },
        {
          turnId: 't1', workingDir: '/tmp', model: () => 'm/x', system: 'sys', maxIterations: 3, conversation,
          signal: new AbortController().signal, writer: new TurnWriter(log, 's'), totals: { input_tokens: 0, output_tokens: 0, cost: 0 },
        },
      );
      expect(reason).toBe('normal');
      expect(joinedBeforeAdmit).toBe(false);
      expect(joinedRuns()).toBe(true);
    } finally {
      join.mockRestore();
    }
    expect(conversation.at(-1)).toMatchObject({ role: 'assistant', content: 'hello' });
  });
});
