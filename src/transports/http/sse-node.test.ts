import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SseReader, type SseMessage } from '../../client/sse-reader.js';
import { WriteSlices } from '../write-slices.js';
import { NodeSseWriter } from './sse-node.js';
import { FakeSubscription, storedEvent } from './testing/fake-subscription.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A real HTTP server whose every request streams `sub` (or the next of `subs`). */
async function serve(sub: FakeSubscription | FakeSubscription[], pingMs = 60_000, slices?: WriteSlices): Promise<string> {
  const subs = Array.isArray(sub) ? [...sub] : undefined;
  server = createServer((_req, res) => {
    const writer = new NodeSseWriter(res, pingMs, slices);
    const next = subs ? subs.shift() : (sub as FakeSubscription);
    writer.start(next!.attach(writer));
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

  it('writes live runs to the socket as HTTP/1.1 chunks, the same bytes res.write would send', async () => {
    const sub = new FakeSubscription();
    const url = new URL(await serve(sub));
    const raw = rawGet(url, 'HTTP/1.1');
    await raw.until('retry: 1000');
    sub.push(storedEvent(1), storedEvent(2));
    sub.end();
    const text = await raw.ended;
    expect(text).toMatch(/transfer-encoding: chunked/i);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(unchunk(body)).toBe(`retry: 1000\n\n${frameText(1)}${frameText(2)}`);
  });

  it('writes bare frames to an HTTP/1.0 response (no chunked encoding there)', async () => {
    const sub = new FakeSubscription();
    const url = new URL(await serve(sub));
    const raw = rawGet(url, 'HTTP/1.0');
    await raw.until('retry: 1000');
    sub.push(storedEvent(1));
    sub.end();
    const text = await raw.ended;
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe(`retry: 1000\n\n${frameText(1)}`);
  });

  it("holds the subscription when a client stops reading, and resumes on the socket's drain", async () => {
    const sub = new FakeSubscription();
    const url = new URL(await serve(sub));
    const raw = rawGet(url, 'HTTP/1.1');
    await raw.until('retry: 1000');
    raw.socket.pause();
    const big = { content: 'x'.repeat(64 * 1024) };
    // Well past what the kernel buffers of a loopback pair and the 256 KiB write-ahead take.
    for (let seq = 1; seq <= 200; seq++) sub.push(storedEvent(seq, big));
    expect(sub.pulls).toBeLessThan(200);
    const held = sub.pulls;
    raw.socket.resume();
    await raw.until('id: 200\n');
    expect(sub.pulls).toBe(200);
    expect(held).toBeGreaterThan(0);
    sub.end();
    const body = (await raw.ended).split('\r\n\r\n').slice(1).join('\r\n\r\n');
    const ids = [...unchunk(body).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });
});

/** `n` raw HTTP/1.1 streams of `subs` (one each), open once each has had its `retry`. */
async function streams(subs: FakeSubscription[], slices: WriteSlices): Promise<ReturnType<typeof rawGet>[]> {
  const url = new URL(await serve(subs, 60_000, slices));
  const raws = [];
  for (const _ of subs) {
    const raw = rawGet(url, 'HTTP/1.1');
    await raw.until('retry: 1000');
    raws.push(raw);
  }
  return raws;
}

/** The de-chunked body of a finished raw HTTP/1.1 stream. */
async function bodyOf(raw: ReturnType<typeof rawGet>): Promise<string> {
  return unchunk((await raw.ended).split('\r\n\r\n').slice(1).join('\r\n\r\n'));
}

describe('NodeSseWriter past the write budget (a zero budget: one write per slice)', () => {
  it('holds live runs for later slices and still delivers every run to every stream, in order, once', async () => {
    const subs = Array.from({ length: 8 }, () => new FakeSubscription());
    const slices = new WriteSlices(0);
    const raws = await streams(subs, slices);
    // Commits handed to every stream in one turn, one run each; a held stream keeps what follows.
    for (let seq = 1; seq <= 30; seq += 3) for (const sub of subs) sub.push(storedEvent(seq), storedEvent(seq + 1), storedEvent(seq + 2));
    await Promise.all(raws.map((raw) => raw.until('id: 30\n')));
    for (const sub of subs) sub.end();
    for (const raw of raws) {
      const ids = [...(await bodyOf(raw)).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    }
    // Every stream but the first waited for a slice; runs that reached a held stream went out in its slice.
    expect(slices.deferrals).toBeGreaterThanOrEqual(subs.length - 1);
  });

  it('writes the runs that reached a held stream in its slice, not in a slice of their own', async () => {
    const subs = [new FakeSubscription(), new FakeSubscription()];
    const slices = new WriteSlices(0);
    const [a, b] = (await streams(subs, slices)) as [ReturnType<typeof rawGet>, ReturnType<typeof rawGet>];
    subs[0]!.push(storedEvent(1));
    subs[1]!.push(storedEvent(1));
    expect(slices.deferrals).toBe(1);
    // The second stream is held; two more commits reach it meanwhile.
    subs[1]!.push(storedEvent(2));
    subs[1]!.push(storedEvent(3));
    expect(subs[1]!.pulls).toBe(1);
    await b.until('id: 3\n');
    expect(subs[1]!.pulls).toBe(3);
    expect(slices.deferrals).toBe(1);
    for (const sub of subs) sub.end();
    expect(await bodyOf(a)).toBe(`retry: 1000\n\n${frameText(1)}`);
    expect(await bodyOf(b)).toBe(`retry: 1000\n\n${frameText(1)}${frameText(2)}${frameText(3)}`);
  });

  it('writes a held run before the end of the response (a last run ending with session_deleted)', async () => {
    const subs = [new FakeSubscription(), new FakeSubscription()];
    const [a, b] = await streams(subs, new WriteSlices(0));
    subs[0]!.push(storedEvent(1));
    // The second stream's run waits for a slice; the subscription ends right after handing it over.
    subs[1]!.push(storedEvent(1));
    expect(subs[1]!.pulls).toBe(1);
    subs[1]!.end();
    subs[0]!.end();
    for (const raw of [a!, b!]) expect(await bodyOf(raw)).toBe(`retry: 1000\n\n${frameText(1)}`);
  });

  it('a stream whose client went away while its run waited for a slice writes nothing more', async () => {
    const subs = [new FakeSubscription(), new FakeSubscription()];
    const slices = new WriteSlices(0);
    const [a, b] = (await streams(subs, slices)) as [ReturnType<typeof rawGet>, ReturnType<typeof rawGet>];
    subs[0]!.push(storedEvent(1));
    subs[1]!.push(storedEvent(1));
    expect(slices.waiting).toBe(1);
    b.socket.destroy();
    await subs[1]!.whenClosed();
    subs[0]!.push(storedEvent(2));
    await a.until('id: 2\n');
    subs[0]!.end();
    await a.ended;
    expect(slices.waiting).toBe(0);
  });
});

function frameText(seq: number): string {
  const e = storedEvent(seq);
  return `id: ${seq}\nevent: agent_choice\ndata: ${JSON.stringify({ content: `chunk ${seq}`, type: e.type, seq, session_id: e.session_id, timestamp: e.timestamp })}\n\n`;
}

/** A GET over a plain socket: what the server writes, byte for byte (no client-side de-chunking). */
function rawGet(url: URL, version: 'HTTP/1.0' | 'HTTP/1.1'): { socket: Socket; until(text: string): Promise<void>; ended: Promise<string> } {
  const socket = connect(Number(url.port), url.hostname);
  socket.write(`GET ${url.pathname} ${version}\r\nHost: ${url.host}\r\n\r\n`);
  const chunks: string[] = [];
  let tail = '';
  const text = (): string => chunks.join('');
  const waiters: Array<{ text: string; done: () => void }> = [];
  socket.on('data', (chunk: Buffer) => {
    const piece = chunk.toString('latin1');
    chunks.push(piece);
    // Only the new bytes (and the end of the previous ones) can hold a new match: no rescans of megabytes.
    const window = tail + piece;
    for (const w of waiters.splice(0)) if (window.includes(w.text)) w.done();
    else waiters.push(w);
    tail = window.slice(-64);
  });
  const closed = new Promise<string>((resolve) => socket.on('end', () => resolve(text())));
  // A keep-alive HTTP/1.1 response ends with its last chunk, not with the connection.
  const last = new Promise<void>((done) => waiters.push({ text: '\r\n0\r\n\r\n', done })).then(text);
  return {
    socket,
    until: (t) => (text().includes(t) ? Promise.resolve() : new Promise<void>((done) => waiters.push({ text: t, done }))),
    ended: version === 'HTTP/1.0' ? closed : last,
  };
}

/** The body of a chunked message, its chunks joined; throws on a malformed chunk. */
function unchunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, eol), 16);
    if (!Number.isInteger(size)) throw new Error(`bad chunk size at ${at}`);
    if (size === 0) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    if (body.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') throw new Error(`bad chunk end at ${eol + 2 + size}`);
    at = eol + 4 + size;
  }
}
