/**
 * The fan-out half of `bench cluster`: Tower nodes as separate processes (bench/servers/tower-server.ts)
 * on one Postgres schema and one Redis, one session appending on the first node, SSE subscribers spread
 * evenly over the nodes from one load-generator process. CPU is every node's, summed.
 */
import type { ClientStats } from '../loadgen/sse-clients.js';
import { TEST_REDIS_URL } from '../../src/bus/test-redis.js';
import { TEST_PG_URL, dropSchema, uniqueSchema } from '../../src/store/postgres/test-db.js';
import { sleep } from './clock.js';
import { Histogram } from './hist.js';
import type { Stall } from './loop-monitor.js';
import { profArgs } from './cli.js';
import { spawnChild, stopAll, type Child } from './proc.js';

export interface ClusterRig {
  label: string;
  nodes: Child[];
  clients: Child;
  sessionId: string;
  subscribers: number;
  schema: string;
  lastSeq: number;
}

export interface FanoutRun {
  deliveries: number;
  expected: number;
  deliveriesPerSec: number;
  /** Deliveries per CPU-second of all nodes together. */
  perCpuSecond: number;
  nodeCpuPct: number;
  /** Each node's CPU during the run (ms), node 1 (the writer) first. */
  nodeCpuMs: number[];
  /** Append-to-receipt latency (ms). */
  latency: { p50: number; p99: number };
  /** Seqs missing or seen twice by a subscriber; whether a subscriber never got the last event. */
  check: { lost: number; dups: number; timedOut: boolean };
  loopMaxMs: number;
  /** Every node's stalls > 40 ms during the run (with that node's CPU meanwhile). */
  stalls: Stall[];
}

type Cpu = { cpu: NodeJS.CpuUsage; at: number };

export async function clusterRig(label: string, nodeCount: number, subscribers: number): Promise<ClusterRig> {
  const schema = uniqueSchema(`bench_${label}`);
  const init = { type: 'init', storeUrl: `${TEST_PG_URL}?schema=${schema}`, busUrl: TEST_REDIS_URL };
  const nodes: Child[] = [];
  const ports: number[] = [];
  // One after another: the first node migrates the schema, the others find it ready.
  for (let i = 0; i < nodeCount; i++) {
    const node = spawnChild(`${label}-node${i + 1}`, 'servers/tower-server.ts', { nodeArgs: profArgs(`cluster-${label}-${i + 1}`) });
    nodes.push(node);
    ports.push((await node.request<{ port: number }>(init, 60_000)).port);
  }
  const sessionId = (await nodes[0]!.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]!;
  const clients = spawnChild(`${label}-clients`, 'loadgen/sse-clients.ts');
  const path = `/api/sessions/${sessionId}/events?since=0`;
  for (let i = 0; i < nodeCount; i++) {
    const share = Math.floor(subscribers / nodeCount) + (i < subscribers % nodeCount ? 1 : 0);
    await clients.request({ type: 'connect', host: '127.0.0.1', port: ports[i], paths: Array<string>(share).fill(path) });
  }
  await clients.request({ type: 'waitSeq', target: 1, timeoutMs: 20_000 }, 30_000);
  return { label, nodes, clients, sessionId, subscribers, schema, lastSeq: 1 };
}

const cpuUs = (c: Cpu): number => c.cpu.user + c.cpu.system;

/** `rate` events/s appended on the first node for `durationMs`; measured until every subscriber has the last. */
export async function fanoutRun(r: ClusterRig, rate: number, durationMs: number): Promise<FanoutRun> {
  await r.clients.request({ type: 'waitSeq', target: r.lastSeq, timeoutMs: 60_000 }, 70_000);
  await sleep(100);
  await r.clients.request({ type: 'reset' });
  await Promise.all(r.nodes.map((n) => n.request({ type: 'loopDelay' })));
  const before = await Promise.all(r.nodes.map((n) => n.request<Cpu>({ type: 'cpu' })));
  const produced = await r.nodes[0]!.request<{ appended: number; lastSeq: number; startedAt: number }>(
    { type: 'produce', sessionId: r.sessionId, mode: 'paced', rate, durationMs },
    durationMs + 30_000,
  );
  r.lastSeq = produced.lastSeq;
  const stats = await r.clients.request<ClientStats>({ type: 'waitSeq', target: produced.lastSeq, timeoutMs: 30_000 }, 40_000);
  const after = await Promise.all(r.nodes.map((n) => n.request<Cpu>({ type: 'cpu' })));
  const loops = await Promise.all(r.nodes.map((n) => n.request<{ maxMs: number; stalls: Stall[] }>({ type: 'loopDelay' })));
  const nodeCpuMs = after.map((a, i) => (cpuUs(a) - cpuUs(before[i]!)) / 1000);
  const usedUs = nodeCpuMs.reduce((sum, ms) => sum + ms * 1000, 0);
  const machineMs = Math.max(...after.map((a) => a.at)) - Math.min(...before.map((b) => b.at));
  const hist = Histogram.from(stats.hist);
  return {
    deliveries: stats.deliveries,
    expected: produced.appended * r.subscribers,
    deliveriesPerSec: stats.deliveries / ((stats.lastRecv - produced.startedAt) / 1000),
    perCpuSecond: stats.deliveries / (usedUs / 1e6),
    nodeCpuPct: (usedUs / 1000 / machineMs) * 100,
    nodeCpuMs,
    latency: { p50: hist.percentile(50), p99: hist.percentile(99) },
    check: { lost: stats.lost, dups: stats.dups, timedOut: stats.timedOut === true },
    loopMaxMs: Math.max(...loops.map((l) => l.maxMs)),
    stalls: loops.flatMap((l) => l.stalls),
  };
}

export async function stopRig(r: ClusterRig | undefined): Promise<void> {
  if (!r) return;
  await stopAll(r.clients, ...r.nodes);
  await dropSchema(r.schema).catch(() => undefined);
}
