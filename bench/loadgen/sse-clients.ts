/**
 * Load generator: many SSE subscribers (or idle WebSockets) in one process, over real loopback sockets.
 * Driven by a benchmark over IPC (see bench/lib/proc.ts); reports deliveries, latency (from the creation
 * stamp carried in each event's content to receipt here), and losses/duplicates checked by seq.
 */
import http, { type IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import { stampIn, machineMs } from '../lib/clock.js';
import { Histogram, type HistogramData } from '../lib/hist.js';
import { notifyParent, serveParent } from '../lib/ipc.js';
import { FrameScanner } from '../lib/sse-scan.js';

interface Conn {
  res?: IncomingMessage;
  lastSeq: number;
  frames: number;
  lost: number;
  dups: number;
  ended: boolean;
  error?: string;
  /** Called once the cursor reaches `seq`. */
  until?: { seq: number; done: () => void };
}

export interface ClientStats {
  conns: number;
  deliveries: number;
  bytes: number;
  firstRecv: number;
  lastRecv: number;
  hist: HistogramData;
  lost: number;
  dups: number;
  minSeq: number;
  maxSeq: number;
  ended: number;
  errors: number;
  /** This process's CPU use since the last reset, in % of one core. */
  cpuPct: number;
  timedOut?: boolean;
}

let conns: Conn[] = [];
let sockets: WebSocket[] = [];
let hist = new Histogram();
let deliveries = 0;
let bytes = 0;
let firstRecv = 0;
let lastRecv = 0;
let cpuFrom = process.cpuUsage();
let cpuAt = machineMs();

function track(conn: Conn, seq: number): void {
  if (seq <= conn.lastSeq) {
    conn.dups++;
    return;
  }
  if (seq > conn.lastSeq + 1) conn.lost += seq - conn.lastSeq - 1;
  conn.lastSeq = seq;
  if (conn.until && seq >= conn.until.seq) {
    conn.until.done();
    conn.until = undefined;
  }
}

function open(host: string, port: number, path: string, since: number): Promise<Conn> {
  const conn: Conn = { lastSeq: since, frames: 0, lost: 0, dups: 0, ended: false };
  conns.push(conn);
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
        return;
      }
      conn.res = res;
      let now = 0;
      const scanner = new FrameScanner((seq, text, start, end) => {
        track(conn, seq);
        conn.frames++;
        deliveries++;
        const stamp = stampIn(text, start, end);
        if (stamp === stamp) hist.record(now - stamp);
      });
      res.on('data', (chunk: Buffer) => {
        now = machineMs();
        if (firstRecv === 0) firstRecv = now;
        bytes += chunk.length;
        if (scanner.push(chunk) > 0) lastRecv = now;
      });
      res.on('end', () => (conn.ended = true));
      res.on('error', (err) => (conn.error = err.message));
      resolve(conn);
    });
    req.on('error', (err) => {
      conn.error = err.message;
      conn.ended = true;
      reject(err);
    });
  });
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function pool<T>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  });
  await Promise.all(lanes);
}

function stats(): ClientStats {
  let lost = 0;
  let dups = 0;
  let minSeq = Infinity;
  let maxSeq = 0;
  let ended = 0;
  let errors = 0;
  for (const c of conns) {
    lost += c.lost;
    dups += c.dups;
    minSeq = Math.min(minSeq, c.lastSeq);
    maxSeq = Math.max(maxSeq, c.lastSeq);
    if (c.ended) ended++;
    if (c.error) errors++;
  }
  const cpu = process.cpuUsage(cpuFrom);
  const cpuPct = ((cpu.user + cpu.system) / 1000 / (machineMs() - cpuAt)) * 100;
  return { conns: conns.length, deliveries, bytes, firstRecv, lastRecv, hist: hist.toData(), lost, dups, minSeq, maxSeq, ended, errors, cpuPct };
}

function closeAll(): void {
  for (const c of conns) c.res?.destroy();
  for (const s of sockets) s.terminate();
  conns = [];
  sockets = [];
}

serveParent(
  {
    /** Opens one SSE subscription per path (each path's `since=` is the starting cursor). */
    async connect(msg) {
      const { host, port, paths, concurrency } = msg as unknown as { host: string; port: number; paths: string[]; concurrency?: number };
      const t0 = machineMs();
      await pool(paths, concurrency ?? 100, (path) => open(host, port, path, Number(/since=(\d+)/.exec(path)?.[1] ?? 0)));
      return { connected: conns.length, ms: machineMs() - t0 };
    },

    /** Opens idle WebSocket connections (the bare `ws` memory reference). */
    async connectWs(msg) {
      const { url, count, concurrency } = msg as unknown as { url: string; count: number; concurrency?: number };
      const t0 = machineMs();
      await pool(Array.from({ length: count }), concurrency ?? 100, () =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(url, { perMessageDeflate: false });
          ws.once('open', () => resolve());
          ws.once('error', reject);
          sockets.push(ws);
        }),
      );
      return { connected: sockets.length, ms: machineMs() - t0 };
    },

    /** Starts a measurement window: forgets deliveries and latencies so far (cursors are kept). */
    reset() {
      hist = new Histogram();
      deliveries = 0;
      bytes = 0;
      firstRecv = 0;
      lastRecv = 0;
      cpuFrom = process.cpuUsage();
      cpuAt = machineMs();
      return {};
    },

    /** Waits until every subscriber's cursor reached `target` (or the timeout), then reports. */
    async waitSeq(msg) {
      const { target, timeoutMs } = msg as unknown as { target: number; timeoutMs: number };
      const deadline = machineMs() + timeoutMs;
      for (;;) {
        const done = conns.every((c) => c.lastSeq >= target || c.ended);
        if (done) return stats();
        if (machineMs() > deadline) return { ...stats(), timedOut: true };
        await new Promise((r) => setTimeout(r, 10));
      }
    },

    stats: () => stats(),

    /** One subscriber stops reading (its socket is paused, so TCP backpressure reaches the server). */
    stall(msg) {
      const { index, ms } = msg as unknown as { index: number; ms: number };
      const conn = conns[index];
      if (!conn?.res) throw new Error(`no connection ${index}`);
      const res = conn.res;
      const seqAtPause = conn.lastSeq;
      res.pause();
      setTimeout(() => {
        notifyParent({ type: 'resumed', at: machineMs(), seqAtResume: conn.lastSeq, seqAtPause });
        res.resume();
      }, ms);
      return { pausedAt: machineMs(), seqAtPause };
    },

    conn(msg) {
      const c = conns[(msg as unknown as { index: number }).index];
      if (!c) throw new Error('no such connection');
      return { lastSeq: c.lastSeq, frames: c.frames, lost: c.lost, dups: c.dups, ended: c.ended, error: c.error };
    },

    /** Resumes from `since` on a fresh connection and reads until `target`: time to last event. */
    async replay(msg) {
      const { host, port, path, target, timeoutMs } = msg as unknown as { host: string; port: number; path: string; target: number; timeoutMs: number };
      const before = conns.length;
      const t0 = machineMs();
      const conn = await open(host, port, path, Number(/since=(\d+)/.exec(path)?.[1] ?? 0));
      if (conn.lastSeq < target) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          conn.until = { seq: target, done: () => (clearTimeout(timer), resolve()) };
          conn.res?.once('close', () => (clearTimeout(timer), resolve()));
        });
      }
      const ms = lastRecv - t0;
      conn.res?.destroy();
      conns.splice(before, 1);
      return { ms, frames: conn.frames, lastSeq: conn.lastSeq, lost: conn.lost, dups: conn.dups, timedOut: conn.lastSeq < target };
    },

    closeAll() {
      closeAll();
      return {};
    },
  },
  { onExit: closeAll },
);
