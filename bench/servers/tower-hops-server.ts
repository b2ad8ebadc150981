/**
 * tower-server.ts with the sessions path traced per hop (for bench/sessions-hops.ts). For the sampled
 * tokens (bench/lib/token-hops.ts) it keeps when each reached: 0 the model connection's socket read (a
 * `net.Socket.prototype.push` hook; NaN for every token today: src/core/models/wire/http1.ts reads with
 * `onread`, no stream push, so sessions-hops.ts folds this hop into write -> decoded part), 1 the stepper's part queue (decoded text part), 2 the event log
 * (`appendWith`, the turn writer's agent_choice), 3 its group commit done (the store's commit resolved),
 * 4 the log's publish call, 5 the SSE writer's `onBatch` (the subscription handed it on), 6 the SSE
 * socket write (at once, or in the write slice it was deferred to). Prototype patches only: nothing in
 * src changes. A `hops` request returns `[key, ...7 times]` rows.
 */
import net from 'node:net';
import { EventLog } from '../../src/core/event-log/event-log.js';
import { GroupCommit } from '../../src/core/event-log/group-commit.js';
import { PartQueue } from '../../src/core/models/wire/part-queue.js';
import { NodeSseWriter } from '../../src/transports/http/sse-node.js';
import { machineMs } from '../lib/clock.js';
import { HopTimes, sampledTokens } from '../lib/token-hops.js';
import './tower-server.js';

const hops = new HopTimes(7);
const markAll = (content: unknown, hop: number, at: number): void => sampledTokens(content, (key) => hops.mark(key, hop, at));

/** The time of the socket read being delivered (NaN outside one). */
let readAt = NaN;
const socketProto = net.Socket.prototype as unknown as { push(this: unknown, chunk: unknown, enc?: unknown): boolean };
const push = socketProto.push;
socketProto.push = function (chunk: unknown, enc?: unknown): boolean {
  const outer = readAt;
  readAt = machineMs();
  try {
    return push.call(this, chunk, enc);
  } finally {
    readAt = outer;
  }
};

type Part = { type: string; delta?: string };
const queueProto = PartQueue.prototype as unknown as { push(this: unknown, item: unknown): void };
const queuePush = queueProto.push;
queueProto.push = function (item: unknown): void {
  const part = item as Part;
  if (part.type === 'text') {
    const at = machineMs();
    const read = readAt;
    sampledTokens(part.delta, (key) => {
      hops.mark(key, 0, read);
      hops.mark(key, 1, at);
    });
  }
  queuePush.call(this, item);
};

type Evt = { type: string; data?: { content?: unknown } };
const logProto = EventLog.prototype as unknown as {
  appendWith(this: unknown, sessionId: string, event: Evt, ...rest: unknown[]): void;
  published(this: unknown, events: readonly Evt[], dataJson?: unknown): Promise<void>;
};
const appendWith = logProto.appendWith;
logProto.appendWith = function (sessionId: string, event: Evt, ...rest: unknown[]): void {
  if (event.type === 'agent_choice') markAll(event.data?.content, 2, machineMs());
  appendWith.call(this, sessionId, event, ...rest);
};
const published = logProto.published;
logProto.published = function (events: readonly Evt[], dataJson?: unknown): Promise<void> {
  const at = machineMs();
  for (const e of events) if (e.type === 'agent_choice') markAll(e.data?.content, 4, at);
  return published.call(this, events, dataJson);
};

type Pending = { entries: Evt[] };
const commitProto = GroupCommit.prototype as unknown as {
  commitLone(this: unknown, p: Pending): Promise<unknown>;
  commitBatch(this: unknown, batch: Pending[]): Promise<unknown>;
};
const committed = (groups: readonly Pending[]): void => {
  const at = machineMs();
  for (const g of groups) for (const e of g.entries) if (e.type === 'agent_choice') markAll(e.data?.content, 3, at);
};
const commitLone = commitProto.commitLone;
commitProto.commitLone = function (p: Pending): Promise<unknown> {
  return commitLone.call(this, p).then((r) => (committed([p]), r));
};
const commitBatch = commitProto.commitBatch;
commitProto.commitBatch = function (batch: Pending[]): Promise<unknown> {
  const groups = [...batch];
  return commitBatch.call(this, batch).then((r) => (committed(groups), r));
};

type Batch = { from: string; events: readonly Evt[] };
interface Traced {
  held?: unknown;
  heldEvents?: readonly Evt[] | undefined;
}
const sseProto = NodeSseWriter.prototype as unknown as {
  onBatch(this: Traced, batch: Batch): boolean;
  runSlice(this: Traced): void;
};
const onBatch = sseProto.onBatch;
sseProto.onBatch = function (this: Traced, batch: Batch): boolean {
  const live = batch.from === 'live';
  if (live) {
    const at = machineMs();
    for (const e of batch.events) if (e.type === 'agent_choice') markAll(e.data?.content, 5, at);
  }
  const answer = onBatch.call(this, batch);
  if (live) {
    if (this.held !== undefined) this.heldEvents = [...(this.heldEvents ?? []), ...batch.events];
    else {
      const at = machineMs();
      for (const e of batch.events) if (e.type === 'agent_choice') markAll(e.data?.content, 6, at);
    }
  }
  return answer;
};
const runSlice = sseProto.runSlice;
sseProto.runSlice = function (this: Traced): void {
  const events = this.heldEvents ?? [];
  this.heldEvents = undefined;
  const at = machineMs();
  for (const e of events) if (e.type === 'agent_choice') markAll(e.data?.content, 6, at);
  runSlice.call(this);
};

// First among the listeners; the request is then handed on as a `cpu` one, whose reply (same id) goes unread.
process.prependListener('message', (raw) => {
  const msg = raw as { type: string; id: number };
  if (msg.type !== 'hops') return;
  msg.type = 'cpu';
  process.send?.({ type: 'reply', id: msg.id, rows: hops.rows() });
});
