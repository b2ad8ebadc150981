/**
 * The bare baseline: `node:http` writing the same SSE frames Tower writes, to every open response, with
 * nothing in between (no store, no bus, no subscription queue, no web streams). Also accepts bare `ws`
 * connections on /ws for the idle-memory reference. Same process layout as tower-server.ts.
 */
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { stampedContent, machineMs } from '../lib/clock.js';
import { memory, serveParent } from '../lib/ipc.js';
import { startLoopMonitor } from '../lib/loop-monitor.js';

/** The same event-loop watch as tower-server.ts: its CPU is part of both sides' figures. */
const loopDelay = startLoopMonitor();

const SESSION_ID = '00000000-0000-4000-8000-000000000000';
const clients = new Set<ServerResponse>();
let seq = 1; // like Tower, seq 1 is the session's creation

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** The frame Tower writes for an agent_choice event (same fields, same order: see protocol toWire). */
function frame(n: number): string {
  const wire = { content: stampedContent(), type: 'agent_choice', seq: n, session_id: SESSION_ID, timestamp: new Date().toISOString() };
  return `id: ${n}\nevent: agent_choice\ndata: ${JSON.stringify(wire)}\n\n`;
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/events')) {
    res.writeHead(200, SSE_HEADERS);
    res.write('retry: 1000\n\n');
    clients.add(res);
    res.on('close', () => clients.delete(res));
    return;
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
const ping = setInterval(() => {
  for (const res of clients) res.write(': ping\n\n');
}, 15_000);
ping.unref();

const drained = (res: ServerResponse): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

serveParent(
  {
    loopDelay,

    async init() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, port, pid: process.pid };
    },

    /**
     * Closed loop like Tower's producer: `k` frames per tick, written as one chunk to every response;
     * the next tick waits for every socket that pushed back to drain.
     */
    async produce(msg) {
      const { mode, k, rate, durationMs, maxLagBytes } = msg as unknown as {
        mode?: 'closed' | 'paced';
        k: number;
        rate?: number;
        durationMs: number;
        maxLagBytes?: number;
      };
      const cpu0 = process.cpuUsage();
      const t0 = machineMs();
      let appended = 0;
      let aborted = false;
      if (mode === 'paced') {
        // `rate` frames per second in 5 ms ticks, written to every response without waiting; with
        // `maxLagBytes`, stops early (aborted) once a response buffers more than that in user space.
        const perSecond = rate ?? 10_000;
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => {
            const elapsed = machineMs() - t0;
            if (maxLagBytes !== undefined) {
              let worst = 0;
              for (const res of clients) worst = Math.max(worst, res.writableLength);
              if (worst > maxLagBytes) {
                aborted = true;
                clearInterval(timer);
                resolve();
                return;
              }
            }
            const due = Math.min(Math.floor((Math.min(elapsed, durationMs) * perSecond) / 1000) - appended, perSecond);
            if (due > 0) {
              let text = '';
              for (let i = 0; i < due; i++) text += frame(++seq);
              appended += due;
              const chunk = Buffer.from(text);
              for (const res of clients) res.write(chunk);
            }
            if (elapsed >= durationMs) {
              clearInterval(timer);
              resolve();
            }
          }, 5);
        });
      }
      while (mode !== 'paced' && machineMs() - t0 < durationMs) {
        let text = '';
        for (let i = 0; i < k; i++) text += frame(++seq);
        appended += k;
        const chunk = Buffer.from(text);
        const waits: Array<Promise<void>> = [];
        for (const res of clients) if (!res.write(chunk)) waits.push(drained(res));
        if (waits.length > 0) await Promise.all(waits);
        else await new Promise((resolve) => setImmediate(resolve));
      }
      const elapsed = machineMs() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { appended, lastSeq: seq, aborted, startedAt: t0, ms: elapsed, cpuPct: ((cpu.user + cpu.system) / 1000 / elapsed) * 100 };
    },

    mem(msg) {
      return { mem: memory(Boolean((msg as unknown as { gc?: boolean }).gc)) };
    },

    cpu: () => ({ cpu: process.cpuUsage(), at: machineMs() }),

    subscribers: () => ({ count: clients.size + wss.clients.size }),
  },
  {
    onExit: async () => {
      for (const res of clients) res.destroy();
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  },
);
