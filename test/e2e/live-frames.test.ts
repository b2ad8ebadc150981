import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toWire, type NewEvent, type StoredEvent } from '../../src/protocol/events.js';
import { startTestTower, type TestTower } from '../support/harness.js';

let t: TestTower | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * A raw SSE socket: the body's text as it arrives, chunk framing removed (HTTP/1.1, where live runs go
 * to the socket as prebuilt chunks) or none (HTTP/1.0, `res.write`), so bytes can be compared.
 */
class RawSse {
  private bytes = Buffer.alloc(0);
  private waiting: { marker: string; resolve: () => void } | undefined;

  private constructor(
    readonly socket: net.Socket,
    private readonly chunked: boolean,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
      if (this.waiting && this.body().includes(this.waiting.marker)) this.waiting.resolve();
    });
  }

  static open(url: string, path: string, version: '1.0' | '1.1'): Promise<RawSse> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(`GET ${path} HTTP/${version}\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
        resolve(new RawSse(socket, version === '1.1'));
      });
      socket.once('error', reject);
    });
  }

  /** The body after the head, de-chunked (the chunks complete so far). */
  body(): string {
    const at = this.bytes.indexOf('\r\n\r\n');
    if (at < 0) return '';
    const raw = this.bytes.subarray(at + 4);
    if (!this.chunked) return raw.toString('utf8');
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const eol = raw.indexOf('\r\n', pos);
      if (eol < 0) break;
      const size = Number.parseInt(raw.subarray(pos, eol).toString('latin1'), 16);
      if (!(size > 0) || eol + 2 + size + 2 > raw.length) break;
      parts.push(raw.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
    return Buffer.concat(parts).toString('utf8');
  }

  until(marker: string): Promise<void> {
    if (this.body().includes(marker)) return Promise.resolve();
    return new Promise((resolve) => (this.waiting = { marker, resolve }));
  }

  /** The frames from the one with id `seq` on. */
  from(seq: number): string {
    const body = this.body();
    const at = body.indexOf(`id: ${seq}\n`);
    return at < 0 ? '' : body.slice(at);
  }
}

const frame = (e: StoredEvent): string => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(toWire(e))}\n\n`;
const choice = (data: Record<string, unknown>): NewEvent => ({ type: 'agent_choice', data }) as NewEvent;

/** Payloads the live frames splice from their stored text, and ones that must take the object way. */
const PAYLOADS: Array<Record<string, unknown>> = [
  { content: 'plain' },
  { content: 'ünïcödé 😀 lone \udc00 \u2028 "quoted" \\ \n', extra: [1, -0, 1e21, null] },
  { content: 'n', parts: [{ type: 'text', seq: 7, session_id: 'other', timestamp: 'then' }] },
  { content: '"type":"x","seq":1' },
  JSON.parse('{"content":"p","deep":{"__proto__":{"x":1}}}') as Record<string, unknown>,
  JSON.parse('{"__proto__":{"polluted":1},"content":"top"}') as Record<string, unknown>,
  { type: 'payload type', seq: 'payload seq', content: 'clash' },
  { session_id: 'payload session', timestamp: 'payload time', content: 'clash 2' },
  { '2': 'b', '1': 'a', content: 'integer keys' },
];

describe('live SSE frames', () => {
  it('are byte for byte JSON.stringify(toWire(event)), and the same bytes a replay sends', async () => {
    t = await startTestTower();
    const s = await t.client.createSession();
    const log = t.tower.log;
    const head = (await t.store().lastSeq(s.id)) ?? 0;
    const lives = await Promise.all((['1.1', '1.0'] as const).map((v) => RawSse.open(t!.url, `/api/sessions/${s.id}/events?since=${head}`, v)));
    // Caught up once the first append arrives: what follows comes from the live ring, not the store.
    const first = await log.append(s.id, choice({ content: 'sentinel' }));
    await Promise.all(lives.map((l) => l.until('sentinel')));
    const events: StoredEvent[] = [];
    // One commit each, several in one commit, and one group (appendAll): every shape of publish.
    for (const data of PAYLOADS) events.push((await log.append(s.id, choice(data))).event);
    for (const r of await Promise.all(PAYLOADS.map((data) => log.append(s.id, choice(data))))) events.push(r.event);
    for (const r of await log.appendAll(s.id, PAYLOADS.map((data) => ({ event: choice(data) })))) events.push(r.event);
    const last = events[events.length - 1] as StoredEvent;
    const expected = events.map(frame).join('');
    for (const live of lives) {
      await live.until(frame(last));
      expect(live.from(first.event.seq + 1)).toBe(expected);
    }
    expect(log.subscriberCount).toBe(2);
    const replay = await RawSse.open(t.url, `/api/sessions/${s.id}/events?since=${first.event.seq}`, '1.1');
    await replay.until(frame(last));
    expect(replay.from(first.event.seq + 1)).toBe(expected);
    for (const sse of [...lives, replay]) sse.socket.destroy();
  });
});
