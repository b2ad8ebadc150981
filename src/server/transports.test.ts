import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { closeTransports, degradedTransports, namedStarter, startTransports, type StartFailures, type TransportContext } from './transports.js';

describe('startTransports', () => {
  it('starts in order, skips one that declines or fails, and closes the rest in reverse', async () => {
    const events: string[] = [];
    const ctx = { logger: silentLogger } as unknown as TransportContext;
    const failures: StartFailures = [];
    const named = (name: string) => async () => {
      events.push(`start ${name}`);
      return { name, close: async () => void events.push(`close ${name}`) };
    };
    const running = await startTransports(
      [
        named('hub'),
        async () => undefined,
        namedStarter('runners', async () => {
          throw new Error('port taken');
        }),
        named('bus'),
      ],
      ctx,
      failures,
    );
    expect(running.map((t) => t.name)).toEqual(['hub', 'bus']);
    expect(degradedTransports(running, failures)).toMatchObject([{ transport: 'runners', code: 'transport_failed', reason: 'port taken' }]);
    await closeTransports(running, silentLogger);
    expect(events).toEqual(['start hub', 'start bus', 'close bus', 'close hub']);
  });

  it('keeps closing the others when one fails to close', async () => {
    const closed: string[] = [];
    const running = [
      { name: 'a', close: async () => void closed.push('a') },
      { name: 'b', close: async () => Promise.reject(new Error('stuck')) },
    ];
    await closeTransports(running, silentLogger);
    expect(closed).toEqual(['a']);
  });

  it('lists running transports that report themselves down', () => {
    const bus = { name: 'bus', close: async () => undefined, health: () => ({ up: false as const, code: 'bus_bind_failed', reason: 'taken' }) };
    const hub = { name: 'hub', close: async () => undefined, health: () => ({ up: true as const }) };
    expect(degradedTransports([hub, bus, { name: 'runners', close: async () => undefined }], [])).toEqual([{ transport: 'bus', code: 'bus_bind_failed', reason: 'taken' }]);
  });
});
