/**
 * replay: a client resuming from seq 0 on a 100,000-event session (GET /api/sessions/:id/events?since=0,
 * in another process, over loopback) until it has the last event: events per second received. Baseline:
 * the same rows read straight from SQLite in the server process (a second connection, pages of 500 like
 * Tower's, rows not decoded). Medians of several runs each. Also measured: how long the server took to
 * answer a no-op request sent while a replay was in flight (event-loop responsiveness).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { pick, profArgs } from './lib/cli.js';
import { sleep } from './lib/clock.js';
import { median } from './lib/hist.js';
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
  for (let r = 0; r < REPS; r++) {
    const pending = clients.request<Replay>({ type: 'replay', host: '127.0.0.1', port, path, target: seeded.lastSeq, timeoutMs: 60_000 }, 70_000);
    // A no-op request while the replay is being served: how long is everything else kept waiting?
    await sleep(30);
    const t0 = performance.now();
    await server.request({ type: 'cpu' }, 60_000);
    stalls.push(performance.now() - t0);
    const replay = await pending;
    replays.push(replay);
    progress(`replay ${r + 1}: ${human((replay.frames / replay.ms) * 1000)} events/s, server answered a ping after ${Math.round(stalls.at(-1)!)} ms`);
  }
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
    target: 'ratio >= 0.5',
    met: ratio >= 0.5 && clean,
    loop_max_ms: delay.maxMs,
    notes:
      `${seeded.lastSeq} events (100-byte agent_choice); full replay ${sig(median(replays.map((r) => r.ms)))} ms; ` +
      `a request arriving during a replay waited ${sig(median(stalls))} ms (median), event loop blocked up to ` +
      `${Math.round(delay.maxMs)} ms; ${clean ? 'lossless' : 'LOSS OR DUPLICATES'}`,
  });
} finally {
  await stopAll(server, clients);
}
