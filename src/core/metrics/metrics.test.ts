import perfHooks from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { storedEventOf } from '../../protocol/events.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { StepPart, StepPartIterator, StepRequest } from '../models/types.js';
import { PartQueue } from '../models/wire/part-queue.js';
import { FakeExecutor, FakeStepper, finish } from '../testing/fakes.js';
import { SessionCount } from './event-counters.js';
import { intercept } from './intercept.js';
import { EVENT_LOOP_SAMPLE_MS, Metrics } from './metrics.js';

describe('Metrics', () => {
  it('samples the event-loop delay every 50 ms, not every 10 ms (an idle Tower would wake 100 times a second)', () => {
    const spy = vi.spyOn(perfHooks, 'monitorEventLoopDelay');
    try {
      const m = new Metrics();
      expect(spy.mock.calls.map(([opts]) => opts?.resolution)).toEqual([EVENT_LOOP_SAMPLE_MS]);
      expect(EVENT_LOOP_SAMPLE_MS).toBeGreaterThanOrEqual(50);
      m.close();
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps a registry per instance, so two Towers in one process do not collide', async () => {
    const a = new Metrics({ processMetrics: false });
    const b = new Metrics({ processMetrics: false });
    const stepper = a.stepper(new FakeStepper(() => [{ type: 'text', delta: 'x' }, finish]));
    for await (const part of stepper.step({ model: 'fake/m', messages: [], tools: [], signal: new AbortController().signal })) void part;
    expect(await a.render()).toMatch(/tower_model_step_duration_seconds_count\{model="fake\/m",outcome="ok"\} 1/);
    expect(await b.render()).not.toMatch(/tower_model_step_duration_seconds_count\{/);
    a.close();
    b.close();
  });

  it("a step's end leaves the histogram alone (a burst of ends costs an array push each); the scrape folds it in", async () => {
    const m = new Metrics({ processMetrics: false });
    const histogram = m.registry.getSingleMetric('tower_model_step_duration_seconds');
    if (!histogram || !('observe' in histogram)) throw new Error('expected the step histogram');
    const observe = vi.spyOn(histogram, 'observe');
    const stepper = m.stepper(new FakeStepper(() => [{ type: 'text', delta: 'x' }, finish]));
    for (let i = 0; i < 3; i++) {
      for await (const part of stepper.step({ model: 'fake/m', messages: [], tools: [], signal: new AbortController().signal })) void part;
    }
    expect(observe).not.toHaveBeenCalled();
    expect(await m.render()).toMatch(/tower_model_step_duration_seconds_count\{model="fake\/m",outcome="ok"\} 3/);
    expect(observe).toHaveBeenCalledTimes(3);
    // Folded once: a second scrape shows the same three.
    expect(await m.render()).toMatch(/tower_model_step_duration_seconds_count\{model="fake\/m",outcome="ok"\} 3/);
    m.close();
  });

  it('forwards the parts already buffered (takeReady), and an error among them makes the step an error', async () => {
    const m = new Metrics({ processMetrics: false });
    const stepper = m.stepper({
      step: (req: StepRequest): AsyncIterable<StepPart> => {
        const queue = new PartQueue<StepPart>(req.signal);
        for (const part of [{ type: 'text', delta: 'a' }, { type: 'text', delta: 'b' }, { type: 'error', code: 'model_error', message: 'x' }] as StepPart[]) queue.push(part);
        queue.close();
        return { [Symbol.asyncIterator]: () => queue };
      },
    });
    const parts: StepPartIterator = stepper.step({ model: 'fake/m', messages: [], tools: [], signal: new AbortController().signal })[Symbol.asyncIterator]();
    expect((await parts.next()).value).toEqual({ type: 'text', delta: 'a' });
    expect([parts.takeReady?.(), parts.takeReady?.(), parts.takeReady?.()]).toEqual([{ type: 'text', delta: 'b' }, { type: 'error', code: 'model_error', message: 'x' }, undefined]);
    expect((await parts.next()).done).toBe(true);
    expect(await m.render()).toMatch(/tower_model_step_duration_seconds_count\{model="fake\/m",outcome="error"\} 1/);
    m.close();
  });

  it('times a queued step whose parts reach a waiting consumer as ok, and one left on abort as aborted', async () => {
    const m = new Metrics({ processMetrics: false });
    const queues: Array<PartQueue<StepPart>> = [];
    const stepper = m.stepper({
      step: (req: StepRequest): AsyncIterable<StepPart> => {
        const queue = new PartQueue<StepPart>(req.signal);
        queues.push(queue);
        return { [Symbol.asyncIterator]: () => queue };
      },
    });
    const ok: StepPartIterator = stepper.step({ model: 'fake/ok', messages: [], tools: [], signal: new AbortController().signal })[Symbol.asyncIterator]();
    const first = ok.next();
    queues[0]?.push({ type: 'text', delta: 'a' });
    queues[0]?.push(finish);
    queues[0]?.close();
    expect((await first).value).toEqual({ type: 'text', delta: 'a' });
    expect((await ok.next()).value).toEqual(finish);
    expect((await ok.next()).done).toBe(true);
    const abort = new AbortController();
    const cut: StepPartIterator = stepper.step({ model: 'fake/cut', messages: [], tools: [], signal: abort.signal })[Symbol.asyncIterator]();
    const pending = cut.next();
    abort.abort();
    expect((await pending).done).toBe(true);
    await cut.return?.();
    const text = await m.render();
    expect(text).toMatch(/tower_model_step_duration_seconds_count\{model="fake\/ok",outcome="ok"\} 1/);
    expect(text).toMatch(/tower_model_step_duration_seconds_count\{model="fake\/cut",outcome="aborted"\} 1/);
    m.close();
  });

  it('times tool calls by tool and outcome, and store commits by batch', async () => {
    const m = new Metrics({ processMetrics: false });
    const executor = m.executor(new FakeExecutor(async (name) => ({ output: name, is_error: name === 'bad' })));
    const signal = new AbortController().signal;
    await executor.execute({ id: '1', name: 'good', args: {} }, { signal });
    await executor.execute({ id: '2', name: 'bad', args: {} }, { signal });
    expect(executor.specs()[0]?.name).toBe('echo');
    const store = m.store(openSqliteStore(':memory:'));
    await expect(store.commit([{ session_id: 'nope', type: 'session_deleted', data: {}, timestamp: new Date().toISOString() }])).rejects.toThrow();
    const text = await m.render();
    expect(text).toMatch(/tower_tool_call_duration_seconds_count\{tool="good",outcome="ok"\} 1/);
    expect(text).toMatch(/tower_tool_call_duration_seconds_count\{tool="bad",outcome="error"\} 1/);
    expect(text).toMatch(/tower_commit_failures_total 1/);
    await store.close();
    m.close();
  });
});

describe('SessionCount', () => {
  it('moves with creates, forks and deletes between store reads, and re-reads after a minute', async () => {
    let now = 0;
    const count = new SessionCount(() => now);
    let reads = 0;
    const read = async () => {
      reads += 1;
      return ['a', 'b'];
    };
    expect(await count.total(read)).toBe(2);
    const event = (type: 'session_created' | 'session_forked' | 'session_deleted') => storedEventOf('x', 1, type, {}, '');
    count.observe(event('session_created'));
    count.observe(event('session_forked'));
    count.observe(event('session_deleted'));
    expect(await count.total(read)).toBe(3);
    expect(reads).toBe(1);
    now = 60_000;
    expect(await count.total(read)).toBe(2);
    expect(reads).toBe(2);
  });
});

describe('intercept', () => {
  it('replaces one method and keeps the rest working, private fields included', async () => {
    class Thing {
      #secret = 41;
      value(): number {
        return this.#secret;
      }
      bump(): number {
        return ++this.#secret;
      }
    }
    const wrapped = intercept(new Thing(), 'bump', (bump) => () => bump() * 10);
    expect(wrapped.bump()).toBe(420);
    expect(wrapped.value()).toBe(42);
  });
});
