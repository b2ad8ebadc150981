/**
 * Load generator for fanout-ws: many hub WebSocket clients in one process, over real loopback sockets.
 * Each subscribes (`subscribe {session_id, from_seq}`) and tracks `event` / `batch` frames by seq
 * (losses, duplicates) and latency (the creation stamp in each event's content to receipt here).
 */
import { WebSocket } from 'ws';
import { machineMs } from '../lib/clock.js';
import { Histogram } from '../lib/hist.js';
import { serveParent } from '../lib/ipc.js';
import type { ClientStats } from './sse-clients.js';

interface Conn {
  ws: WebSocket;
  lastSeq: number;
  lost: number;
  dups: number;
  ended: boolean;
  error?: string;
}

let conns: Conn[] = [];
let hist = new Histogram();
let deliveries = 0;
let bytes = 0;
let firstRecv = 0;
let lastRecv = 0;
let cpuFrom = process.cpuUsage();
let cpuAt = machineMs();

interface WireEvent {
  seq: number;
  content?: string;
}

function track(conn: Conn, e: WireEvent, now: number): void {
  if (e.seq <= conn.lastSeq) {
    conn.dups++;
    return;
  }
  if (e.seq > conn.lastSeq + 1) conn.lost += e.seq - conn.lastSeq - 1;
  conn.lastSeq = e.seq;
  deliveries++;
  if (typeof e.content === 'string' && e.content.startsWith('@')) hist.record(now - parseFloat(e.content.slice(1, 21)));
}

function open(url: string, subscribe: unknown, since: number): Promise<Conn> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const conn: Conn = { ws, lastSeq: since, lost: 0, dups: 0, ended: false };
  conns.push(conn);
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const now = machineMs();
      if (firstRecv === 0) firstRecv = now;
      const text = String(data);
      bytes += text.length;
      const f = JSON.parse(text) as { type: string; data?: { events?: WireEvent[] } & WireEvent };
      if (f.type === 'event' && f.data) track(conn, f.data, now);
      else if (f.type === 'batch') for (const e of f.data?.events ?? []) track(conn, e, now);
      else return;
      lastRecv = now;
    });
    ws.once('open', () => {
      if (subscribe) ws.send(JSON.stringify({ type: 'subscribe', timestamp: Date.now(), data: subscribe }));
      resolve(conn);
    });
    ws.once('error', (err) => {
      conn.error = err.message;
      reject(err);
    });
    ws.on('close', () => (conn.ended = true));
  });
}

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
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
  for (const c of conns) c.ws.terminate();
  conns = [];
}

serveParent(
  {
    /** Opens `count` connections; with `sessionId`, each subscribes from `since`. */
    async connect(msg) {
      const { url, count, sessionId, since, concurrency } = msg as unknown as { url: string; count: number; sessionId?: string; since: number; concurrency?: number };
      const t0 = machineMs();
      const sub = sessionId ? { session_id: sessionId, from_seq: since } : undefined;
      await pool(Array.from({ length: count }), concurrency ?? 100, () => open(url, sub, since));
      return { connected: conns.length, ms: machineMs() - t0 };
    },

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

    async waitSeq(msg) {
      const { target, timeoutMs } = msg as unknown as { target: number; timeoutMs: number };
      const deadline = machineMs() + timeoutMs;
      for (;;) {
        if (conns.every((c) => c.lastSeq >= target || c.ended)) return stats();
        if (machineMs() > deadline) return { ...stats(), timedOut: true };
        await new Promise((r) => setTimeout(r, 10));
      }
    },

    stats: () => stats(),

    closeAll() {
      closeAll();
      return {};
    },
  },
  { onExit: closeAll },
);
