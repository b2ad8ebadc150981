/**
 * replay: a client resuming from seq 0 on a 100,000-event session (GET /api/sessions/:id/events?since=0,
 * in another process, over loopback) until it has the last event: events per second received. Baseline:
 * the same rows read straight from SQLite in the server process (a second connection, pages of 500 like
 * Tower's, rows not decoded). Medians of several runs each. Also measured: how long the server took to
 * answer a no-op request sent while a replay was in flight (event-loop responsiveness), and the longest
 * wait of a stream of no-op requests (HTTP `GET /health`, one after another 5 ms apart) over the whole
 * replay: the bar is that no other request waits more than 10 ms while a replay is served.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pick, profArgs } from './lib/cli.js';
import { sleep } from './lib/clock.js';
import { median } from './lib/hist.js';
import { httpNoop, maxOf, probe } from './lib/probe.js';
import { spawnChild, stopAll } from './lib/proc.js';
import { emitBench, human, progress, sig, summary } from './lib/report.js';

const EVENTS = 100_000;
const REPS = pick(2, 5);

interface Replay {
  ms: number;
  frames: number;
  lastSeq: number;
  lost: number;
  dups: number;
  timedOut: boolean;
}

const server = spawnChild('tower', 'servers/tower-server.ts', { nodeArgs: profArgs('replay') });
const clients = spawnChild('replay-client', 'loadgen/sse-clients.ts');
try {
  const { port, db } = await server.request<{ port: number; db: string }>({ type: 'init' });
  const sessionId = (await server.request<{ ids: string[] }>({ type: 'create', n: 1 })).ids[0]!;
  const seeded = await server.request<{ lastSeq: number; ms: number }>({ type: 'seed', sessionId, count: EVENTS, batch: 1_000 }, 120_000);
  progress(`replay: seeded ${seeded.lastSeq} events in ${Math.round(seeded.ms)} ms`);

  const path = `/api/sessions/${sessionId}/events?since=0`;
  await server.request({ type: 'loopDelay' });
  const replays: Replay[] = [];
  const stalls: number[] = [];
  const httpWaits: number[] = [];
  const noop = httpNoop('127.0.0.1', port);
  await noop();
  for (let r = 0; r < REPS; r++) {
    const pending = clients.request<Replay>({ type: 'replay', host: '127.0.0.1', port, path, target: seeded.lastSeq, timeoutMs: 60_000 }, 70_000);
    // No-op HTTP requests one after another for the whole replay: the longest wait is the bar's figure.
    const probing = probe(noop);
    // A no-op IPC request while the replay is being served: how long is everything else kept waiting?
    await sleep(30);
    const t0 = performance.now();
    await server.request({ type: 'cpu' }, 60_000);
    stalls.push(performance.now() - t0);
    const replay = await pending;
    const waits = await probing.stop();
    httpWaits.push(...waits);
    replays.push(replay);
    progress(
      `replay ${r + 1}: ${human((replay.frames / replay.ms) * 1000)} events/s, server answered a ping after ${Math.round(stalls.at(-1)!)} ms; ` +
        `${waits.length} no-op HTTP requests during it waited up to ${sig(maxOf(waits))} ms`,
    );
  }
  const httpMax = maxOf(httpWaits);
  const delay = await server.request<{ maxMs: number }>({ type: 'loopDelay' });
  const bare = await server.request<{ rates: number[]; rows: number }>({ type: 'readBare', db, sessionId, pageSize: 500, reps: REPS }, 120_000);

  const towerRate = median(replays.map((r) => (r.frames / r.ms) * 1000));
  const bareRate = median(bare.rates);
  const ratio = towerRate / bareRate;
  const clean = replays.every((r) => r.lost === 0 && r.dups === 0 && !r.timedOut && r.lastSeq === seeded.lastSeq);
  summary(`replay (${seeded.lastSeq} events, median of ${REPS})`, [
    ['tower over SSE: events/s', human(towerRate)],
    ['tower: ms per full replay', sig(median(replays.map((r) => r.ms)))],
    ['bare SQLite read: rows/s', human(bareRate)],
    ['ratio', sig(ratio)],
    ['server answered a ping during replay after (median ms)', sig(median(stalls))],
    [`no-op HTTP requests during replays (${httpWaits.length}): longest wait (ms)`, sig(httpMax)],
    ['server event loop blocked up to (ms)', Math.round(delay.maxMs)],
    ['every replay complete, gap-free, no duplicates', clean ? 'yes' : 'NO'],
    ['load average (1 min)', sig(os.loadavg()[0]!)],
  ]);
  emitBench({
    name: 'replay',
    value: towerRate,
    unit: 'events/s',
    baseline: bareRate,
    ratio,
    target: 'ratio >= 0.5, no request waits > 10 ms during a replay',
    met: ratio >= 0.5 && httpMax <= 10 && clean,
    loop_max_ms: delay.maxMs,
    notes:
      `${seeded.lastSeq} events (100-byte agent_choice); full replay ${sig(median(replays.map((r) => r.ms)))} ms; ` +
      `a request arriving during a replay waited ${sig(median(stalls))} ms (median), event loop blocked up to ` +
      `${Math.round(delay.maxMs)} ms; ${httpWaits.length} no-op HTTP requests sent during the replays waited up to ` +
      `${sig(httpMax)} ms (median ${sig(median(httpWaits))}); ${clean ? 'lossless' : 'LOSS OR DUPLICATES'}`,
  });
} finally {
  await stopAll(server, clients);
}
