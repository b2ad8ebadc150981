/**
 * Benchmark child: N ZeroMQ SUB sockets on one PUB endpoint, reading one-frame `topic\0json` publications
 * as Pando's Go subscriber does, counting them and recording the latency of stamped tokens
 * (`"token":"@<machineMs>|…"`).
 */
import { Subscriber } from 'zeromq';
import { machineMs } from '../lib/clock.js';
import { Histogram } from '../lib/hist.js';
import { serveParent } from '../lib/ipc.js';

let subs: Subscriber[] = [];
let received = 0;
let hist = new Histogram();
const MARK = Buffer.from('"token":"@');

async function read(sub: Subscriber): Promise<void> {
  try {
    for await (const [frame] of sub) {
      if (!frame || frame.indexOf(0) < 0) continue;
      received += 1;
      const i = frame.indexOf(MARK);
      if (i >= 0) hist.record(machineMs() - parseFloat(frame.subarray(i + MARK.length, i + MARK.length + 20).toString()));
    }
  } catch {
    // closed
  }
}

serveParent(
  {
    connect: (msg) => {
      for (let i = 0; i < Number(msg.n); i++) {
        const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 100_000 });
        sub.connect(String(msg.endpoint));
        sub.subscribe(String(msg.prefix ?? ''));
        subs.push(sub);
        void read(sub);
      }
      return { ok: true };
    },
    reset: () => {
      received = 0;
      hist = new Histogram();
      return { ok: true };
    },
    stats: () => ({ received, hist: hist.toData() }),
    disconnect: () => {
      for (const s of subs) s.close();
      subs = [];
      return { ok: true };
    },
  },
  { onExit: () => subs.forEach((s) => s.close()) },
);
