/**
 * The sessions baseline: a bare node:http relay. Each subscriber's GET /relay?tag=sN opens a streaming
 * request to the fake model server (same OpenAI wire format Tower's provider reads), parses each SSE chunk
 * with JSON.parse, and writes the text delta as the same SSE frame Tower would write. No AI SDK, no store,
 * no bus: the "bare socket" path from the model to the client.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { machineMs } from '../lib/clock.js';
import { memory, serveParent } from '../lib/ipc.js';
import { startGcMonitor } from '../lib/gc-watch.js';
import { startEluSampler, startLoopMonitor } from '../lib/loop-monitor.js';

/** The same event-loop watch as tower-server.ts: its CPU is part of both sides' figures. */
const loopDelay = startLoopMonitor();
const gc = startGcMonitor();
const elu = startEluSampler();

let modelUrl = '';
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
};

function frame(seq: number, type: string, tag: string, data: Record<string, unknown>): string {
  const wire = { ...data, type, seq, session_id: tag, timestamp: new Date().toISOString() };
  return `id: ${seq}\nevent: ${type}\ndata: ${JSON.stringify(wire)}\n\n`;
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://relay');
  const tag = url.searchParams.get('tag');
  if (url.pathname !== '/relay' || !tag) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, SSE_HEADERS);
  res.write('retry: 1000\n\n');
  let seq = 0;
  const body = JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: tag }] });
  const upstream = http.request(
    `${modelUrl}/chat/completions`,
    { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (up) => {
      up.setEncoding('utf8');
      let buffer = '';
      up.on('data', (text: string) => {
        buffer += text;
        let out = '';
        let start = 0;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n', start)) {
          if (buffer.startsWith('data: ', start) && !buffer.startsWith('data: [DONE]', start)) {
            const parsed = JSON.parse(buffer.slice(start + 6, end)) as { choices?: Array<{ delta?: { content?: string | null } }> };
            const content = parsed.choices?.[0]?.delta?.content;
            if (content) out += frame(++seq, 'agent_choice', tag, { content });
          }
          start = end + 2;
        }
        buffer = start < buffer.length ? buffer.slice(start) : '';
        if (out) res.write(out);
      });
      up.on('end', () => res.end(frame(++seq, 'stream_stopped', tag, { reason: 'normal' })));
    },
  );
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
  upstream.end(body);
});

serveParent(
  {
    loopDelay,
    gc: () => gc(),
    /** Main-thread utilization in 250 ms slices since the last call. */
    elu: () => ({ slices: elu() }),

    async init(msg) {
      modelUrl = (msg as unknown as { modelUrl: string }).modelUrl;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, port, pid: process.pid };
    },
    cpu: () => ({ cpu: process.cpuUsage(), at: machineMs() }),
    mem: (msg) => ({ mem: memory(Boolean((msg as unknown as { gc?: boolean }).gc)) }),
  },
  {
    onExit: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  },
);
