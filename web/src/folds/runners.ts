import type { RunnerInfo } from '../api/types.js';

/** One heartbeat's metrics, for the sparklines (t in unix seconds). */
export interface Sample {
  t: number;
  cpu: number | null;
  memory: number | null;
  disk: number | null;
}

export interface RunnerRow {
  runner: RunnerInfo;
  /** Server time (ms) of what the row shows: a frame older than it is stale. */
  at: number;
  samples: readonly Sample[];
}

export type RunnerRows = ReadonlyMap<string, RunnerRow>;

/** Samples kept per runner. */
export const MAX_SAMPLES = 120;

/** The runner's view as the page needs it (`status` from the server; `online` is the page's flag). */
function normalize(r: RunnerInfo): RunnerInfo {
  return { ...r, labels: Array.isArray(r.labels) ? r.labels : [], online: r.status === 'online' };
}

const metric = (r: RunnerInfo, k: 'cpu' | 'memory' | 'disk'): number | null => {
  const v = r.metrics?.[`${k}_percent`];
  return typeof v === 'number' ? v : null;
};

const stampOf = (r: RunnerInfo): number => Math.max(Date.parse(r.last_heartbeat ?? '') || 0, Date.parse(r.connected_at ?? '') || 0);

function addSample(samples: readonly Sample[], r: RunnerInfo, at: number): readonly Sample[] {
  const s: Sample = { t: at / 1000, cpu: metric(r, 'cpu'), memory: metric(r, 'memory'), disk: metric(r, 'disk') };
  if (s.cpu === null && s.memory === null && s.disk === null) return samples;
  if (samples.length && (samples[samples.length - 1]?.t ?? 0) >= s.t) return samples;
  return [...samples, s].slice(-MAX_SAMPLES);
}

/** A fresh `GET /api/runners`: the rows it lists, with the samples already gathered kept. */
export function loadRunners(prev: RunnerRows | undefined, list: readonly RunnerInfo[]): RunnerRows {
  const next = new Map<string, RunnerRow>();
  for (const raw of list) {
    const runner = normalize(raw);
    const old = prev?.get(runner.id);
    const at = stampOf(runner);
    next.set(runner.id, { runner, at, samples: addSample(old?.samples ?? [], runner, at || Date.now()) });
  }
  return next;
}

interface RunnerFrame {
  type: 'runner_connected' | 'runner_disconnected' | 'runner_heartbeat';
  runner: RunnerInfo;
  timestamp: string;
}

const isRunnerFrame = (v: unknown): v is RunnerFrame =>
  typeof v === 'object' && v !== null && typeof (v as RunnerFrame).runner?.id === 'string' && typeof (v as RunnerFrame).timestamp === 'string';

/**
 * Folds a runner event (hub `runner` topic): connected and heartbeat put the runner's view in the
 * list (a heartbeat adds a sample), disconnected marks it offline. An event older than the row is dropped.
 */
export function foldRunner(rows: RunnerRows, frame: unknown): RunnerRows {
  if (!isRunnerFrame(frame)) return rows;
  const at = Date.parse(frame.timestamp);
  if (!Number.isFinite(at)) return rows;
  const old = rows.get(frame.runner.id);
  if (old && at < old.at) return rows;
  const runner = normalize(frame.runner);
  if (frame.type === 'runner_disconnected') Object.assign(runner, { online: false, status: 'offline' });
  const samples = frame.type === 'runner_heartbeat' ? addSample(old?.samples ?? [], runner, at) : (old?.samples ?? []);
  return new Map(rows).set(runner.id, { runner, at, samples });
}
