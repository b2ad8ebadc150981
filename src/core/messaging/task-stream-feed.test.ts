import { describe, expect, it } from 'vitest';
import { storedEventOf, type StoredEvent } from '../../protocol/events.js';
import type { TaskStream } from '../../protocol/telemetry.js';
import { silentLogger } from '../logger.js';
import { TaskStreamDeriver } from './task-stream.js';
import { TaskStreamFeed } from './task-stream-feed.js';

let seq = 0;
const ev = (type: StoredEvent['type'], data: Record<string, unknown>, at = 0): StoredEvent =>
  storedEventOf('s1', ++seq, type, data, new Date(Date.UTC(2026, 0, 1) + at * 1000).toISOString());

/** A feed over `log` (the store), counting how often it looked at an event; `frames` resolves after `n` frames. */
function feedOver(log: StoredEvent[], running: string[]) {
  const frames: TaskStream[] = [];
  let looked = 0;
  let want = Infinity;
  let done: () => void = () => undefined;
  const feed = new TaskStreamFeed({
    runningSessions: () => running,
    turnsOf: () => 1,
    readEvents: async (_id, after, limit) => log.filter((e) => e.seq > after).slice(0, limit),
    lastSeq: async () => log[log.length - 1]?.seq,
    infoOf: () => {
      looked++;
      return { working_dir: '/w' };
    },
    publish: (f) => {
      frames.push(f);
      if (frames.length >= want) done();
    },
    logger: silentLogger,
  });
  const framesAfter = (n: number): Promise<TaskStream[]> => {
    want = n;
    return frames.length >= n ? Promise.resolve(frames) : new Promise((r) => (done = () => r(frames)));
  };
  return { feed, frames, framesAfter, looked: () => looked };
}

describe('TaskStreamFeed', () => {
  it('looks at no event while nobody follows the task stream', () => {
    seq = 0;
    const { feed, frames, looked } = feedOver([], []);
    feed.onEvents([ev('user_message', { content: 'x', message_index: 0 }), ev('stream_started', { turn_id: 't1', model: 'm' }), ev('agent_choice', { content: 'a' })], false);
    expect(looked()).toBe(0);
    expect(frames).toEqual([]);
    expect(feed.on).toBe(false);
  });

  it('a follower joining mid-turn gets the frames a deriver running all along would have sent', async () => {
    seq = 0;
    const before = [
      ev('user_message', { content: 'fix the bug', message_index: 0 }),
      ev('stream_started', { turn_id: 't1', model: 'm' }),
      ...Array.from({ length: 1200 }, (_, i) => ev('agent_choice', { content: `a${i}` })),
      ev('tool_call', { tool_call_id: 'c1', tool: 'thread_post', args: { thread_id: 'th_a', content: 'x' } }),
      ev('token_usage', { input_tokens: 10, output_tokens: 5, cost: 0.5 }),
    ];
    const after = [ev('agent_choice', { content: 'late' }), ev('token_usage', { input_tokens: 1, output_tokens: 2, cost: 0.25 }), ev('stream_stopped', { turn_id: 't1', reason: 'normal' }, 7)];
    const log = [...before];
    const { feed, framesAfter, looked } = feedOver(log, ['s1']);
    feed.onEvents(before, false);
    expect(looked()).toBe(0);
    // The follower subscribes; the next commit is the first batch the feed sees while followed.
    log.push(...after);
    feed.onEvents(after, true);
    const got = await framesAfter(2);

    const all = new TaskStreamDeriver();
    for (const e of before) all.derive(e, { working_dir: '/w' });
    const expected = after.map((e) => all.derive(e, { working_dir: '/w' })).filter((f) => f !== undefined);
    expect(got).toEqual(expected);
    expect(got[0]).toMatchObject({ stream_type: 'text', task_id: 't1', turn_num: 1, directive: 'fix the bug', thread_id: 'th_a' });
    expect(got[1]).toMatchObject({ stream_type: 'turn_end', tokens_in: 11, tokens_out: 7, cost: 0.75, duration_sec: 7 });
  });

  it('batches arriving during the catch-up follow it in order, none twice', async () => {
    seq = 0;
    const log = [ev('user_message', { content: 'go', message_index: 0 }), ev('stream_started', { turn_id: 't1', model: 'm' })];
    const { feed, framesAfter } = feedOver(log, ['s1']);
    const b1 = [ev('agent_choice', { content: 'one' })];
    const b2 = [ev('agent_choice', { content: 'two' })];
    log.push(...b1);
    feed.onEvents(b1, true);
    log.push(...b2);
    feed.onEvents(b2, true);
    const got = await framesAfter(2);
    expect(got.map((f) => f.text)).toEqual(['one', 'two']);
    feed.onEvents([ev('agent_choice', { content: 'three' })], false);
    expect(feed.on).toBe(false);
  });
});
