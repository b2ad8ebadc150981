/**
 * Load generator for the sessions benchmark: the paced model server (OpenAI format, N tokens/s per
 * response, paced-model.ts) and one SSE subscriber per session, in one process so a token's write time
 * and its receipt are read on the same clock. Each session's user message is its tag (`s17`); the model
 * answers `s17.0 `, `s17.1 `, … so every received `agent_choice` names the tokens it carries, and their
 * write times sit in a flat array (no map of strings, no string per token: token-frames.ts reads bytes).
 * The generator's own CPU is sampled with the timeline, so the benchmark reports what it took from the
 * machine per token (written and received) next to the server's figures.
 */
import http from 'node:http';
import { TEST_TLS } from '../../src/fake-models/testing/tls.js';
import { machineMs } from '../lib/clock.js';
import { Histogram, type HistogramData } from '../lib/hist.js';
import { serveParent } from '../lib/ipc.js';
import { PacedModel, selfCheck as checkFrames, type Phases } from './paced-model.js';
import { TokenFrames, selfCheck as checkScanner } from './token-frames.js';

interface Sample {
  t: number;
  written: number;
  received: number;
  /** Model requests the fake server has received (title requests included). */
  requests: number;
  /** Sends answered 202 so far (Tower mode). */
  sent: number;
  /** This process's CPU (user + system) so far, us. */
  cpuUs: number;
}

export interface SessionsStats {
  /** When the model started answering (every session's model request had arrived), wall ms. */
  releasedAt: number;
  /** Model requests that had arrived at release (all of them unless the barrier timed out). */
  releasedWith: number;
  sessions: number;
  completed: number;
  written: number;
  received: number;
  /** agent_choice events received (fewer than tokens when deltas were coalesced). */
  deltaEvents: number;
  /** Tokens received that were never written (or content that is no token), and tokens received twice. */
  unmatched: number;
  duplicates: number;
  /** How late the generator wrote tokens against their schedule (ms). */
  lateness: HistogramData;
  phases: Phases;
  /** Tokens written after the warm-up (the steady window), and their latencies. */
  steady: HistogramData;
  all: HistogramData;
  timeline: Sample[];
  startedAt: number;
  /** First stream_stopped: the end of the window where every session streams. */
  firstStopAt: number;
  lastStopAt: number;
  /** Steady-window tokens not received by the deadline (counted in `steady` at their age then). */
  censored: number;
  cpuPct: number;
  errors: string[];
}

let model: PacedModel | undefined;
/**
 * The subscribers of the last run, left open when its figures are returned: hanging up 500 SSE
 * connections makes the server build as many ECONNRESET errors (stack traces through source maps under
 * tsx), a stall of its own that is the harness's, not the workload's; the benchmark reads the server's
 * loop and GC figures first, then asks for `hangUp`.
 */
let responses: http.IncomingMessage[] = [];
const hangUp = (): void => {
  for (const res of responses) res.destroy();
  responses = [];
};
let onRelease: () => void = () => {};

function request(host: string, port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path, agent: false, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined }));
      },
    );
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(payload);
  });
}

async function pool<T>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

async function drive(opts: {
  host: string;
  port: number;
  sessions: number;
  warmupMs: number;
  /** The measurement ends this long after release. */
  streamMs: number;
  /** Longest wait for every model request to arrive. */
  barrierMs: number;
  mode: 'tower' | 'bare';
  phases: Phases;
}): Promise<SessionsStats> {
  const { host, port, sessions, mode } = opts;
  const paced = model;
  if (!paced) throw new Error('startFake first');
  const steady = new Histogram();
  const all = new Histogram();
  const errors: string[] = [];
  let received = 0;
  let deltaEvents = 0;
  let unmatched = 0;
  let duplicates = 0;
  let completed = 0;
  let firstStopAt = 0;
  let lastStopAt = 0;
  hangUp();
  paced.reset(sessions, opts.phases);
  const released = new Promise<void>((resolve) => (onRelease = resolve));
  const barrierTimer = setTimeout(() => paced.release(), opts.barrierMs);
  const cpu0 = process.cpuUsage();
  const t0 = machineMs();
  const tokens = paced.tokensPerStream;

  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  /** Receipt time of the chunk being scanned: every token in it arrived then. */
  let now = 0;
  const sink = {
    token(session: number, n: number): void {
      const i = session < sessions && n < tokens ? session * tokens + n : -1;
      const at = i < 0 ? 0 : paced.writtenAt[i]!;
      if (at === 0) {
        unmatched++;
        return;
      }
      if (at < 0) {
        duplicates++;
        return;
      }
      paced.writtenAt[i] = -at;
      received++;
      all.record(now - at);
      if (at >= paced.releasedAt + opts.warmupMs) steady.record(now - at);
    },
    choice: () => void deltaEvents++,
    malformed: () => void unmatched++,
    stopped(): void {
      completed++;
      if (firstStopAt === 0) firstStopAt = now;
      lastStopAt = now;
      if (completed === sessions) allDone();
    },
  };
  const subscribe = (path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host, port, path, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
          return;
        }
        responses.push(res);
        const scanner = new TokenFrames(sink);
        res.on('data', (chunk: Buffer) => {
          now = machineMs();
          scanner.push(chunk);
        });
        res.on('error', (err) => errors.push(err.message));
        resolve();
      });
      req.on('error', reject);
    });

  const timeline: Sample[] = [];
  let sent = 0;
  const sample = (): Sample => {
    const cpu = process.cpuUsage();
    return { t: machineMs(), written: paced.written, received, requests: paced.requests, sent, cpuUs: cpu.user + cpu.system };
  };
  const sampler = setInterval(() => timeline.push(sample()), 500);
  let startedAt = 0;
  try {
    const tags = Array.from({ length: sessions }, (_, i) => `s${i}`);
    if (mode === 'tower') {
      const ids: string[] = [];
      await pool(tags, 50, async (_tag, i) => {
        const r = await request(host, port, 'POST', '/api/sessions', {});
        if (r.status !== 201) throw new Error(`create session: HTTP ${r.status} ${JSON.stringify(r.json)}`);
        ids[i] = (r.json as { id: string }).id;
      });
      await pool(ids, 100, (id) => subscribe(`/api/sessions/${id}/events?since=0`));
      startedAt = machineMs();
      await pool(ids, 50, async (id, i) => {
        const r = await request(host, port, 'POST', `/api/sessions/${id}/messages`, { content: tags[i] });
        if (r.status !== 202) throw new Error(`send: HTTP ${r.status} ${JSON.stringify(r.json)}`);
        sent++;
      });
    } else {
      startedAt = machineMs();
      await pool(tags, 100, (tag) => subscribe(`/relay?tag=${tag}`));
    }
    await released;
    // The measurement stops at release + streamMs whether or not everything arrived.
    const deadline = setTimeout(allDone, Math.max(0, paced.releasedAt + opts.streamMs - machineMs()));
    await done;
    clearTimeout(deadline);
  } finally {
    clearTimeout(barrierTimer);
    clearInterval(sampler);
  }
  timeline.push(sample());
  // Tokens still in flight at the deadline: at least this late (so p99 is a lower bound when behind).
  const end = machineMs();
  let censored = 0;
  for (const at of paced.writtenAt) {
    if (at <= 0 || at < paced.releasedAt + opts.warmupMs) continue;
    steady.record(end - at);
    censored++;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    releasedAt: paced.releasedAt,
    releasedWith: paced.releasedWith,
    sessions,
    completed,
    written: paced.written,
    received,
    deltaEvents,
    unmatched,
    duplicates,
    lateness: paced.lateness.toData(),
    phases: opts.phases,
    steady: steady.toData(),
    all: all.toData(),
    timeline,
    startedAt,
    firstStopAt,
    lastStopAt,
    censored,
    cpuPct: ((cpu.user + cpu.system) / 1000 / (machineMs() - t0)) * 100,
    errors: errors.slice(0, 5),
  };
}

serveParent(
  {
    async startFake(msg) {
      const { tokensPerSecond, tokens, tls } = msg as unknown as { tokensPerSecond: number; tokens: number; tls?: boolean };
      checkFrames();
      checkScanner();
      model = new PacedModel({ tokensPerSecond, tokens, onRelease: () => onRelease() });
      return { url: await model.listen(tls ? TEST_TLS : undefined) };
    },
    async run(msg) {
      return drive(msg as unknown as Parameters<typeof drive>[0]);
    },
    hangUp: () => hangUp(),
    /** bench/ingest.ts: a new run of N sessions without the driver's subscribers (Tower is in-process there). */
    async reset(msg) {
      if (!model) throw new Error('startFake first');
      model.reset((msg as unknown as { sessions: number }).sessions, 'spread');
      return {};
    },
  },
  { onExit: async () => void (await model?.close()) },
);
