import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepPart } from '../types.js';
import type { WireDecoder } from './decoder.js';
import { PartQueue } from './part-queue.js';
import { streamWire } from './sse-stream.js';
import { TurnBudget } from './turn-budget.js';

/** A budget that is always spent: everything waits, and runs (flagged) from a later macrotask. */
class SpentBudget extends TurnBudget {
  inWork = false;
  deferred = 0;
  constructor() {
    super(0);
  }
  override admit(): boolean {
    return false;
  }
  override defer(work: () => void): void {
    this.deferred++;
    setImmediate(() => {
      this.inWork = true;
      try {
        work();
      } finally {
        this.inWork = false;
      }
    });
  }
}

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** Sends `events`; the body ends (in a read of its own) when the test calls the returned `end`. */
async function sseServer(events: string[]): Promise<{ url: string; end: () => void }> {
  let response: http.ServerResponse | undefined;
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const data of events) res.write(`data: ${data}\n\n`);
    response = res;
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, end: () => response?.end() };
}

describe('streamWire under a spent turn budget', () => {
  it('runs the body end (the finish) in a deferred turn too, after every event', async () => {
    const { url, end } = await sseServer(['a', 'b', 'c']);
    const budget = new SpentBudget();
    const seen: string[] = [];
    let endDeferred: boolean | undefined;
    const decoder: WireDecoder = {
      event: (_type, data, emit) => {
        seen.push(data);
        // The last event has been read: only now does the body end, so its end is read alone.
        if (data === 'c') end();
        emit({ type: 'text', delta: data });
        return false;
      },
      end: (emit) => {
        endDeferred = budget.inWork;
        emit({ type: 'finish', usage: { input_tokens: 1, output_tokens: 3, cached_input_tokens: 0 }, finish_reason: 'stop' });
      },
    };
    const queue = new PartQueue<StepPart>(new AbortController().signal);
    streamWire({ url, headers: { 'content-type': 'application/json' }, body: '{}' }, decoder, queue, budget);
    const parts: StepPart[] = [];
    for await (const part of queue) parts.push(part);
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(parts.map((p) => p.type)).toEqual(['text', 'text', 'text', 'finish']);
    // Without asking the budget, the end (read by itself, nothing of the stream waiting) would run in its
    // socket's callback however spent the turn.
    expect(endDeferred).toBe(true);
  });
});
