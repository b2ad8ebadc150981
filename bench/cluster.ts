/**
 * cluster: what running Tower as several nodes on PostgreSQL + Redis costs.
 *
 * - cluster-append: a turn's 100-byte text deltas through Tower's Postgres store (TurnWriter → EventLog
 *   group commits → PostgresStore.commit, in-process bus) vs a bare `pg` loop inserting the same rows in
 *   transactions of exactly the batch sizes Tower's commits had, alternating, fresh schema per round;
 *   medians. In this process (it measures an API).
 * - cluster-fanout: one session appending on node 1, 600 SSE subscribers spread over 3 Tower nodes
 *   (separate processes, one Postgres, one Redis; nodes 2 and 3 hear the session through Redis) vs the
 *   same 600 on one node (same Postgres and Redis), the same offered load, alternating runs. Compared as
 *   deliveries per CPU-second of all Tower nodes together (Postgres and Redis CPU not counted): the cost
 *   of the extra hop. Goal: cluster >= 0.7 of one node.
 *
 * Needs PostgreSQL (TOWER_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test) and Redis
 * (TOWER_TEST_REDIS_URL, default redis://127.0.0.1:6379).
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { assertPostgresReachable } from '../src/store/postgres/test-db.js';
import { pick } from './lib/cli.js';
import { clusterRig, fanoutRun, stopRig, type ClusterRig, type FanoutRun } from './lib/cluster-rig.js';
import { median } from './lib/hist.js';
import { describeStalls } from './lib/loop-monitor.js';
import { bareAppendRound, towerAppendRound } from './lib/pg-append.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';

const APPEND_ROUNDS = pick(2, 4);
const APPEND_EVENTS = pick(5_000, 20_000);
const SUBSCRIBERS = 600;
const NODES = 3;
const RATE = 200; // events/s: 120k deliveries/s offered
const RUN_MS = pick(1_500, 3_000);
const FANOUT_ROUNDS = pick(1, 3);

await assertPostgresReachable();
const load = os.loadavg()[0]!;

// ---- append ----
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
await towerAppendRound(1_000).then((w) => bareAppendRound(w.batches)); // warm both paths
const tower: number[] = [];
const bare: number[] = [];
const batchMeans: number[] = [];
for (let r = 0; r < APPEND_ROUNDS; r++) {
  const t = await towerAppendRound(APPEND_EVENTS);
  tower.push(t.eventsPerSec);
  batchMeans.push(APPEND_EVENTS / t.batches.length);
  bare.push(await bareAppendRound(t.batches));
  progress(`cluster-append round ${r + 1}: tower ${human(tower.at(-1)!)}/s, bare ${human(bare.at(-1)!)}/s, ${sig(batchMeans.at(-1)!)} events/commit`);
}
loopDelay.disable();
const appendRatio = median(tower.map((t, i) => t / bare[i]!)); // paired rounds, as for fan-out

// ---- fan-out ----
const runs: { one: FanoutRun[]; many: FanoutRun[] } = { one: [], many: [] };
let one: ClusterRig | undefined;
let many: ClusterRig | undefined;
try {
  one = await clusterRig('one', 1, SUBSCRIBERS);
  many = await clusterRig('three', NODES, SUBSCRIBERS);
  await fanoutRun(one, RATE, 500); // warm-up
  await fanoutRun(many, RATE, 500);
  for (let r = 0; r < FANOUT_ROUNDS; r++) {
    runs.one.push(await fanoutRun(one, RATE, RUN_MS));
    runs.many.push(await fanoutRun(many, RATE, RUN_MS));
    progress(`cluster-fanout round ${r + 1}: one node ${human(runs.one.at(-1)!.perCpuSecond)}, ${NODES} nodes ${human(runs.many.at(-1)!.perCpuSecond)} deliveries/CPU-s`);
  }
} finally {
  await stopRig(one);
  await stopRig(many);
}

const mid = (xs: FanoutRun[]): FanoutRun => [...xs].sort((a, b) => a.perCpuSecond - b.perCpuSecond)[Math.floor(xs.length / 2)]!;
const o = mid(runs.one);
const m = mid(runs.many);
// Median of the paired (back-to-back) rounds' ratios: both rigs of a pair saw the same machine noise.
const fanRatio = median(runs.many.map((r, i) => r.perCpuSecond / runs.one[i]!.perCpuSecond));
const all = [...runs.one, ...runs.many];
const lost = all.reduce((s, r) => s + r.check.lost + r.check.dups, 0);
const timedOut = all.some((r) => r.check.timedOut);
const nodeStalls = describeStalls(all.flatMap((r) => r.stalls));
const delivered = (r: FanoutRun): string => `${r.deliveries}/${r.expected}`;
/** Node CPU per delivery (us), all nodes summed: what the ratio compares, in absolute terms. */
const usPerDelivery = (r: FanoutRun): number => sig((r.nodeCpuMs.reduce((a, b) => a + b, 0) * 1000) / Math.max(1, r.deliveries));

summary(`cluster (load average ${sig(load)} at start)`, [
  ['append: tower events/s (median)', human(median(tower))],
  ['append: bare pg events/s (median)', human(median(bare))],
  ['append: ratio (median of paired rounds)', sig(appendRatio)],
  ['append: events per commit (mean)', sig(median(batchMeans))],
  [`fan-out: deliveries per node-CPU-second, 1 / ${NODES} nodes`, `${human(o.perCpuSecond)} / ${human(m.perCpuSecond)} (median of paired ratios ${sig(fanRatio)})`],
  ['fan-out: deliveries/s achieved, 1 / 3 nodes', `${human(o.deliveriesPerSec)} / ${human(m.deliveriesPerSec)}`],
  ['fan-out: node CPU % (sum), 1 / 3 nodes', `${Math.round(o.nodeCpuPct)} / ${Math.round(m.nodeCpuPct)}`],
  ['fan-out: node CPU us per delivery, 1 / 3 nodes', `${usPerDelivery(o)} / ${usPerDelivery(m)}`],
  ['fan-out: CPU ms per node, 1 / 3 nodes', `${o.nodeCpuMs.map((x) => Math.round(x)).join(' ')} / ${m.nodeCpuMs.map((x) => Math.round(x)).join(' ')}`],
  ['fan-out: p50 / p99 ms, 1 / 3 nodes', `${sig(o.latency.p50)}/${sig(o.latency.p99)} / ${sig(m.latency.p50)}/${sig(m.latency.p99)}`],
  ['fan-out: node event-loop stalls (all runs)', nodeStalls],
  ['fan-out: lost + duplicated (all runs)', `${lost}${timedOut ? ' (TIMED OUT)' : ''}`],
]);

emitBench({
  name: 'cluster-append',
  value: median(tower),
  unit: 'events/s',
  baseline: median(bare),
  ratio: appendRatio,
  target: 'informational (ratio >= 0.5)',
  met: appendRatio >= 0.5,
  loop_max_ms: loopDelay.max / 1e6,
  notes:
    `Postgres, TurnWriter deltas (${sig(median(batchMeans))} events/commit as the log grouped them) vs bare pg ` +
    `multi-row INSERT per batch of the same sizes; ${APPEND_EVENTS} events, ratio = median of ${APPEND_ROUNDS} paired rounds' ratios; load avg ${sig(load)}`,
});
emitBench({
  name: 'cluster-fanout',
  value: m.perCpuSecond,
  unit: 'deliveries/node-CPU-s',
  baseline: o.perCpuSecond,
  ratio: fanRatio,
  target: 'ratio >= 0.7',
  met: fanRatio >= 0.7 && lost === 0 && !timedOut,
  p50_ms: m.latency.p50,
  p99_ms: m.latency.p99,
  loop_max_ms: Math.max(...all.map((r) => r.loopMaxMs)),
  notes:
    `${SUBSCRIBERS} SSE subs over ${NODES} nodes (Postgres + Redis) vs ${SUBSCRIBERS} on 1 node (same backends), ` +
    `${RATE} ev/s for ${RUN_MS / 1000} s, ratio = median of ${FANOUT_ROUNDS} paired rounds' ratios; node CPU summed (Postgres/Redis not counted); ` +
    `delivered ${delivered(m)} vs ${delivered(o)}; node CPU per delivery ${usPerDelivery(m)} vs ${usPerDelivery(o)} us; node CPU ms ${m.nodeCpuMs.map((x) => Math.round(x)).join('+')} vs ${o.nodeCpuMs.map((x) => Math.round(x)).join('')}; one-node p50/p99 ${sig(o.latency.p50)}/${sig(o.latency.p99)} ms; node stalls: ${nodeStalls}; load avg ${sig(load)}`,
});
