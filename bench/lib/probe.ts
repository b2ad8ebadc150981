/**
 * "Does the server still answer while it is busy?": sends one request after another (a no-op HTTP
 * `GET /health` over a kept-alive connection, or any other request function), `gapMs` apart, until
 * stopped, and records how long each waited for its answer. A request in flight when `stop` is called is
 * waited for and counted (it was sent during the busy phase).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { sleep } from './clock.js';

export interface Probe {
  /** Ends the probe; resolves with every request's wait in ms, in the order sent. */
  stop(): Promise<number[]>;
}

export function probe(request: () => Promise<unknown>, gapMs = 5): Probe {
  const waits: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      await request();
      waits.push(performance.now() - t0);
      await sleep(gapMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return waits;
    },
  };
}

/** A no-op HTTP request (`GET path`, body read and dropped) on a kept-alive connection of its own. */
export function httpNoop(host: string, port: number, path = '/health'): () => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host, port, path, agent }, (res) => {
        res.resume();
        res.once('end', () => resolve());
        res.once('error', reject);
      });
      req.once('error', reject);
    });
}

export const maxOf = (values: readonly number[]): number => values.reduce((m, v) => Math.max(m, v), 0);
