import { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { ConnectionGate } from './admission.js';

/** Anything with Hono's `fetch` (the API, or the placeholder that answers while Tower starts). */
export interface FetchApp {
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

export interface HttpServer {
  url: string;
  port: number;
  server: ServerType;
  /** Serves `app` from now on: Tower binds its port first and swaps the real API in once it is ready. */
  use(app: FetchApp): void;
  close(): Promise<void>;
}

/** Serves the app on a real socket; port 0 picks a free one (tests). */
export function listenHttp(app: FetchApp, opts: { host: string; port: number }): Promise<HttpServer> {
  let current = app;
  return new Promise((resolve, reject) => {
    // The Node bindings (`env.outgoing`) pass through: the SSE route writes to the socket directly.
    const server = serve({ fetch: (req, env) => current.fetch(req, env), hostname: opts.host, port: opts.port }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        server,
        use: (next) => {
          current = next;
        },
        close: () =>
          new Promise<void>((done) => {
            // Open SSE streams would keep close() waiting forever: end them.
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    // Installed before the listen completes, so every connection goes through it.
    if (server instanceof Server) new ConnectionGate().install(server);
    server.once('error', reject);
  });
}
