/**
 * tower-server.ts with the SSE live write path traced (for bench/fanout-sse-trace.ts): every live batch a
 * `NodeSseWriter` takes is timed from its first event's creation stamp to the writer's `onBatch`, and to
 * its socket write (at once, or in a later write slice when it was deferred). `BENCH_TRACE_SLICE_MS`
 * replaces the process's write-slice budget (1000: slicing off), so one tree compares both.
 */
import { NodeSseWriter } from '../../src/transports/http/sse-node.js';
import type { FramedBatch } from '../../src/core/event-log/index.js';
import { writeSlices } from '../../src/transports/write-slices.js';
import { machineMs, stampIn } from '../lib/clock.js';
import { Histogram } from '../lib/hist.js';
import './tower-server.js';

const budget = process.env.BENCH_TRACE_SLICE_MS;
if (budget) (writeSlices as unknown as { budgetMs: number }).budgetMs = Number(budget);

interface Held {
  stamp: number;
  at: number;
  seq: number;
}
interface Traced {
  held?: unknown;
  traceHeld?: Held | undefined;
}
/** Per commit (its first seq): writes, first and last write (machineMs), deferred writes. */
type Fan = { stamp: number; n: number; first: number; last: number; deferred: number; runs: number };

let hists = fresh();
let fans = new Map<number, Fan>();
function fresh() {
  return { toBatch: new Histogram(), direct: new Histogram(), deferredWrite: new Histogram(), wait: new Histogram(), multi: 0, batches: 0 };
}

function stampOf(batch: FramedBatch): number {
  if (batch.from !== 'live') return NaN;
  const json = batch.dataJson?.[0];
  if (json === undefined) return NaN;
  const text = `"content":${json.slice(json.indexOf('"content":') + 10)}`;
  return stampIn(text, 0, text.length);
}

function wrote(seq: number, stamp: number, now: number, deferred: boolean, runs: number): void {
  let fan = fans.get(seq);
  if (!fan) fans.set(seq, (fan = { stamp, n: 0, first: now, last: now, deferred: 0, runs: 0 }));
  fan.n++;
  fan.last = now;
  if (deferred) fan.deferred++;
  fan.runs += runs;
}

const proto = NodeSseWriter.prototype as unknown as {
  onBatch(this: Traced, batch: FramedBatch): boolean;
  runSlice(this: Traced): void;
};
const onBatch = proto.onBatch;
proto.onBatch = function (this: Traced, batch: FramedBatch): boolean {
  const stamp = stampOf(batch);
  const at = machineMs();
  const answer = onBatch.call(this, batch);
  if (stamp === stamp && batch.from === 'live') {
    hists.batches++;
    if (batch.events.length > 1) hists.multi++;
    hists.toBatch.record(at - stamp);
    const seq = batch.events[0]!.seq;
    if (this.held !== undefined) this.traceHeld = { stamp, at, seq };
    else {
      const now = machineMs();
      hists.direct.record(now - stamp);
      wrote(seq, stamp, now, false, batch.events.length);
    }
  }
  return answer;
};
interface Writer {
  held: Uint8Array | undefined;
  direct: { write(b: Uint8Array): boolean } | undefined;
  ended: boolean;
  res: { destroyed: boolean };
  sub: { resume(): void } | undefined;
  writeLive(socket: unknown, bytes: Uint8Array): boolean;
}
/** `BENCH_TRACE_OLD=1`: the slice as it was before the in-slice resume (queued for a slice of its own). */
const runSlice = process.env.BENCH_TRACE_OLD
  ? function (this: Writer): void {
      const bytes = this.held;
      this.held = undefined;
      const socket = this.direct;
      if (bytes === undefined || socket === undefined || this.ended || this.res.destroyed) return;
      if (this.writeLive(socket, bytes)) this.sub?.resume();
    }
  : proto.runSlice;
proto.runSlice = function (this: Traced): void {
  const held = this.traceHeld;
  this.traceHeld = undefined;
  const now = machineMs();
  turns.jobs++;
  if (held) {
    hists.deferredWrite.record(now - held.stamp);
    hists.wait.record(now - held.at);
    wrote(held.seq, held.stamp, now, true, 1);
  }
  (runSlice as (this: unknown) => void).call(this);
};

/** Each write-slice turn: how long it ran and how many jobs it took. */
const slicesInternals = writeSlices as unknown as { runTurn(): void };
const runTurn = slicesInternals.runTurn.bind(writeSlices);
let turns = { n: 0, jobs: 0, ms: new Histogram() };
slicesInternals.runTurn = function (): void {
  const t0 = machineMs();
  runTurn();
  turns.ms.record(machineMs() - t0);
  turns.n++;
};

const pct = (h: Histogram): string => (h.n === 0 ? '-' : `n=${h.n} p50=${h.percentile(50).toFixed(1)} p90=${h.percentile(90).toFixed(1)} p99=${h.percentile(99).toFixed(1)} max=${h.max.toFixed(1)}`);

// First among the listeners; the request is then handed on as a `cpu` one, whose reply (same id) goes unread.
process.prependListener('message', (raw) => {
  const msg = raw as { type: string; id: number };
  if (msg.type !== 'trace') return;
  msg.type = 'cpu';
  const h = hists;
  const spans = [...fans.values()].sort((a, b) => b.last - b.stamp - (a.last - a.stamp));
  const fanSpan = new Histogram();
  const fanStart = new Histogram();
  for (const f of spans) {
    fanSpan.record(f.last - f.stamp);
    fanStart.record(f.first - f.stamp);
  }
  const worst = spans.slice(0, 8).map((f) => `n=${f.n} deferred=${f.deferred} first+${(f.first - f.stamp).toFixed(1)} last+${(f.last - f.stamp).toFixed(1)}`);
  const report = {
    budget: (writeSlices as unknown as { budgetMs: number }).budgetMs,
    deferrals: writeSlices.deferrals,
    batches: h.batches,
    multiEventBatches: h.multi,
    stampToOnBatch: pct(h.toBatch),
    stampToDirectWrite: pct(h.direct),
    stampToDeferredWrite: pct(h.deferredWrite),
    deferredWait: pct(h.wait),
    commitFirstWrite: pct(fanStart),
    commitLastWrite: pct(fanSpan),
    worstCommits: worst,
    turns: turns.n,
    jobsPerTurn: turns.n ? Math.round(turns.jobs / turns.n) : 0,
    turnMs: pct(turns.ms),
  };
  turns = { n: 0, jobs: 0, ms: new Histogram() };
  hists = fresh();
  fans = new Map();
  process.send?.({ type: 'reply', id: msg.id, report });
});

