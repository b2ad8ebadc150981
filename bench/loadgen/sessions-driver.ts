/**
 * Load generator for the sessions benchmark: the fake model server (OpenAI format, paced at N tokens/s
 * per response) and one SSE subscriber per session, in one process so a token's write time and its
 * receipt are read on the same clock. Each session's user message is its tag (`s17`); the model answers
 * `s17.0 `, `s17.1 `, … so every received `agent_choice` names the token it carries.
 */
import http from 'node:http';
import { wallMs } from '../lib/clock.js';
import { Histogram, type HistogramData } from '../lib/hist.js';
import { serveParent } from '../lib/ipc.js';
import { FrameScanner, frameContent, frameType } from '../lib/sse-scan.js';
import { isTitleRequest, lastUserText, startFakeModelServer, type FakeModelServer } from '../../src/fake-models/index.js';

interface Sample {
  t: number;
  written: number;
  received: number;
  /** Model requests the fake server has received (title requests included). */
  requests: number;
  /** Sends answered 202 so far (Tower mode). */
  sent: number;
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
  unmatched: number;
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

let fake: FakeModelServer | undefined;
/**
 * The barrier: the fake model holds every answer until `expected` model requests have arrived (or
 * `barrierMs` passed), so all sessions stream at once; start-up cost is measured apart from streaming.
 */
let expected = Infinity;
let arrived = 0;
let releasedAt = 0;
let releasedWith = 0;
let release: () => void = () => {};
let gate = Promise.resolve();
function resetBarrier(n: number): void {
  expected = n;
  arrived = 0;
  releasedAt = 0;
  gate = new Promise<void>((resolve) => {
    release = () => {
      if (releasedAt === 0) {
        releasedAt = wallMs();
        releasedWith = arrived;
      }
      resolve();
    };
  });
}
/** Token text → write time; deleted on receipt. */
const written = new Map<string, number>();
let writtenCount = 0;

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
}): Promise<SessionsStats> {
  const { host, port, sessions, mode } = opts;
  const steady = new Histogram();
  const all = new Histogram();
  const errors: string[] = [];
  let received = 0;
  let deltaEvents = 0;
  let unmatched = 0;
  let completed = 0;
  let firstStopAt = 0;
  let lastStopAt = 0;
  const responses: http.IncomingMessage[] = [];
  written.clear();
  writtenCount = 0;
  resetBarrier(sessions);
  const barrierTimer = setTimeout(() => release(), opts.barrierMs);
  const cpu0 = process.cpuUsage();
  const t0 = wallMs();

  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const subscribe = (path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host, port, path, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
          return;
        }
        responses.push(res);
        let now = 0;
        const scanner = new FrameScanner((_seq, text, start, end) => {
          const type = frameType(text, start, end);
          if (type === 'agent_choice') {
            const content = frameContent(text, start, end);
            deltaEvents++;
            if (content === undefined) {
              unmatched++;
              return;
            }
            // One event may carry several tokens (Tower coalesces deltas that arrived together): each
            // token `s17.3 ` ends with its space, so each is matched to its own write time.
            for (let from = 0; from < content.length; ) {
              const space = content.indexOf(' ', from);
              const to = space < 0 ? content.length : space + 1;
              const token = to - from === content.length ? content : content.slice(from, to);
              from = to;
              const at = written.get(token);
              if (at === undefined) {
                unmatched++;
                continue;
              }
              written.delete(token);
              received++;
              all.record(now - at);
              if (at >= releasedAt + opts.warmupMs) steady.record(now - at);
            }
          } else if (type === 'stream_stopped') {
            completed++;
            if (firstStopAt === 0) firstStopAt = now;
            lastStopAt = now;
            if (completed === sessions) allDone();
          }
        });
        res.on('data', (chunk: Buffer) => {
          now = wallMs();
          scanner.push(chunk);
        });
        res.on('error', (err) => errors.push(err.message));
        resolve();
      });
      req.on('error', reject);
    });

  const timeline: Sample[] = [];
  let sent = 0;
  const sample = (): Sample => ({ t: wallMs(), written: writtenCount, received, requests: fake?.requests.length ?? 0, sent });
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
      startedAt = wallMs();
      await pool(ids, 50, async (id, i) => {
        const r = await request(host, port, 'POST', `/api/sessions/${id}/messages`, { content: tags[i] });
        if (r.status !== 202) throw new Error(`send: HTTP ${r.status} ${JSON.stringify(r.json)}`);
        sent++;
      });
    } else {
      startedAt = wallMs();
      await pool(tags, 100, (tag) => subscribe(`/relay?tag=${tag}`));
    }
    await gate;
    // The measurement stops at release + streamMs whether or not everything arrived.
    const deadline = setTimeout(allDone, Math.max(0, releasedAt + opts.streamMs - wallMs()));
    await done;
    clearTimeout(deadline);
  } finally {
    clearTimeout(barrierTimer);
    clearInterval(sampler);
    for (const res of responses) res.destroy();
  }
  timeline.push(sample());
  // Tokens still in flight at the deadline: at least this late (so p99 is a lower bound when behind).
  const end = wallMs();
  let censored = 0;
  for (const at of written.values()) {
    if (at < releasedAt + opts.warmupMs) continue;
    steady.record(end - at);
    censored++;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    releasedAt,
    releasedWith,
    sessions,
    completed,
    written: writtenCount,
    received,
    deltaEvents,
    unmatched,
    steady: steady.toData(),
    all: all.toData(),
    timeline,
    startedAt,
    firstStopAt,
    lastStopAt,
    censored,
    cpuPct: ((cpu.user + cpu.system) / 1000 / (wallMs() - t0)) * 100,
    errors: errors.slice(0, 5),
  };
}

serveParent(
  {
    async startFake(msg) {
      const { tokensPerSecond, tokens } = msg as unknown as { tokensPerSecond: number; tokens: number };
      fake = await startFakeModelServer({
        format: 'openai',
        tokensPerSecond,
        script: async (req) => {
          if (isTitleRequest(req)) return undefined;
          if (++arrived >= expected) release();
          await gate;
          const tag = lastUserText(req).trim();
          return { text: Array.from({ length: tokens }, (_, n) => `${tag}.${n} `), usage: { input_tokens: 10, output_tokens: tokens } };
        },
        onChunkWritten: (text) => {
          written.set(text, wallMs());
          writtenCount++;
        },
      });
      return { url: fake.url };
    },
    async run(msg) {
      return drive(msg as unknown as Parameters<typeof drive>[0]);
    },
  },
  { onExit: async () => void (await fake?.close()) },
);
