/**
 * bus: `llm.token` publications for 100 sessions at 50 tokens/s each, to 10 SUB clients (another process,
 * reading as Pando's Go subscriber does). Tower's path is the real one: each token is an `agent_choice`
 * appended to the session's event log (group commit to SQLite), tapped, turned into a Pando envelope and
 * sent on the PUB socket. Baseline in the same run: a bare zeromq PUB sending frames of the same shape and
 * size at the same pace from the same process. Measured: publications delivered per second (all clients)
 * and end-to-end latency (stamp in the token → client). Goal: delivered ratio >= 0.8. `loop_max_ms` is
 * this process's event-loop delay (bench/lib/loop-monitor.ts) while Tower produced and the clients drained:
 * Tower runs here (startTower with the bus transport), as does the bare PUB in its own phase.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Publisher } from 'zeromq';
import { silentLogger } from '../src/core/logger.js';
import { encodePublication, rfc3339Nano } from '../src/protocol/pando-bus.js';
import { resolveConfig } from '../src/server/config.js';
import { startTower, type Tower } from '../src/server/tower.js';
import type { TransportContext } from '../src/server/transports.js';
import { startBus, type RunningBus } from '../src/transports/ipc/index.js';
import { SendQueue } from '../src/transports/ipc/send-queue.js';
import { pick } from './lib/cli.js';
import { sleep, stampedContent, machineMs } from './lib/clock.js';
import { Histogram, type HistogramData } from './lib/hist.js';
import { describeStalls, startLoopMonitor } from './lib/loop-monitor.js';
import { spawnChild, stopAll } from './lib/proc.js';
import { emitBench, progress, summary } from './lib/report.js';
import { benchSessionId } from './lib/ids.js';

const SESSIONS = 100;
const RATE = 50;
const CLIENTS = 10;
const TICK_MS = 20;
const DURATION_MS = pick(4_000, 15_000);
const TOKEN_BYTES = 24;
/** This process's event-loop watch, read (and reset) around each measured phase. */
const loopDelay = startLoopMonitor();

interface Producer {
  endpoint: string;
  /** One token for every session. */
  tick(): void;
  close(): Promise<void>;
}

async function towerProducer(dir: string): Promise<Producer> {
  mkdirSync(dir, { recursive: true });
  const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: path.join(dir, 'data'), workingDir: dir, demo: true }, {});
  let bus: RunningBus | undefined;
  const tower: Tower = await startTower(config, {
    env: {}, logger: silentLogger,
    transports: [async (ctx: TransportContext) => (bus = await startBus(ctx, { registryDir: path.join(dir, 'registry') }))],
  });
  if (!bus) {
    await tower.close();
    throw new Error('bus did not start (ports taken?)');
  }
  const ids: string[] = [];
  for (let i = 0; i < SESSIONS; i++) ids.push((await tower.commands.execute('sessions.create', { title: `bench ${i}` })).id);
  let failed = 0;
  return {
    endpoint: `tcp://127.0.0.1:${bus.pubPort}`,
    tick: () => {
      for (const id of ids) {
        tower.log.append(id, { type: 'agent_choice', data: { content: stampedContent(TOKEN_BYTES) } }).catch(() => (failed += 1));
      }
    },
    close: async () => {
      if (failed) progress(`${failed} appends failed`);
      await tower.close();
    },
  };
}

/**
 * The bus binds the ports Pando derives from the working directory; on a machine with thousands of
 * TIME-WAIT connections (other benches) they are sometimes taken, and another directory gives others.
 */
async function towerProducerRetrying(dir: string): Promise<Producer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await towerProducer(`${dir}-${attempt}`);
    } catch (err) {
      if (attempt >= 5) throw err;
      progress(`bus: ${(err as Error).message}; another working directory`);
    }
  }
}

async function barePublisher(): Promise<Producer> {
  const pub = new Publisher({ sendHighWaterMark: 10_000 });
  await pub.bind('tcp://127.0.0.1:*');
  const ids = Array.from({ length: SESSIONS }, (_, i) => benchSessionId(i));
  const instanceId = '11111111-2222-4333-8444-555555555555';
  // zeromq allows one pending send at a time, so even a bare PUB needs this one-at-a-time queue.
  const queue = new SendQueue<string>((f) => pub.send(f), 10_000, () => undefined);
  return {
    endpoint: pub.lastEndpoint!,
    tick: () => {
      for (const id of ids) {
        const frame = encodePublication({
          instanceId, projectId: '', sessionId: id, topic: 'llm.token', timestamp: rfc3339Nano(),
          payload: { session_id: id, token: stampedContent(TOKEN_BYTES) },
        });
        queue.push(frame);
      }
    },
    close: async () => pub.close(),
  };
}

interface Outcome {
  perSecond: number;
  expected: number;
  received: number;
  p50: number;
  p99: number;
  /** This process's CPU (producer: appends, commit, tap, publish) per offered publication, in us. */
  cpuUsPerPublication: number;
  /** This process's longest event-loop delay while producing and draining (ms), and its stalls. */
  loopMaxMs: number;
  stalls: string;
}

async function measure(name: string, producer: Producer, clientCount = CLIENTS): Promise<Outcome> {
  const clients = spawnChild(`${name}-subs`, 'loadgen/bus-subs.ts');
  try {
    await clients.request({ type: 'connect', endpoint: producer.endpoint, n: clientCount, prefix: 'llm.token' });
    // Warm-up until every subscription has landed (PUB drops what it sends before that).
    for (let i = 0; i < 50; i++) {
      producer.tick();
      await sleep(TICK_MS);
    }
    await sleep(300);
    await clients.request({ type: 'reset' });
    loopDelay();
    const t0 = machineMs();
    const cpu0 = process.cpuUsage();
    let ticks = 0;
    while (machineMs() - t0 < DURATION_MS) {
      producer.tick();
      ticks += 1;
      const next = t0 + ticks * TICK_MS;
      await sleep(Math.max(0, next - machineMs()));
    }
    const elapsed = machineMs() - t0;
    const cpu = process.cpuUsage(cpu0);
    await sleep(500);
    const loop = loopDelay();
    const stats = await clients.request<{ received: number; hist: HistogramData }>({ type: 'stats' });
    const hist = Histogram.from(stats.hist);
    return {
      perSecond: stats.received / (elapsed / 1000),
      expected: ticks * SESSIONS * clientCount,
      received: stats.received,
      p50: hist.percentile(50),
      p99: hist.percentile(99),
      cpuUsPerPublication: (cpu.user + cpu.system) / (ticks * SESSIONS),
      loopMaxMs: loop.maxMs,
      stalls: describeStalls(loop.stalls),
    };
  } finally {
    await stopAll(clients);
    await producer.close();
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-bench-bus-'));
try {
  progress('bus: bare zeromq PUB');
  const bare = await measure('bare', await barePublisher());
  progress('bus: Tower');
  const tower = await measure('tower', await towerProducerRetrying(path.join(dir, 'subscribed')));
  // The same path with nobody subscribed: the difference is what the publications themselves cost.
  progress('bus: Tower, no subscriber');
  const alone = await measure('tower-alone', await towerProducerRetrying(path.join(dir, 'alone')), 0);
  const ratio = tower.perSecond / bare.perSecond;
  summary('bus: llm.token, 100 sessions x 50 tok/s, 10 SUB clients', [
    ['offered per client (tok/s)', SESSIONS * RATE],
    ['tower delivered (all clients, /s)', tower.perSecond],
    ['tower delivered / expected', `${tower.received} / ${tower.expected}`],
    ['tower p50 / p99 ms', `${tower.p50.toFixed(2)} / ${tower.p99.toFixed(2)}`],
    ['bare delivered (all clients, /s)', bare.perSecond],
    ['bare delivered / expected', `${bare.received} / ${bare.expected}`],
    ['bare p50 / p99 ms', `${bare.p50.toFixed(2)} / ${bare.p99.toFixed(2)}`],
    ['producer CPU us per token: tower / tower, no SUB / bare', `${tower.cpuUsPerPublication.toFixed(1)} / ${alone.cpuUsPerPublication.toFixed(1)} / ${bare.cpuUsPerPublication.toFixed(1)}`],
    ['event loop max (ms): tower / tower, no SUB / bare', `${tower.loopMaxMs.toFixed(1)} / ${alone.loopMaxMs.toFixed(1)} / ${bare.loopMaxMs.toFixed(1)}`],
    ['tower stalls', tower.stalls],
    ['ratio', ratio],
  ]);
  emitBench({
    name: 'bus-llm-token',
    value: tower.perSecond,
    unit: 'pub/s delivered',
    baseline: bare.perSecond,
    ratio,
    target: 'ratio >= 0.8',
    met: ratio >= 0.8,
    p50_ms: tower.p50,
    p99_ms: tower.p99,
    loop_max_ms: tower.loopMaxMs,
    notes: `bare p99 ${bare.p99.toFixed(1)} ms; ${tower.received}/${tower.expected} delivered; producer CPU per token ${tower.cpuUsPerPublication.toFixed(1)} us (no SUB ${alone.cpuUsPerPublication.toFixed(1)}, bare ${bare.cpuUsPerPublication.toFixed(1)}); ` +
      `loop max ${tower.loopMaxMs.toFixed(1)} ms (${tower.stalls}; no SUB ${alone.loopMaxMs.toFixed(1)}, bare PUB ${bare.loopMaxMs.toFixed(1)}); load avg ${os.loadavg()[0]!.toFixed(2)}`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
