/**
 * bus-turn-ends: the instance bus's topic service (TopicDeriver) at the end of 500 sessions' turns, all
 * within one burst, as issue 10's `sessions` bench ends them: one `token_usage` + `stream_stopped` batch
 * per session, handed to `onBatch` as the EventLog tap would, over a real SQLite Tower (no bus sockets: a
 * publisher whose interest is "nobody" or "everything"). Reports the main-thread CPU from the first batch
 * until every refresh has settled, and the longest event-loop turn meanwhile (a 0 ms timer chain's gaps).
 * `BENCH_SESSIONS` for another count. Run from any tree: `npx tsx bench/bus-turn-ends.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../src/core/logger.js';
import type { StoredEvent } from '../src/protocol/events.js';
import { resolveConfig } from '../src/server/config.js';
import { startTower } from '../src/server/tower.js';
import { BusPublisher } from '../src/transports/ipc/publisher.js';
import { TopicDeriver } from '../src/transports/ipc/topics.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 500);
const ROUNDS = 5;

const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-bench-turn-ends-'));
const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: path.join(dir, 'data'), workingDir: dir, demo: true }, {});
const tower = await startTower(config, { env: {}, logger: silentLogger, transports: [] });
const ids: string[] = [];
for (let i = 0; i < SESSIONS; i++) ids.push((await tower.commands.execute('sessions.create', { title: `bench ${i}` })).id);

let seq = 1_000;
const batch = (id: string): StoredEvent[] => {
  const timestamp = new Date().toISOString();
  return [
    { session_id: id, seq: seq++, timestamp, type: 'token_usage', data: { model: 'fake/gpt-test', input_tokens: 10, output_tokens: 500 } },
    { session_id: id, seq: seq++, timestamp, type: 'stream_stopped', data: { turn_id: 't', reason: 'end_turn' } },
  ] as StoredEvent[];
};

interface Phase { cpuMs: number; machineMs: number; maxTurnMs: number; sent: number }

async function phase(subscribed: boolean): Promise<Phase> {
  const socket = { closed: false, send: async (): Promise<void> => undefined };
  const publisher = new BusPublisher(socket, 'bench', silentLogger, undefined, { wants: () => subscribed });
  const state = { instanceId: 'bench', startedAt: new Date(), version: '0', workdir: dir, endpoints: { pub: '', rpc: '' }, activeSessionId: undefined };
  const topics = new TopicDeriver(tower.commands, tower.store, publisher, state, silentLogger);
  await topics.prime();
  // First sight of every session (a turn start) outside the measurement, as in the bench's streams.
  for (const id of ids) topics.onBatch([{ session_id: id, seq: seq++, timestamp: new Date().toISOString(), type: 'stream_started', data: { turn_id: 't' } } as StoredEvent]);
  await topics.settled();
  let maxTurn = 0;
  let last = performance.now();
  let ticking = true;
  const tick = (): void => {
    const now = performance.now();
    maxTurn = Math.max(maxTurn, now - last);
    last = now;
    if (ticking) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await new Promise((r) => setTimeout(r, 5));
  maxTurn = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // The group commit hands the tap batches of many sessions; one session per batch is the tap's worst case here.
  for (const id of ids) topics.onBatch(batch(id));
  await topics.settled();
  const machineMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 5));
  ticking = false;
  topics.close();
  return { cpuMs: (cpu.user + cpu.system) / 1000, machineMs, maxTurnMs: maxTurn, sent: publisher.stats.sent };
}

// BENCH_ORDER=subscribed-first: the read path warms up in the first phase, so order matters for the second.
const ORDER = process.env.BENCH_ORDER === 'subscribed-first' ? [true, false] : [false, true];
for (const subscribed of ORDER) {
  const runs: Phase[] = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await phase(subscribed));
  const med = (f: (x: Phase) => number): number => runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  console.log(`bus-turn-ends ${SESSIONS} sessions, subscriber=${subscribed}: cpu ${med((x) => x.cpuMs).toFixed(1)} ms, wall ${med((x) => x.machineMs).toFixed(1)} ms, longest loop turn ${med((x) => x.maxTurnMs).toFixed(1)} ms, frames ${med((x) => x.sent)} (median of ${ROUNDS})`);
}
await tower.close();
rmSync(dir, { recursive: true, force: true });
