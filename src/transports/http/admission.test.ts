import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionGate } from './admission.js';
import { listenHttp, type HttpServer } from './server.js';

/**
 * A client in another process (so its connects land on the server together, as a real burst does): opens
 * `n` connections at once, each sending its request as soon as it is connected (as HTTP clients do);
 * resolves with every response's status line.
 */
function burst(port: number, n: number): Promise<string[]> {
  const client = `
    const net = require('node:net');
    const [port, n] = process.argv.slice(1).map(Number);
    const lines = new Array(n);
    let done = 0;
    for (let i = 0; i < n; i++) {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /' + i + ' HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n'));
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d) => (text += d));
      s.on('end', () => {
        lines[i] = text.slice(0, text.indexOf('\\r\\n'));
        if (++done === n) process.stdout.write(JSON.stringify(lines));
      });
    }`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', client, String(port), String(n)], { timeout: 20_000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(JSON.parse(stdout) as string[]);
    });
  });
}

describe('ConnectionGate', () => {
  let server: http.Server | undefined;
  let tower: HttpServer | undefined;
  afterEach(async () => {
    await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    await tower?.close();
    server = undefined;
    tower = undefined;
  });

  it('serves a burst of connections a few per loop turn, in order of arrival, none lost', async () => {
    const accepted: net.Socket[] = [];
    const served: number[] = [];
    let thisTurn = 0;
    let maxPerTurn = 0;
    let counting = false;
    server = http.createServer((req, res) => {
      served.push(accepted.indexOf(req.socket));
      thisTurn++;
      maxPerTurn = Math.max(maxPerTurn, thisTurn);
      if (!counting) {
        counting = true;
        // The check phase right after the poll phase that parsed these requests.
        setImmediate(() => {
          counting = false;
          thisTurn = 0;
        });
      }
      res.end('ok');
    });
    // Nobody goes stale here (a slow client process must not make the count below approximate).
    const gate = new ConnectionGate(4, 60_000);
    gate.install(server);
    server.on('connection', (socket: net.Socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const n = 120;
    const lines = await burst((server.address() as AddressInfo).port, n);
    expect(lines).toEqual(Array.from({ length: n }, () => 'HTTP/1.1 200 OK'));
    expect(served).toHaveLength(n);
    // Requests are parsed in the order their connections were accepted...
    expect(served).toEqual(served.slice().sort((a, b) => a - b));
    expect(new Set(served).size).toBe(n);
    // ...and no turn parsed more new connections' requests than the gate has in flight.
    expect(maxPerTurn).toBeLessThanOrEqual(4);
    expect(gate.queued).toBe(0);
  });

  it('skips a connection destroyed while it waited and serves the rest', async () => {
    const seen: string[] = [];
    server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('ok');
    });
    const gate = new ConnectionGate(1);
    gate.install(server);
    let first = true;
    server.on('connection', (socket: net.Socket) => {
      // The first one accepted is closed by the server before its turn comes.
      if (first) socket.destroy();
      first = false;
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const gone = new Promise<void>((resolve) => net.connect(port, '127.0.0.1').on('close', () => resolve()).on('error', () => undefined));
    await gone;
    const lines = await burst(port, 5);
    expect(lines).toEqual(Array.from({ length: 5 }, () => 'HTTP/1.1 200 OK'));
    expect(seen.sort()).toEqual(['/0', '/1', '/2', '/3', '/4']);
  });

  it('leaves node:http answering upgrade requests with no upgrade handler, and Expect: 100-continue', async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => res.end(`${req.url} ${body}`));
    });
    new ConnectionGate(1).install(server);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // A WebSocket handshake to a server without a hub: answered as a plain request (a browser then
    // falls back to SSE), not left hanging.
    const upgraded = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () =>
        s.write('GET /hub HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
      );
      let text = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        text += d;
        if (text.endsWith('/hub ')) {
          s.destroy();
          resolve(text);
        }
      });
      s.on('error', reject);
    });
    expect(upgraded.startsWith('HTTP/1.1 200 OK')).toBe(true);
    // curl sends this header with any body over 1 KB.
    const continued = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/x', headers: { Expect: '100-continue' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('continue', () => req.end('payload'));
      req.on('error', reject);
    });
    expect(continued).toEqual({ status: 200, body: '/x payload' });
  });

  it("is in front of Tower's HTTP server: a burst of requests all get answered", async () => {
    tower = await listenHttp({ fetch: (req) => new Response(new URL(req.url).pathname) }, { host: '127.0.0.1', port: 0 });
    expect((tower.server as unknown as { pauseOnConnect: boolean }).pauseOnConnect).toBe(true);
    const lines = await burst(tower.port, 300);
    expect(lines.filter((l) => l === 'HTTP/1.1 200 OK')).toHaveLength(300);
  });
});
