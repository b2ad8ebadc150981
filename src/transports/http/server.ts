import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { OpenAPIHono } from '@hono/zod-openapi';

export interface HttpServer {
  url: string;
  port: number;
  server: ServerType;
  close(): Promise<void>;
}

/** Serves the app on a real socket; port 0 picks a free one (tests). */
export function listenHttp(app: OpenAPIHono, opts: { host: string; port: number }): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        port: info.port,
        server,
        close: () =>
          new Promise<void>((done) => {
            // Open SSE streams would keep close() waiting forever: end them.
            if ('closeAllConnections' in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    server.once('error', reject);
  });
}
