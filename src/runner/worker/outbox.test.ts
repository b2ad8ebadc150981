import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentRunnerLogger } from './log.js';
import { Outbox, OUTBOX_LIMITS, type FrameSocket } from './outbox.js';

class FakeSocket implements FrameSocket {
  readonly sent: string[] = [];
  bufferedAmount = 0;
  /** While set, sends wait here: a slow link. */
  gate: Promise<void> | null = null;
  /** A closing socket: every send fails. */
  closed = false;
  send(data: string, cb: (err?: Error) => void): void {
    if (this.closed) {
      queueMicrotask(() => cb(new Error('closed')));
      return;
    }
    const go = (): void => {
      this.sent.push(data);
      cb();
    };
    if (this.gate) void this.gate.then(go);
    else queueMicrotask(go);
  }
}

const dir = () => mkdtemp(path.join(tmpdir(), 'tower-outbox-'));
const out = (data: string) => `out:${data}`;

describe('Outbox', () => {
  it('keeps order, merges queued output per task and stream, and never drops while connected', async () => {
    const box = new Outbox(await dir(), silentRunnerLogger);
    await box.init();
    const socket = new FakeSocket();
    let open!: () => void;
    socket.gate = new Promise((resolve) => (open = resolve));
    box.attach(socket);
    box.output('t1/stdout', 'a', out);
    await new Promise((resolve) => setImmediate(resolve)); // the pump has taken 'a' and waits at the gate
    box.output('t1/stdout', 'b', out);
    box.output('t1/stdout', 'c', out);
    box.output('t1/stderr', 'e', out);
    await box.durable('result:t1');
    open();
    socket.gate = null;
    await box.idle();
    expect(socket.sent).toEqual(['out:a', 'out:bc', 'out:e', 'result:t1']);
  });

  it('spills results produced while disconnected to disk, drops live output, and delivers after reconnect', async () => {
    const d = await dir();
    const box = new Outbox(d, silentRunnerLogger);
    await box.init();
    box.output('t/stdout', 'lost', out);
    await box.durable('result:1');
    await box.durable('result:2');
    expect((await readdir(d)).filter((n) => n.endsWith('.json'))).toHaveLength(2);
    const socket = new FakeSocket();
    box.attach(socket);
    await box.idle();
    expect(socket.sent).toEqual(['result:1', 'result:2']);
  });

  it('picks up results a killed process left on disk', async () => {
    const d = await dir();
    const first = new Outbox(d, silentRunnerLogger);
    await first.init();
    await first.durable('result:left');
    const second = new Outbox(d, silentRunnerLogger);
    expect(await second.init()).toBe(1);
    const socket = new FakeSocket();
    second.attach(socket);
    await second.idle();
    expect(socket.sent).toEqual(['result:left']);
  });

  it('keeps a result whose send failed at the head, and resends recent results after a reconnect', async () => {
    const box = new Outbox(await dir(), silentRunnerLogger);
    await box.init();
    const a = new FakeSocket();
    box.attach(a);
    await box.durable('result:1');
    await box.idle();
    a.closed = true;
    await box.durable('result:2');
    await new Promise((resolve) => setImmediate(resolve));
    await box.detach();
    const b = new FakeSocket();
    box.attach(b);
    await box.idle();
    expect(a.sent).toEqual(['result:1']);
    // result:1 went out just before the link broke; seed 004 has no ack, so it goes again (de-duplicated upstream).
    expect(b.sent).toEqual(['result:1', 'result:2']);
  });

  it('sends large results from disk', async () => {
    const d = await dir();
    const box = new Outbox(d, silentRunnerLogger);
    await box.init();
    const socket = new FakeSocket();
    box.attach(socket);
    const big = 'x'.repeat(OUTBOX_LIMITS.inlineFrameBytes + 1);
    await box.durable(big);
    await box.idle();
    expect(socket.sent).toEqual([big]);
  });
});
