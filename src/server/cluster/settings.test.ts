import { describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_SETTINGS, clusterSettings } from './settings.js';

describe('cluster settings', () => {
  it('defaults to a 15 s lease renewed every 5 s, polled for takeover every 2 s', () => {
    expect(clusterSettings({})).toEqual(DEFAULT_CLUSTER_SETTINGS);
    expect(DEFAULT_CLUSTER_SETTINGS).toMatchObject({ leaseTtlMs: 15_000, leaseRenewMs: 5_000, takeoverPollMs: 2_000 });
  });

  it('reads milliseconds from the environment', () => {
    expect(clusterSettings({ TOWER_LEASE_TTL_MS: '3000', TOWER_LEASE_RENEW_MS: '1000', TOWER_TAKEOVER_POLL_MS: '500', TOWER_FORWARD_TIMEOUT_MS: '2000', TOWER_RUNNER_PRESENCE_MS: '300' })).toEqual({
      leaseTtlMs: 3000,
      leaseRenewMs: 1000,
      takeoverPollMs: 500,
      forwardTimeoutMs: 2000,
      runnerPresenceMs: 300,
      redisPrefix: 'tower',
    });
  });

  it('reads the Redis prefix, "tower" unless TOWER_REDIS_PREFIX says otherwise', () => {
    expect(clusterSettings({}).redisPrefix).toBe('tower');
    expect(clusterSettings({ TOWER_REDIS_PREFIX: 'staging-2.eu_west' }).redisPrefix).toBe('staging-2.eu_west');
  });

  it.each([
    [{ TOWER_LEASE_TTL_MS: 'soon' }, /TOWER_LEASE_TTL_MS/],
    [{ TOWER_LEASE_TTL_MS: '1.5' }, /whole number/],
    [{ TOWER_TAKEOVER_POLL_MS: '0' }, /TOWER_TAKEOVER_POLL_MS/],
    [{ TOWER_FORWARD_TIMEOUT_MS: '-5' }, /TOWER_FORWARD_TIMEOUT_MS/],
    [{ TOWER_RUNNER_PRESENCE_MS: 'often' }, /TOWER_RUNNER_PRESENCE_MS/],
    [{ TOWER_LEASE_TTL_MS: '4000', TOWER_LEASE_RENEW_MS: '4000' }, /must be below/],
    [{ TOWER_REDIS_PREFIX: 'a:b' }, /TOWER_REDIS_PREFIX/],
    [{ TOWER_REDIS_PREFIX: 'two words' }, /TOWER_REDIS_PREFIX/],
    [{ TOWER_REDIS_PREFIX: 'x*' }, /TOWER_REDIS_PREFIX/],
    [{ TOWER_REDIS_PREFIX: 'p'.repeat(65) }, /TOWER_REDIS_PREFIX/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => clusterSettings(env)).toThrow(message);
    try {
      clusterSettings(env);
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_request' });
    }
  });
});
