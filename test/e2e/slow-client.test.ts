import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import { startTestTower, tempDir, type TestTower } from '../support/harness.js';
import { range } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

let t: TestTower | undefined;
let raw: Tower | undefined;
afterEach(async () => {
  await t?.close();
  await raw?.close();
  t = undefined;
  raw = undefined;
});

/** Opens the SSE stream on a raw socket, so the test decides when the client reads. */
function openRaw(url: string, p: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`GET ${p} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

describe('a slow SSE client', () => {
  it('that stops reading while thousands of events are appended still receives exactly the log', async () => {
    t = await startTestTower();
    const s = await t.client.createSession();
    const socket = await openRaw(t.url, `/api/sessions/${s.id}/events?since=0`);
    socket.pause();
    const total = 20_000;
    const payload = 'x'.repeat(200);
    for (let i = 0; i < total; i += 500) {
      await Promise.all(
        Array.from({ length: 500 }, () => t!.tower.log.append(s.id, { type: 'agent_choice', data: { content: payload } })),
      );
    }
    // The server holds no growing buffer for this client: its subscription fell back to the store.
    let text = '';
    const seen: number[] = [];
    socket.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: string) => {
        text += chunk;
        const end = text.lastIndexOf('\n\n');
        if (end < 0) return;
        for (const m of text.slice(0, end).matchAll(/^id: (\d+)$/gm)) seen.push(Number(m[1]));
        text = text.slice(end + 2);
        if (seen.at(-1) === total + 1) resolve();
      });
      socket.on('error', reject);
      socket.resume();
    });
    socket.destroy();
    expect(seen).toEqual(range(1, total + 1));
  }, 60_000);
});

describe('clients that go away', () => {
  it('leave no subscription behind', async () => {
    t = await startTestTower();
    const s = await t.client.createSession();
    const sockets = await Promise.all(Array.from({ length: 20 }, () => openRaw(t!.url, `/api/sessions/${s.id}/events`)));
    await waitFor(() => t!.tower.log.subscriberCount === 20);
    for (const socket of sockets) socket.destroy();
    await waitFor(() => t!.tower.log.subscriberCount === 0);
    expect(t.tower.log.subscriberCount).toBe(0);
  });
});

describe('binding a non-loopback address', () => {
  it('without a token makes Tower generate one, keep it in the data dir, and require it', async () => {
    const dataDir = tempDir('bind');
    raw = await startTower(resolveConfig({ host: '0.0.0.0', port: 0, dataDir, workingDir: dataDir, demo: true }, {}), {
      logger: silentLogger,
      env: {},
    });
    expect(raw.token).toBeDefined();
    expect(raw.tokenFile).toBe(path.join(dataDir, 'token'));
    expect(readFileSync(raw.tokenFile!, 'utf8').trim()).toBe(raw.token);
    const base = `http://127.0.0.1:${raw.port}`;
    expect((await fetch(`${base}/api/sessions`)).status).toBe(401);
    expect((await fetch(`${base}/api/sessions`, { headers: { authorization: `Bearer ${raw.token}` } })).status).toBe(200);
  });
});
