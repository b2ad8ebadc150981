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
  /** When the connection closed; null while connected. */
  disconnectedAtMs: number | null;
  running: Set<string>;
}

export interface RunnerRegistryOptions {
  /** How long a disconnected runner stays listed (default 24 h). */
  offlineRetentionMs?: number;
  /** How many disconnected runners stay listed at most; the longest gone are forgotten first (default 1000). */
  maxOffline?: number;
  now?: () => number;
  /** Told the id of each runner forgotten, so per-runner state elsewhere can go with it. */
  onForget?: (id: string) => void;
}

export const OFFLINE_RETENTION_MS = 24 * 60 * 60 * 1000;
export const MAX_OFFLINE_RUNNERS = 1000;

/**
 * Runners known to this gateway. A runner is online while connected and heard from within two heartbeat
 * intervals; it stays listed (offline) after it leaves, so `GET /api/runners` can show where it was, for
 * `offlineRetentionMs` and among at most `maxOffline` such runners; then it is forgotten (a runner with
 * tasks still pending stays until they end, so a reconnect finds them).
 */
export class RunnerRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly retentionMs: number;
  private readonly maxOffline: number;

  constructor(private readonly heartbeatMs: number, private readonly opts: RunnerRegistryOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.retentionMs = opts.offlineRetentionMs ?? OFFLINE_RETENTION_MS;
    this.maxOffline = opts.maxOffline ?? MAX_OFFLINE_RUNNERS;
  }

  connected(id: string, tokenId: string, name: string, labels: string[]): void {
    const at = new Date(this.now()).toISOString();
    const prev = this.entries.get(id);
    this.entries.set(id, {
      info: { id, name, labels, token_id: tokenId, connected_at: at, last_heartbeat: prev?.info.last_heartbeat ?? null, version: prev?.info.version ?? null, environment: prev?.info.environment ?? null, metrics: prev?.info.metrics ?? null },
      connected: true,
      lastHeartbeatMs: this.now(),
      disconnectedAtMs: null,
      running: prev?.running ?? new Set(),
    });
  }

  disconnected(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.connected = false;
    e.disconnectedAtMs = this.now();
    this.prune();
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
    this.prune();
    const e = this.entries.get(id);
    return e ? this.view(e) : null;
  }

  list(): RunnerInfo[] {
    this.prune();
    return [...this.entries.values()].map((e) => this.view(e));
  }

  /** Forgets disconnected runners gone longer than the retention, then the longest gone beyond the count. */
  private prune(): void {
    const now = this.now();
    const gone: Array<{ id: string; at: number }> = [];
    for (const [id, e] of this.entries) {
      if (e.connected || e.disconnectedAtMs === null || e.running.size > 0) continue;
      if (now - e.disconnectedAtMs > this.retentionMs) this.forget(id);
      else gone.push({ id, at: e.disconnectedAtMs });
    }
    if (gone.length <= this.maxOffline) return;
    gone.sort((a, b) => a.at - b.at);
    for (const { id } of gone.slice(0, gone.length - this.maxOffline)) this.forget(id);
  }

  private forget(id: string): void {
    this.entries.delete(id);
    this.opts.onForget?.(id);
  }

  /** Online runners whose labels include all of `labels`, least busy first. */
  candidates(labels: readonly string[]): RunnerInfo[] {
    this.prune();
    // Every remote tool call asks this: views only for the matching runners, not a copy of each entry.
    const matching: RunnerInfo[] = [];
    for (const e of this.entries.values()) {
      if (!e.connected || !labels.every((l) => e.info.labels.includes(l))) continue;
      const view = this.view(e);
      if (view.status === 'online') matching.push(view);
    }
    return matching.length < 2 ? matching : matching.sort((a, b) => a.running_tasks - b.running_tasks || (a.id < b.id ? -1 : 1));
  }

  private view(e: Entry): RunnerInfo {
    const fresh = this.now() - e.lastHeartbeatMs <= 2 * this.heartbeatMs;
    return { ...e.info, status: e.connected && fresh ? 'online' : 'offline', running_tasks: e.running.size };
  }
}
