/**
 * The bare `ws` baseline for fanout-ws: a WebSocketServer that writes the same `event` frames the hub
 * writes (same envelope and fields), serialized once per event and sent to every client, with nothing in
 * between (no store, no bus, no subscription, no backlog accounting). Same process layout as tower-server.ts.
 *
 * Pacing, as Tower's paced producer is served: each 5 ms tick makes the frames due by then (a late tick
 * makes more, at most a second's worth), and they go to each client in one corked write, as Tower's one
 * commit goes to a socket in one write; a pass over the clients yields to the loop after the same write
 * budget as Tower's (`WRITE_SLICE_MS`), and frames made meanwhile wait for the next pass. Before, each
 * frame was its own `ws.send` to every client, all in the tick: after a late tick 100 frames x 1,000
 * clients were 100k sends in one turn, which held the loop for 0.5-4.9 s, made the next tick later
 * still, and put seconds into the baseline's p99.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import { WRITE_SLICE_MS } from '../../src/transports/write-slices.js';
import { stampedContent, machineMs } from '../lib/clock.js';
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
/** Each client's socket, to cork around the frames of one pass. */
const sockets = new WeakMap<WebSocket, Socket>();
wss.on('connection', (ws, req) => {
  sockets.set(ws, req.socket);
  // Like the hub, a subscribe is answered (here: with an empty batch) so clients know they are in.
  ws.on('message', () => ws.send('{"type":"batch","timestamp":0,"data":{"events":[],"has_more":false}}'));
});

/** Frames made and not yet in a pass; the pass under way (its frames, its clients, the next client). */
let waiting: string[] = [];
let pass: { frames: string[]; clients: WebSocket[]; next: number } | undefined;
let continuing = false;

function send(): void {
  continuing = false;
  if (!pass) {
    if (waiting.length === 0) return;
    pass = { frames: waiting, clients: [...wss.clients], next: 0 };
    waiting = [];
  }
  const start = performance.now();
  const { frames, clients } = pass;
  while (pass.next < clients.length) {
    const ws = clients[pass.next++]!;
    const socket = sockets.get(ws);
    socket?.cork();
    for (const text of frames) ws.send(text);
    socket?.uncork();
    if (performance.now() - start >= WRITE_SLICE_MS) break;
  }
  if (pass.next === clients.length) pass = undefined;
  if ((pass || waiting.length > 0) && !continuing) {
    continuing = true;
    setImmediate(send);
  }
}

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
      const t0 = machineMs();
      let appended = 0;
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const elapsed = machineMs() - t0;
          const due = Math.min(Math.floor((Math.min(elapsed, durationMs) * rate) / 1000) - appended, rate);
          for (let i = 0; i < due; i++) waiting.push(frame(++seq));
          // At once, as Tower publishes a commit, unless a pass is still under way (frames wait for the next).
          if (due > 0 && !pass && !continuing) send();
          appended += Math.max(0, due);
          if (elapsed >= durationMs) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      const ms = machineMs() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { appended, lastSeq: seq, aborted: false, startedAt: t0, ms, cpuPct: ((cpu.user + cpu.system) / 1000 / ms) * 100 };
    },

    mem(msg) {
      return { mem: memory(Boolean((msg as unknown as { gc?: boolean }).gc)) };
    },

    cpu: () => ({ cpu: process.cpuUsage(), at: machineMs() }),

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
