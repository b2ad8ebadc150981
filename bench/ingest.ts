/**
 * ingest: the model-stream ingestion path alone, in one process, for CPU-per-token A/B between trees.
 * N model streams (the sessions bench's fake OpenAI server in a child process, paced at 50 tok/s, over
 * real HTTP) through the real WireStepper (openai-compatible) -> timedStepper -> runTurn -> TurnWriter ->
 * EventLog -> SQLite file store, with a MemoryBus listener per session. Reports, per token: process CPU
 * (main thread + SQLite writer thread), main-thread busy time (`eventLoopUtilization`), GC count and
 * pause per 10k tokens, and agent_choice events per stream.
 *
 * `npx tsx bench/ingest.ts [--root DIR] [--streams 150] [--tokens 250] [--rounds 3]`: `--root` loads
 * Tower from another tree (e.g. a `git archive` of the base), so both trees run the same harness. Run
 * it under the bench lock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { watchGc } from './lib/gc-watch.js';
import { ROOT, spawnChild } from './lib/proc.js';
import { benchSessionId } from './lib/ids.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const root = path.resolve(arg('root', ROOT));
const STREAMS = Number(arg('streams', '150'));
const TOKENS = Number(arg('tokens', '250'));
const ROUNDS = Number(arg('rounds', '3'));
/**
 * Under `valgrind --tool=callgrind --instr-atstart=no`, `--callgrind` turns instrumentation on for the
 * measured rounds only (`callgrind_control -i`), so the dump's instruction count is theirs: repeatable
 * under a noisy machine (run few streams: valgrind is ~50x slower, and the streams are paced).
 */
const CALLGRIND = process.argv.includes('--callgrind');
const instrument = async (on: boolean): Promise<void> => {
  if (CALLGRIND) await promisify(execFile)('callgrind_control', ['-i', on ? 'on' : 'off', String(process.pid)]);
};

const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(root, 'src', file)).href)) as T;
/* eslint-disable @typescript-eslint/consistent-type-imports -- the same modules, from another tree */
const { openSqliteStore } = await load<typeof import('../src/store/sqlite/index.js')>('store/sqlite/index.ts');
const { EventLog } = await load<typeof import('../src/core/event-log/index.js')>('core/event-log/index.ts');
const { MemoryBus } = await load<typeof import('../src/bus/index.js')>('bus/index.ts');
const { createModelRegistry } = await load<typeof import('../src/core/models/registry.js')>('core/models/registry.ts');
const { WireStepper } = await load<typeof import('../src/core/models/wire/wire-stepper.js')>('core/models/wire/wire-stepper.ts');
const { Metrics } = await load<typeof import('../src/core/metrics/metrics.js')>('core/metrics/metrics.ts');
const { runTurn } = await load<typeof import('../src/core/agent/agent-loop.js')>('core/agent/agent-loop.ts');
const { TurnWriter } = await load<typeof import('../src/core/agent/turn-writer.js')>('core/agent/turn-writer.ts');
const { silentLogger } = await load<typeof import('../src/core/logger.js')>('core/logger.ts');
const { testSessionRecord } = await load<typeof import('../src/store/testing/fixtures.js')>('store/testing/fixtures.ts');
/* eslint-enable @typescript-eslint/consistent-type-imports */

interface Row {
  cpuUs: number;
  busyUs: number;
  gcs: number;
  gcMs: number;
  eventsPerStream: number;
  load: number;
}

const driver = spawnChild('sessions-driver', 'loadgen/sessions-driver.ts');
const { url } = await driver.request<{ url: string }>({ type: 'startFake', tokensPerSecond: 50, tokens: TOKENS });
const registry = createModelRegistry({ config: { providers: { fake: { type: 'openai-compatible', base_url: url } } }, env: {} });
const stepper = new Metrics().stepper(new WireStepper(registry));
const executor = { specs: () => [], execute: async () => ({ output: '', is_error: false }) };

async function round(streams: number, index: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tower-ingest-'));
  const store = openSqliteStore(path.join(dir, 'tower.db'));
  const bus = new MemoryBus();
  const log = new EventLog(store, bus);
  let events = 0;
  const ids: string[] = [];
  for (let i = 0; i < streams; i++) {
    const id = benchSessionId(index * 10_000 + i);
    await store.createSession(testSessionRecord(id, { working_dir: dir }));
    bus.subscribe(id, (e) => {
      if (e.type === 'agent_choice') events++;
    });
    ids.push(id);
  }
  // The paced server holds the answers until all `streams` requests are in, then starts them spread over one period.
  await driver.request({ type: 'reset', sessions: streams });
  const gc = watchGc();
  const load = os.loadavg()[0] ?? 0;
  if (index > 0) await instrument(true);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  await Promise.all(
    ids.map((id, i) =>
      runTurn(
        { stepper, executor, cost: () => 0, logger: silentLogger },
        {
          turnId: `t${i}`,
          workingDir: dir,
          model: () => 'fake/gpt-test',
          system: 'sys',
          maxIterations: 1,
          conversation: [{ role: 'user', content: `s${i}` }],
          signal: new AbortController().signal,
          writer: new TurnWriter(log, id),
          totals: { input_tokens: 0, output_tokens: 0, cost: 0 },
        },
      ),
    ),
  );
  await log.flush();
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  if (index > 0) await instrument(false);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { count: gcs, ms: gcMs } = gc();
  await log.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const tokens = streams * TOKENS;
  return {
    cpuUs: (cpu.user + cpu.system) / tokens,
    busyUs: (elu.active * 1000) / tokens,
    gcs: (gcs * 10_000) / tokens,
    gcMs: (gcMs * 10_000) / tokens,
    eventsPerStream: events / streams,
    load,
  };
}

try {
  await round(20, 0); // warm-up: JIT, the writer thread, the keep-alive agent
  for (let r = 1; r <= ROUNDS; r++) {
    const row = await round(STREAMS, r);
    console.log(
      `ingest ${path.basename(root)} round ${r}: ${STREAMS} streams x ${TOKENS} tokens, load ${row.load.toFixed(2)}: ` +
        `cpu ${row.cpuUs.toFixed(1)} us/token, main busy ${row.busyUs.toFixed(1)} us/token, ` +
        `gc ${row.gcs.toFixed(2)} per 10k tokens (${row.gcMs.toFixed(1)} ms), ${row.eventsPerStream.toFixed(0)} agent_choice events/stream`,
    );
  }
} finally {
  await driver.stop();
}
process.exit(0);
