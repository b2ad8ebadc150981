import type { EnvironmentInfo, HeartbeatMetrics } from '../../protocol/runner.js';

export interface RunnerInfo {
  id: string;
  name: string;
  labels: string[];
  token_id: string;
  status: 'online' | 'offline';
  connected_at: string | null;
  last_heartbeat: string | null;
  version: string | null;
  environment: EnvironmentInfo | null;
  metrics: HeartbeatMetrics | null;
  running_tasks: number;
}

interface Entry {
  info: Omit<RunnerInfo, 'status' | 'running_tasks'>;
  connected: boolean;
  lastHeartbeatMs: number;
  running: Set<string>;
}

/**
 * Runners known to this gateway. A runner is online while connected and heard from within two heartbeat
 * intervals; it stays listed (offline) after it leaves, so `GET /api/runners` can show where it was.
 */
export class RunnerRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly heartbeatMs: number, private readonly now: () => number = Date.now) {}

  connected(id: string, tokenId: string, name: string, labels: string[]): void {
    const at = new Date(this.now()).toISOString();
    const prev = this.entries.get(id);
    this.entries.set(id, {
      info: { id, name, labels, token_id: tokenId, connected_at: at, last_heartbeat: prev?.info.last_heartbeat ?? null, version: prev?.info.version ?? null, environment: prev?.info.environment ?? null, metrics: prev?.info.metrics ?? null },
      connected: true,
      lastHeartbeatMs: this.now(),
      running: prev?.running ?? new Set(),
    });
  }

  disconnected(id: string): void {
    const e = this.entries.get(id);
    if (e) e.connected = false;
  }

  heartbeat(id: string, hb: { version: string; environment?: EnvironmentInfo; metrics?: HeartbeatMetrics }): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.lastHeartbeatMs = this.now();
    e.info.last_heartbeat = new Date(e.lastHeartbeatMs).toISOString();
    e.info.version = hb.version;
    if (hb.environment) e.info.environment = hb.environment;
    if (hb.metrics) e.info.metrics = hb.metrics;
  }

  taskStarted(id: string, taskId: string): void {
    this.entries.get(id)?.running.add(taskId);
  }

  taskEnded(id: string, taskId: string): void {
    this.entries.get(id)?.running.delete(taskId);
  }

  get(id: string): RunnerInfo | null {
    const e = this.entries.get(id);
    return e ? this.view(e) : null;
  }

  list(): RunnerInfo[] {
    return [...this.entries.values()].map((e) => this.view(e));
  }

  /** Online runners whose labels include all of `labels`, least busy first. */
  candidates(labels: readonly string[]): RunnerInfo[] {
    return this.list()
      .filter((r) => r.status === 'online' && labels.every((l) => r.labels.includes(l)))
      .sort((a, b) => a.running_tasks - b.running_tasks || (a.id < b.id ? -1 : 1));
  }

  private view(e: Entry): RunnerInfo {
    const fresh = this.now() - e.lastHeartbeatMs <= 2 * this.heartbeatMs;
    return { ...e.info, status: e.connected && fresh ? 'online' : 'offline', running_tasks: e.running.size };
  }
}
