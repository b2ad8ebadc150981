import { TowerError } from '../../protocol/errors.js';

/** Timings of session ownership across nodes (issue 15), and the cluster's Redis names. The defaults are what production runs. */
export interface ClusterSettings {
  /** A lease not renewed for this long is free: a dead node's sessions are taken over after it. */
  leaseTtlMs: number;
  /** How often a node renews the leases it holds (a third of the ttl: two renewals may fail). */
  leaseRenewMs: number;
  /** How often a node looks for sessions whose owner is gone (expired lease, open turn or queued work). */
  takeoverPollMs: number;
  /** How long a forwarded command waits for the owning node's answer. */
  forwardTimeoutMs: number;
  /** How often a node publishes its runners (and reads the others'); a node silent for three is gone. */
  runnerPresenceMs: number;
  /**
   * First part of every Redis key and channel (`<prefix>:session:<id>`, `<prefix>:node:<id>`,
   * `<prefix>:runners:<node>`, ...): the nodes of one cluster share it, and two clusters on one Redis
   * each need their own, or they hear each other's events and runners.
   */
  redisPrefix: string;
}

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = {
  leaseTtlMs: 15_000,
  leaseRenewMs: 5_000,
  takeoverPollMs: 2_000,
  forwardTimeoutMs: 30_000,
  runnerPresenceMs: 2_000,
  redisPrefix: 'tower',
};

type Timing = Exclude<keyof ClusterSettings, 'redisPrefix'>;

const ENV: Record<Timing, string> = {
  leaseTtlMs: 'TOWER_LEASE_TTL_MS',
  leaseRenewMs: 'TOWER_LEASE_RENEW_MS',
  takeoverPollMs: 'TOWER_TAKEOVER_POLL_MS',
  forwardTimeoutMs: 'TOWER_FORWARD_TIMEOUT_MS',
  runnerPresenceMs: 'TOWER_RUNNER_PRESENCE_MS',
};

/** Letters, digits, `_`, `-` and `.`: no `:` (the separator of the names after it), spaces or globs. */
const REDIS_PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;

/** Reads the settings from the environment (timings in whole milliseconds); a bad value fails the start. */
export function clusterSettings(env: NodeJS.ProcessEnv): ClusterSettings {
  const out = { ...DEFAULT_CLUSTER_SETTINGS };
  const prefix = env.TOWER_REDIS_PREFIX;
  if (prefix !== undefined && prefix !== '') {
    if (!REDIS_PREFIX.test(prefix)) {
      throw new TowerError('invalid_request', 'TOWER_REDIS_PREFIX must be 1 to 64 letters, digits, "_", "-" or "."');
    }
    out.redisPrefix = prefix;
  }
  for (const key of Object.keys(ENV) as Timing[]) {
    const raw = env[ENV[key]];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 50 || n > 3_600_000) {
      throw new TowerError('invalid_request', `${ENV[key]} must be a whole number of milliseconds between 50 and 3600000`);
    }
    out[key] = n;
  }
  if (out.leaseRenewMs >= out.leaseTtlMs) {
    throw new TowerError('invalid_request', `TOWER_LEASE_RENEW_MS (${out.leaseRenewMs}) must be below TOWER_LEASE_TTL_MS (${out.leaseTtlMs})`);
  }
  return out;
}
