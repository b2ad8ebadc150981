/**
 * idle-memory: 5,000 (quick: 2,000) idle SSE subscribers (spread over 50 sessions) held open against Tower; server RSS
 * per subscriber above the same server warmed up and empty (both measured after two full GCs). Bare
 * baselines in the same run: 5,000 idle node:http SSE responses, and 5,000 bare `ws` connections (the
 * reference in the issue: about 9 KB RSS each). Clients live in another process.
 */
import os from 'node:os';
import { pick, profArgs } from './lib/cli.js';
import { sleep } from './lib/clock.js';
import { spawnChild, stopAll } from './lib/proc.js';
import { emitBench, kb, progress, sig, summary } from './lib/report.js';

/** Quick mode holds 2,000 (per-subscriber figures are comparable; the full run holds 5,000). */
const SUBSCRIBERS = pick(2_000, 5_000);
const SESSIONS = 50;
const SETTLE_MS = pick(500, 1_500);

interface Footprint {
  subscribers: number;
  rssPerSub: number;
  heapPerSub: number;
  externalPerSub: number;
  emptyRss: number;
  loadedRss: number;
  connectMs: number;
  /** Longest server event-loop delay while the subscribers connected and idled (ms); NaN for bare servers. */
  loopMaxMs: number;
  /**
   * The latest the loop monitor's 10 ms timer came back in that window (ms late) and the server's CPU
   * meanwhile (ms): CPU close to the delay is the server's own work, far below it a core it waited for.
   */
  worstStall: [lateMs: number, cpuMs: number] | undefined;
}

type Mem = { mem: NodeJS.MemoryUsage };

async function measure(kind: 'tower' | 'bare-sse' | 'bare-ws'): Promise<Footprint> {
  const server = spawnChild(kind, kind === 'tower' ? 'servers/tower-server.ts' : 'servers/bare-server.ts', { nodeArgs: ['--expose-gc', ...(kind === 'tower' ? profArgs('idle-memory') : [])] });
  const clients = spawnChild(`${kind}-clients`, 'loadgen/sse-clients.ts');
  try {
    const { port } = await server.request<{ port: number }>({ type: 'init' });
    let paths = Array.from({ length: SUBSCRIBERS }, () => '/events?since=1');
    if (kind === 'tower') {
      const { ids } = await server.request<{ ids: string[] }>({ type: 'create', n: SESSIONS });
      paths = Array.from({ length: SUBSCRIBERS }, (_, i) => `/api/sessions/${ids[i % SESSIONS]}/events?since=0`);
    }
    const connect = async (n: number): Promise<number> => {
      if (kind === 'bare-ws') {
        return (await clients.request<{ ms: number }>({ type: 'connectWs', url: `ws://127.0.0.1:${port}/ws`, count: n, concurrency: 200 }, 120_000)).ms;
      }
      const { ms } = await clients.request<{ ms: number }>({ type: 'connect', host: '127.0.0.1', port, paths: paths.slice(0, n), concurrency: 200 }, 120_000);
      // Tower sends each subscriber its session's stored events first: wait until all have them.
      await clients.request({ type: 'waitSeq', target: 1, timeoutMs: 60_000 }, 70_000);
      return ms;
    };
    // Warm up (JIT, route compilation, pools), then close, so "empty" is a server that has served.
    await connect(200);
    await clients.request({ type: 'closeAll' });
    await sleep(SETTLE_MS);
    const empty = await server.request<Mem>({ type: 'mem', gc: true });
    // After the forced GC of the "empty" reading (a GC on purpose is not a stall).
    if (kind === 'tower') await server.request({ type: 'loopDelay' });
    const connectMs = await connect(SUBSCRIBERS);
    await sleep(SETTLE_MS);
    const delay = kind === 'tower' ? await server.request<{ maxMs: number; stalls: Array<[number, number, number]> }>({ type: 'loopDelay' }) : undefined;
    const loopMaxMs = delay ? delay.maxMs : NaN;
    const worst = delay?.stalls.reduce<[number, number, number] | undefined>((w, st) => (!w || st[1] > w[1] ? st : w), undefined);
    const loaded = await server.request<Mem>({ type: 'mem', gc: true });
    const { count } = await server.request<{ count: number }>({ type: 'subscribers' });
    const n = count;
    return {
      subscribers: n,
      rssPerSub: (loaded.mem.rss - empty.mem.rss) / n,
      heapPerSub: (loaded.mem.heapUsed - empty.mem.heapUsed) / n,
      externalPerSub: (loaded.mem.external + loaded.mem.arrayBuffers - empty.mem.external - empty.mem.arrayBuffers) / n,
      emptyRss: empty.mem.rss,
      loadedRss: loaded.mem.rss,
      connectMs,
      loopMaxMs,
      worstStall: worst ? [worst[1], worst[2]] : undefined,
    };
  } finally {
    await stopAll(server, clients);
  }
}

progress('idle-memory: tower');
const tower = await measure('tower');
progress('idle-memory: bare node:http SSE');
const bare = await measure('bare-sse');
progress('idle-memory: bare ws');
const ws = await measure('bare-ws');

const row = (label: string, f: Footprint): Array<[string, string]> => [
  [`${label}: RSS per subscriber (KB)`, String(sig(kb(f.rssPerSub)))],
  [`${label}: JS heap per subscriber (KB)`, String(sig(kb(f.heapPerSub)))],
  [`${label}: RSS empty -> loaded (MB)`, `${sig(f.emptyRss / 2 ** 20)} -> ${sig(f.loadedRss / 2 ** 20)} (${f.subscribers} open)`],
  [`${label}: connect time (ms)`, String(Math.round(f.connectMs))],
];
summary(`idle-memory (${SUBSCRIBERS} idle subscribers)`, [
  ...row('tower SSE', tower),
  ...row('bare node:http SSE', bare),
  ...row('bare ws', ws),
  ['load average (1 min)', String(sig(os.loadavg()[0]!))],
]);
const value = kb(tower.rssPerSub);
emitBench({
  name: 'idle-memory',
  value,
  unit: 'KB RSS/subscriber',
  baseline: kb(bare.rssPerSub),
  ratio: tower.rssPerSub / bare.rssPerSub,
  target: '<= 10 KB',
  met: value <= 10 && tower.subscribers === SUBSCRIBERS,
  loop_max_ms: tower.loopMaxMs,
  notes:
    `${tower.subscribers} subscribers over ${SESSIONS} sessions; JS heap ${sig(kb(tower.heapPerSub))} KB/sub vs ` +
    `${sig(kb(bare.heapPerSub))} bare; bare ws ${sig(kb(ws.rssPerSub))} KB RSS/conn (heap ${sig(kb(ws.heapPerSub))}); ` +
    (tower.worstStall
      ? `worst loop stall ${sig(tower.worstStall[0])} ms late with ${sig(tower.worstStall[1])} ms server CPU in it`
      : 'no loop stall over 40 ms'),
});
