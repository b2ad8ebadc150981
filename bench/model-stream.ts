/**
 * model-stream: the model-stream read path alone (socket -> HTTP client -> SSE -> decoder -> PartQueue ->
 * a push-mode sink that only counts), for CPU-per-token A/B of the wire client. N streams from the
 * sessions bench's paced OpenAI server (a child process, 50 tok/s each, started together once all
 * requests are in, spread over one period), through the real WireStepper (openai-compatible). Reports
 * per token: process CPU (user + system, so the kernel's share of each socket read counts),
 * main-thread busy time, and GC per 10k tokens. No event log, store or agent loop (bench/ingest.ts has
 * those).
 *
 * `npx tsx bench/model-stream.ts [--root DIR] [--streams 500] [--tokens 250] [--rounds 3]`; run it under
 * the bench lock. `TOWER_MODEL_HTTP=node` runs this tree's wire path over node:http (the A/B of the
 * plain-http client within one tree).
 *
 * `--tls`: the paced server speaks HTTPS with the test certificate (src/fake-models/testing/tls/); run
 * with `NODE_EXTRA_CA_CERTS=src/fake-models/testing/tls/cert.pem` so that either client (this tree's
 * over node:tls, or node:https in a tree from before wave 10, `--root`) trusts it as node's default store.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { watchGc } from './lib/gc-watch.js';
import { ROOT, spawnChild } from './lib/proc.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const root = path.resolve(arg('root', ROOT));
const STREAMS = Number(arg('streams', '500'));
const TOKENS = Number(arg('tokens', '250'));
const ROUNDS = Number(arg('rounds', '3'));
const TLS = process.argv.includes('--tls');

const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(path.join(root, 'src', file)).href)) as T;
/* eslint-disable @typescript-eslint/consistent-type-imports -- the same modules, from another tree */
const { createModelRegistry } = await load<typeof import('../src/core/models/registry.js')>('core/models/registry.ts');
const { WireStepper } = await load<typeof import('../src/core/models/wire/wire-stepper.js')>('core/models/wire/wire-stepper.ts');
type StepPart = import('../src/core/models/types.js').StepPart;
type StepPartIterator = import('../src/core/models/types.js').StepPartIterator;
/* eslint-enable @typescript-eslint/consistent-type-imports */

const driver = spawnChild('sessions-driver', 'loadgen/sessions-driver.ts');
const { url } = await driver.request<{ url: string }>({ type: 'startFake', tokensPerSecond: 50, tokens: TOKENS, tls: TLS });
const registry = createModelRegistry({ config: { providers: { fake: { type: 'openai-compatible', base_url: url } } }, env: {} });
const stepper = new WireStepper(registry);

/** One step read to its end in push mode, as the agent loop reads it; resolves with its text deltas. */
async function readStep(i: number): Promise<number> {
  let deltas = 0;
  const it = stepper.step({ model: 'fake/gpt-test', system: 'sys', messages: [{ role: 'user', content: `s${i}` }], tools: [], signal: new AbortController().signal })[
    Symbol.asyncIterator
  ]() as StepPartIterator;
  const count = (part: StepPart) => {
    if (part.type === 'text') deltas++;
    else if (part.type === 'error') throw new Error(`model-stream: ${part.message}`);
  };
  if (it.drain) await it.drain({ item: count, batch: () => undefined });
  else for (let r = await it.next(); !r.done; r = await it.next()) count(r.value);
  return deltas;
}

async function round(streams: number): Promise<{ cpuUs: number; busyUs: number; gcs: number; gcMs: number; load: number; deltas: number }> {
  await driver.request({ type: 'reset', sessions: streams });
  const gc = watchGc();
  const loadAvg = os.loadavg()[0] ?? 0;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const deltas = (await Promise.all(Array.from({ length: streams }, (_, i) => readStep(i)))).reduce((a, b) => a + b, 0);
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const { count, ms } = gc();
  const tokens = streams * TOKENS;
  return { cpuUs: (cpu.user + cpu.system) / tokens, busyUs: (elu.active * 1000) / tokens, gcs: (count * 10_000) / tokens, gcMs: (ms * 10_000) / tokens, load: loadAvg, deltas };
}

try {
  await round(50); // warm-up: JIT, the keep-alive connections
  for (let r = 1; r <= ROUNDS; r++) {
    const row = await round(STREAMS);
    console.log(
      `model-stream ${path.basename(root)}${TLS ? ' https' : ''}${process.env.TOWER_MODEL_HTTP ? ` (TOWER_MODEL_HTTP=${process.env.TOWER_MODEL_HTTP})` : ''} round ${r}: ` +
        `${STREAMS} streams x ${TOKENS} tokens, load ${row.load.toFixed(2)}: cpu ${row.cpuUs.toFixed(2)} us/token, main busy ${row.busyUs.toFixed(2)} us/token, ` +
        `gc ${row.gcs.toFixed(2)} per 10k tokens (${row.gcMs.toFixed(1)} ms), ${(row.deltas / STREAMS).toFixed(0)} text deltas/stream`,
    );
  }
} finally {
  await driver.stop();
}
