import { Hono } from 'hono';
import { TowerError } from '../../protocol/errors.js';
import { errorResponse } from './errors.js';

/**
 * What the port answers between binding and the API being ready (the store opening, interrupted turns
 * being recovered): alive, not ready, and why. Tower binds first so a port in use fails before anything
 * is created on disk, and a load balancer can tell "starting" from "gone".
 */
export function startingApp(version: string, reason: () => string): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' as const, version }, 200));
  app.get('/ready', (c) => {
    c.header('Retry-After', '1');
    return c.json({ ready: false, reason: reason(), version }, 503);
  });
  app.all('*', (c) => errorResponse(c, new TowerError('not_ready', `Tower is starting (${reason()}); retry shortly`)));
  return app;
}
