import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { CommandService } from '../../core/commands/index.js';
import type { Logger } from '../../core/logger.js';
import { tokenMatches } from '../http/auth.js';
import { routeUpgrade } from '../upgrade.js';
import { HubConnection } from './connection.js';
import { ClientId } from './frames.js';
import type { HubOptions } from './options.js';
import type { Subscriptions } from './subscriptions.js';

export const HUB_PATH = '/hub/ws';

/** Inbound frames above this are refused by ws itself; between maxFrameBytes and it we answer FRAME_TOO_LARGE. */
const WS_MAX_PAYLOAD = 1024 * 1024;

/**
 * The WebSocket hub on Tower's HTTP server (`GET /hub/ws`). Upgrade-time checks: path, origin policy,
 * and a bearer header when one is sent (browsers cannot send one: they authenticate with a first `auth`
 * frame instead, so the token stays out of URLs and logs). One timer pings every connection and one
 * enforces pong and write deadlines.
 */
export class Hub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD, perMessageDeflate: false });
  readonly connections = new Set<HubConnection>();
  private readonly pingTimer: NodeJS.Timeout;
  private readonly deadlineTimer: NodeJS.Timeout;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => this.upgrade(req, socket, head);

  private readonly connDeps;
  private readonly unroute: () => void;

  constructor(
    server: Server,
    private readonly deps: { options: HubOptions; commands: CommandService; subscriptions: Subscriptions; logger: Logger },
  ) {
    this.connDeps = { ...deps, onDispose: (c: HubConnection) => this.connections.delete(c) };
    this.unroute = routeUpgrade(server, HUB_PATH, this.onUpgrade);
    const { pingMs, pongWaitMs, writeWaitMs } = deps.options;
    this.pingTimer = setInterval(() => {
      for (const c of this.connections) if (!c.closed) c.ws.ping();
    }, pingMs);
    this.deadlineTimer = setInterval(() => this.checkDeadlines(), Math.max(10, Math.min(pongWaitMs, writeWaitMs) / 4));
    this.pingTimer.unref();
    this.deadlineTimer.unref();
  }

  async close(): Promise<void> {
    this.unroute();
    clearInterval(this.pingTimer);
    clearInterval(this.deadlineTimer);
    const open = [...this.connections];
    for (const c of open) {
      c.outbox.runSlice();
      c.ws.close(1001, 'server shutting down');
      c.dispose();
    }
    // Sockets that do not answer the close handshake are cut.
    setTimeout(() => {
      for (const c of open) c.ws.terminate();
    }, 1000).unref();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private checkDeadlines(): void {
    const now = Date.now();
    const { pongWaitMs, writeWaitMs } = this.deps.options;
    for (const c of this.connections) {
      if (now - c.lastSeen > pongWaitMs || c.outbox.oldestWaitMs(now) > writeWaitMs) {
        c.dispose();
        c.ws.terminate();
        this.connections.delete(c);
      }
    }
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://hub.invalid');
    if (url.pathname !== HUB_PATH) return refuse(socket, 404, 'Not Found');
    if (!this.originAllowed(req)) return refuse(socket, 403, 'Forbidden');
    const { token } = this.deps.options;
    const header = req.headers.authorization;
    let authenticated = !token;
    if (token && header !== undefined) {
      const m = /^Bearer\s+(.+)$/i.exec(header);
      if (!m?.[1] || !tokenMatches(token, m[1].trim())) return refuse(socket, 401, 'Unauthorized');
      authenticated = true;
    }
    const rawClient = url.searchParams.get('client_id');
    const parsedClient = rawClient === null ? undefined : ClientId.safeParse(rawClient);
    if (parsedClient && !parsedClient.success) return refuse(socket, 400, 'Bad Request');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new HubConnection(ws, this.connDeps, { authenticated, socket, ...(parsedClient?.data ? { clientId: parsedClient.data } : {}) });
      this.connections.add(conn);
    });
  }

  /**
   * Non-browser clients send no Origin. A browser's Origin must be the server's own (same host as the
   * request) or in the allow-list; a token does not override this (another site's page could hold one).
   */
  private originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.deps.options.allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
