import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.js';
import { closeTransports, startTransports, type TransportContext } from './transports.js';

describe('startTransports', () => {
  it('starts in order, skips one that declines or fails, and closes the rest in reverse', async () => {
    const events: string[] = [];
    const ctx = { logger: silentLogger } as unknown as TransportContext;
    const named = (name: string) => async () => {
      events.push(`start ${name}`);
      return { name, close: async () => void events.push(`close ${name}`) };
    };
    const running = await startTransports(
      [
        named('hub'),
        async () => undefined,
        async () => {
          throw new Error('port taken');
        },
        named('bus'),
      ],
      ctx,
    );
    expect(running.map((t) => t.name)).toEqual(['hub', 'bus']);
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
});
