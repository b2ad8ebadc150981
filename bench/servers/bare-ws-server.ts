/**
 * The bare `ws` baseline for fanout-ws: a WebSocketServer that writes the same `event` frames the hub
 * writes (same envelope and fields), serialized once per event and sent to every client, with nothing in
 * between (no store, no bus, no subscription, no backlog accounting). Same process layout as tower-server.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { stampedContent, wallMs } from '../lib/clock.js';
import { memory, serveParent } from '../lib/ipc.js';
import { startLoopMonitor } from '../lib/loop-monitor.js';

/** The same event-loop watch as tower-server.ts: its CPU is part of both sides' figures. */
const loopDelay = startLoopMonitor();

const SESSION_ID = '00000000-0000-4000-8000-000000000000';
let seq = 1;

function frame(n: number): string {
  const wire = { content: stampedContent(), type: 'agent_choice', seq: n, session_id: SESSION_ID, timestamp: new Date().toISOString() };
  return `{"type":"event","timestamp":${Date.now()},"data":${JSON.stringify(wire)}}`;
}

const server = http.createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server, path: '/hub/ws', perMessageDeflate: false });
// Like the hub, a subscribe is answered (here: with an empty batch) so clients know they are in.
wss.on('connection', (ws) => ws.on('message', () => ws.send('{"type":"batch","timestamp":0,"data":{"events":[],"has_more":false}}')));

serveParent(
  {
    loopDelay,

    async init() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, port, pid: process.pid };
    },

    /** `rate` frames per second in 5 ms ticks, each sent to every client. */
    async produce(msg) {
      const { rate, durationMs } = msg as unknown as { rate: number; durationMs: number };
      const cpu0 = process.cpuUsage();
      const t0 = wallMs();
      let appended = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const elapsed = wallMs() - t0;
          const due = Math.min(Math.floor((Math.min(elapsed, durationMs) * rate) / 1000) - appended, rate);
          for (let i = 0; i < due; i++) {
            const text = frame(++seq);
            for (const ws of wss.clients) ws.send(text);
          }
          appended += Math.max(0, due);
          if (elapsed >= durationMs) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      const ms = wallMs() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { appended, lastSeq: seq, aborted: false, startedAt: t0, ms, cpuPct: ((cpu.user + cpu.system) / 1000 / ms) * 100 };
    },

    mem(msg) {
      return { mem: memory(Boolean((msg as unknown as { gc?: boolean }).gc)) };
    },

    cpu: () => ({ cpu: process.cpuUsage(), at: wallMs() }),

    subscribers: () => ({ count: wss.clients.size }),
  },
  {
    onExit: async () => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  },
);
