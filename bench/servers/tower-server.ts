/**
 * The server under test: a real Tower (startTower: SQLite file, EventLog, MemoryBus, Hono HTTP + SSE; or a
 * cluster node on Postgres + Redis when `init` names them) on
 * a loopback port, in its own process so its CPU and RSS are attributable. Load comes from other
 * processes; this process only appends (as a session's model stream would) and reports on itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/core/logger.js';
import type { ModelsConfigInput } from '../../src/core/models/index.js';
import { resolveConfig } from '../../src/server/config.js';
import { startTower, type Tower } from '../../src/server/tower.js';
import { stampedContent, machineMs } from '../lib/clock.js';
import { memory, serveParent } from '../lib/ipc.js';
import { startGcMonitor } from '../lib/gc-watch.js';
import { startEluSampler, startLoopMonitor } from '../lib/loop-monitor.js';

/** A configured provider nobody calls (keeps startTower from starting its demo model server). */
const UNUSED_MODELS: ModelsConfigInput = {
  providers: { fake: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' } },
  default_model: 'fake/gpt-test',
};

let tower: Tower | undefined;
/** Event-loop delay and stalls of this process (the same watch runs in the bare servers). */
const loopDelay = startLoopMonitor();
/** GC pauses since the last `gc` request (the bare relay runs the same watch). */
const gc = startGcMonitor();
const elu = startEluSampler();
let dir: string | undefined;
/** [machineMs, rss, heapTotal, heapUsed, external + arrayBuffers] */
type MemSample = [number, number, number, number, number];
let sampler: { timer: NodeJS.Timeout; samples: MemSample[] } | undefined;
const memSample = (): MemSample => {
  const m = process.memoryUsage();
  return [machineMs(), m.rss, m.heapTotal, m.heapUsed, m.external + m.arrayBuffers];
};

const need = (): Tower => {
  if (!tower) throw new Error('init first');
  return tower;
};

const appendOne = (t: Tower, sessionId: string) =>
  t.log.append(sessionId, { type: 'agent_choice', data: { content: stampedContent() } });

/**
 * Events of a real session whose payloads carry nested `type` keys (and other envelope names below the
 * top level): tool calls whose arguments hold content parts, and elicitations with a JSON schema.
 */
const appendNested = (t: Tower, sessionId: string, i: number) =>
  i % 2 === 0
    ? t.log.append(sessionId, {
        type: 'tool_call',
        data: {
          tool_call_id: `call_${i}`,
          tool: 'write_file',
          args: { path: `src/f${i}.ts`, content: [{ type: 'text', text: stampedContent() }, { type: 'image', seq: i }] },
        },
      })
    : t.log.append(sessionId, {
        type: 'elicitation_request',
        data: {
          elicitation_id: `el_${i}`,
          message: 'Pick a target',
          schema: { type: 'object', properties: { target: { type: 'string' }, seq: { type: 'integer' } }, required: ['target'] },
        },
      });

serveParent(
  {
    async init(msg) {
      // storeUrl / busUrl: a cluster node (Postgres store, Redis bus; bench/cluster.ts) instead of SQLite.
      const { models, pingMs, storeUrl, busUrl } = msg as unknown as { models?: ModelsConfigInput; pingMs?: number; storeUrl?: string; busUrl?: string };
      dir = mkdtempSync(path.join(os.tmpdir(), 'tower-bench-'));
      const backends = { ...(storeUrl ? { store: storeUrl } : {}), ...(busUrl ? { busUrl } : {}) };
      const config = resolveConfig({ host: '127.0.0.1', port: 0, dataDir: path.join(dir, 'data'), workingDir: dir, ...backends }, {});
      tower = await startTower(config, { models: models ?? UNUSED_MODELS, env: {}, logger: silentLogger, ...(pingMs ? { pingMs } : {}) });
      // cleanupDir: the parent removes it if this process is killed before it can (bench/lib/proc.ts).
      return { url: tower.url, port: tower.port, pid: process.pid, db: path.join(dir, 'data', 'tower.db'), cleanupDir: dir };
    },

    async create(msg) {
      const n = (msg as unknown as { n: number }).n;
      const ids: string[] = [];
      for (let i = 0; i < n; i++) ids.push((await need().manager.create({})).id);
      return { ids };
    },

    /** Appends `count` events in batches of `batch` (one group commit each); `nested`: `appendNested`'s. */
    async seed(msg) {
      const { sessionId, count, batch, nested } = msg as unknown as { sessionId: string; count: number; batch: number; nested?: boolean };
      const t = need();
      const t0 = machineMs();
      let lastSeq = 0;
      for (let done = 0; done < count; ) {
        const n = Math.min(batch, count - done);
        let last;
        for (let i = 0; i < n; i++) last = nested ? appendNested(t, sessionId, done + i) : appendOne(t, sessionId);
        lastSeq = (await last!).event.seq;
        done += n;
      }
      return { lastSeq, ms: machineMs() - t0 };
    },

    /**
     * Appends 100-byte `agent_choice` deltas to one session for `durationMs`:
     * - closed: `k` appends per tick (one group commit), next tick once they are committed and published
     *   (nothing waits for subscribers: the log never does);
     * - live: the same, but a tick also waits until every subscription has taken the events up to
     *   `window` behind the head, so subscribers stay on the live path (the analogue of the bare server
     *   waiting for 'drain');
     * - paced: `rate` events per second, in 5 ms ticks; with `maxLag`, stops early (aborted) once the
     *   slowest subscription is more than `maxLag` events behind the head.
     */
    async produce(msg) {
      const { sessionId, mode, k, rate, durationMs, window, maxLag } = msg as unknown as {
        sessionId: string;
        mode: 'closed' | 'live' | 'paced';
        k?: number;
        rate?: number;
        durationMs: number;
        window?: number;
        maxLag?: number;
      };
      const t = need();
      const cpu0 = process.cpuUsage();
      const t0 = machineMs();
      let appended = 0;
      let lastSeq = 0;
      let aborted = false;
      // Private, read-only: the bench reads the subscriptions' cursors to pace and to watch the lag.
      const subs = t.log['subscriptions'] as Set<{ cursor: number }>;
      const slowest = (): number => {
        let min = Infinity;
        for (const sub of subs) if (sub.cursor < min) min = sub.cursor;
        return min === Infinity ? lastSeq : min;
      };
      if (mode === 'closed' || mode === 'live') {
        const perTick = k ?? 10;
        const lag = window ?? 512;
        while (machineMs() - t0 < durationMs) {
          let last;
          for (let i = 0; i < perTick; i++) last = appendOne(t, sessionId);
          lastSeq = (await last!).event.seq;
          appended += perTick;
          if (mode === 'live') {
            while (slowest() < lastSeq - lag && machineMs() - t0 < durationMs) await new Promise((r) => setImmediate(r));
          }
        }
      } else {
        // Paced; with `maxLag`, the step is abandoned as soon as a subscription falls that far behind.
        const perSecond = rate ?? 10_000;
        await new Promise<void>((resolve, reject) => {
          const timer = setInterval(() => {
            const elapsed = machineMs() - t0;
            if (maxLag !== undefined && lastSeq - slowest() > maxLag) {
              aborted = true;
              clearInterval(timer);
              void t.log.flush().then(() => resolve());
              return;
            }
            const due = Math.min(Math.floor((Math.min(elapsed, durationMs) * perSecond) / 1000) - appended, perSecond);
            let last;
            for (let i = 0; i < due; i++) last = appendOne(t, sessionId);
            appended += Math.max(0, due);
            last?.then((r) => (lastSeq = Math.max(lastSeq, r.event.seq)), reject);
            if (elapsed >= durationMs) {
              clearInterval(timer);
              void t.log.flush().then(() => resolve());
            }
          }, 5);
        });
      }
      const elapsed = machineMs() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { appended, lastSeq, aborted, startedAt: t0, ms: elapsed, cpuPct: ((cpu.user + cpu.system) / 1000 / elapsed) * 100 };
    },

    mem(msg) {
      return { mem: memory(Boolean((msg as unknown as { gc?: boolean }).gc)) };
    },

    /** Samples memory every `intervalMs` until stopped; returns [machineMs, rss, heapTotal, heapUsed, external] rows. */
    sampleMem(msg) {
      const { on, intervalMs } = msg as unknown as { on: boolean; intervalMs?: number };
      if (on) {
        const samples: MemSample[] = [];
        const timer = setInterval(() => samples.push(memSample()), intervalMs ?? 100);
        sampler = { timer, samples };
        samples.push(memSample());
        return {};
      }
      if (!sampler) return { samples: [] };
      clearInterval(sampler.timer);
      const { samples } = sampler;
      sampler = undefined;
      return { samples };
    },

    cpu: () => ({ cpu: process.cpuUsage(), at: machineMs() }),

    /** Event-loop delay since the last reset (ms), then resets. */
    loopDelay,
    /** GC pauses since the last call, then resets. */
    gc: () => gc(),
    /** Main-thread utilization in 250 ms slices since the last call. */
    elu: () => ({ slices: elu() }),

    /** Writes a heap snapshot (for bench/heap.ts) and returns its path. */
    heapSnapshot: (msg) => ({ file: v8.writeHeapSnapshot((msg as unknown as { file?: string }).file) }),

    subscribers: () => ({ count: need().log.subscriberCount }),

    /** Each open subscription's counters (live queue high-water mark, overflows, store reads). */
    subscriptionStats: () => ({
      stats: [...(need().log['subscriptions'] as Set<{ cursor: number; stats: object }>)].map((s) => ({ cursor: s.cursor, ...s.stats })),
    }),

    /**
     * The replay baseline: the same rows read straight from SQLite in this process, on a second
     * connection, in pages of `pageSize` (Tower's page size), `reps` times. Rows are not decoded.
     */
    readBare(msg) {
      const { db: file, sessionId, pageSize, reps } = msg as unknown as { db: string; sessionId: string; pageSize: number; reps: number };
      const db = new Database(file, { readonly: true });
      const page = db.prepare<[string, number, number], { seq: number; type: string; data: string; created_at: string }>(
        'SELECT seq, type, data, created_at FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      );
      const rates: number[] = [];
      let rows = 0;
      for (let r = 0; r < reps; r++) {
        const t0 = machineMs();
        let cursor = 0;
        rows = 0;
        for (;;) {
          const got = page.all(sessionId, cursor, pageSize);
          if (got.length === 0) break;
          rows += got.length;
          cursor = got[got.length - 1]!.seq;
        }
        rates.push((rows / (machineMs() - t0)) * 1000);
      }
      db.close();
      return { rates, rows };
    },
  },
  {
    onExit: async () => {
      if (sampler) clearInterval(sampler.timer);
      await tower?.close().catch(() => undefined);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  },
);
