import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseReader, type SseMessage } from '../../client/sse-reader.js';
import { NodeSseWriter } from './sse-node.js';
import { FakeSubscription, storedEvent } from './testing/fake-subscription.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP server whose every request streams `sub`. */
async function serve(sub: FakeSubscription, pingMs = 60_000): Promise<string> {
  server = createServer((_req, res) => {
    const writer = new NodeSseWriter(res, pingMs);
    writer.start(sub.attach(writer));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** Reads SSE messages (and comments, as `:`-lines are dropped by the reader, counted via raw text). */
async function* messages(response: Response): AsyncGenerator<{ raw: string; parsed: SseMessage[] }> {
  const reader = new SseReader();
  const body = response.body!.getReader();
  for (;;) {
    const chunk = await body.read();
    if (chunk.done) return;
    yield { raw: Buffer.from(chunk.value).toString('utf8'), parsed: reader.push(chunk.value) };
  }
}

describe('streamSseToNode', () => {
  it('sends SSE headers and retry, then the batches, and ends the response with the subscription', async () => {
    const sub = new FakeSubscription();
    const response = await fetch(await serve(sub));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    const seen: string[] = [];
    let raw = '';
    sub.push(storedEvent(1), storedEvent(2));
    for await (const chunk of messages(response)) {
      raw += chunk.raw;
      seen.push(...chunk.parsed.map((m) => m.id));
      if (seen.length === 2) sub.push(storedEvent(3));
      if (seen.length === 3) sub.end();
    }
    expect(raw.startsWith('retry: 1000\n\n')).toBe(true);
    expect(seen).toEqual(['1', '2', '3']);
    expect(sub.closed).toBe(true);
  });

  it('closes the subscription when the client goes away', async () => {
    const sub = new FakeSubscription();
    const controller = new AbortController();
    const response = await fetch(await serve(sub), { signal: controller.signal });
    await response.body!.getReader().read();
    controller.abort();
    await sub.whenClosed();
    expect(sub.closed).toBe(true);
  });

  it('pings an idle stream', async () => {
    const sub = new FakeSubscription();
    const response = await fetch(await serve(sub, 20));
    let raw = '';
    for await (const chunk of messages(response)) {
      raw += chunk.raw;
      if (raw.includes(': ping\n\n')) break;
    }
    expect(raw).toContain(': ping\n\n');
    sub.close();
  });

  it('ends the stream when the subscription fails mid-way (the client resumes by seq)', async () => {
    const sub = new FakeSubscription();
    const response = await fetch(await serve(sub));
    const chunks: string[] = [];
    for await (const chunk of messages(response)) {
      chunks.push(chunk.raw);
      sub.fail(new Error('store went away'));
    }
    expect(chunks.join('')).toBe('retry: 1000\n\n');
    expect(sub.closed).toBe(true);
  });

  it('takes batches past the socket high-water mark until 256 KiB wait in its buffer, then holds', () => {
    const written: Uint8Array[] = [];
    const res = { destroyed: false, writableLength: 0, write: (b: Uint8Array) => (written.push(b), false) };
    const writer = new NodeSseWriter(res as unknown as ServerResponse, 60_000);
    const batch = { from: 'live' as const, events: [storedEvent(1)] };
    expect(writer.onBatch(batch)).toBe(true);
    res.writableLength = 256 * 1024 - 1;
    expect(writer.onBatch(batch)).toBe(true);
    res.writableLength = 256 * 1024;
    expect(writer.onBatch(batch)).toBe(false);
    expect(written).toHaveLength(3);
    res.destroyed = true;
    expect(writer.onBatch(batch)).toBe(false);
    expect(written).toHaveLength(3);
  });
});
