import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MessagingClient } from '../../src/client/messaging.js';
import { run } from '../../src/cli/program.js';
import { capture } from '../../src/cli/testing/capture.js';
import type { ThreadMessage } from '../../src/protocol/messaging.js';
import { startHubTower, type HubTower } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

/** A TCP relay in front of Tower whose live connections a test can cut (a dropped network path). */
interface Relay {
  url: string;
  cut(): void;
  accepted(): number;
  close(): Promise<void>;
}

async function relay(target: string): Promise<Relay> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = tcpConnect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('relay has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    accepted: () => accepted,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

let t: HubTower | undefined;
let r: Relay | undefined;
afterEach(async () => {
  await r?.close();
  await t?.close();
  r = undefined;
  t = undefined;
});

const postMessage = (id: string, content: string) => t!.hub.messaging.post(id, { content, from_type: 'agent', from_id: 'a1' });

describe('threads watch reconnects', () => {
  it('the client resumes after a dropped connection by message_seq: every message once, in order', async () => {
    t = await startHubTower();
    r = await relay(t.url);
    await t.hub.messaging.createThread({ id: 'plan', title: 'plan' });
    for (let i = 1; i <= 3; i++) await postMessage('plan', `m${i}`);
    const seen: ThreadMessage[] = [];
    const reconnects: { lastSeq: number | undefined }[] = [];
    const resumed: (number | undefined)[] = [];
    const ac = new AbortController();
    const client = new MessagingClient({ url: r.url });
    const watching = (async () => {
      for await (const m of client.watchThread('plan', {
        signal: ac.signal,
        initialDelayMs: 20,
        onReconnect: (info) => reconnects.push(info),
        onResumed: (info) => resumed.push(info.lastSeq),
      })) seen.push(m);
    })();
    await waitFor(() => seen.length === 3);
    r.cut();
    // Written while the watcher is away: they arrive as the catch-up batch after the resubscribe.
    await postMessage('plan', 'm4');
    await postMessage('plan', 'm5');
    await waitFor(() => seen.length === 5);
    expect(reconnects[0]).toMatchObject({ lastSeq: 3 });
    expect(resumed).toContain(3);
    await postMessage('plan', 'm6');
    await waitFor(() => seen.length === 6);
    r.cut();
    await postMessage('plan', 'm7');
    await waitFor(() => seen.length === 7);
    ac.abort();
    await watching;
    expect(seen.map((m) => m.message_seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.map((m) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(r.accepted()).toBeGreaterThanOrEqual(3);
  });

  it('fails fast when the server was never reached, and on an unknown thread; reconnect: false ends on a drop', async () => {
    t = await startHubTower();
    r = await relay(t.url);
    const drain = async (it: AsyncIterable<ThreadMessage>) => {
      for await (const _ of it) void _;
    };
    const nowhere = new MessagingClient({ url: 'http://127.0.0.1:1' });
    await expect(drain(nowhere.watchThread('plan'))).rejects.toThrow(/cannot reach Tower/);
    const client = new MessagingClient({ url: r.url });
    await expect(drain(client.watchThread('missing'))).rejects.toThrow(/SUBSCRIBE_FAILED/);
    await t.hub.messaging.createThread({ id: 'once', title: 'once' });
    await postMessage('once', 'x');
    const seen: number[] = [];
    const ended = (async () => {
      for await (const m of client.watchThread('once', { reconnect: false })) {
        seen.push(m.message_seq);
        r!.cut();
      }
    })();
    await expect(ended).rejects.toThrow(/cannot reach Tower/);
    expect(seen).toEqual([1]);
  });

  it('`tower threads watch` says it reconnects and shows each message once', async () => {
    t = await startHubTower();
    r = await relay(t.url);
    await t.hub.messaging.createThread({ id: 'cli', title: 'cli' });
    await postMessage('cli', 'before');
    const c = capture({ env: { USER: 'ana' } });
    const watching = run(['--url', r.url, 'threads', 'watch', 'cli'], c.io);
    await waitFor(() => c.stdout().includes('before'));
    r.cut();
    await postMessage('cli', 'while away');
    await waitFor(() => c.stdout().includes('while away'));
    expect(c.stderr()).toMatch(/connection lost; reconnecting in \d+ ms \(attempt 1, resuming after #1\)/);
    expect(c.stderr()).toContain('reconnected (resumed after #1)');
    c.interrupt();
    expect(await watching).toBe(0);
    expect(c.stdout().match(/before/g)).toHaveLength(1);
  });
});
