import type { IncomingMessage, Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';

/** New connections whose first request may be unread at once (the rest wait, paused). */
export const CONNECTIONS_IN_FLIGHT = 32;

/** A resumed connection that sent nothing for this long stops holding its place (an idle pre-connect). */
export const STALE_MS = 20;

/**
 * Admission of new connections. node:http reads and parses every connection whose bytes arrived in the
 * same poll phase, in that phase: a burst of clients connecting at once (thousands of SSE subscribers
 * after a restart) makes one turn parse, route and subscribe hundreds of requests, and every other
 * request and timer waits for all of them (idle-memory: 200 connects in flight, turns of 40-110 ms).
 *
 * The server's sockets start paused (`pauseOnConnect`: nothing is read from them) and wait in a queue,
 * in order of arrival. At most `inFlight` of them are resumed and not yet read (their first request not
 * parsed): the next is resumed, from a check phase (`setImmediate`), once one of those has had its
 * request, closed, or stayed silent for `staleMs`. So one poll phase parses at most `inFlight` new
 * connections' requests, a burst is spread over turns of a bounded size, and no connection is dropped or
 * overtaken; one arriving alone waits only for the rest of its turn. Only a connection's start is gated:
 * once read, its further requests (keep-alive, the no-op probes) are read as they come.
 */
export class ConnectionGate {
  private readonly waiting: Socket[] = [];
  /** Index of the first socket still waiting (a queue without shifting the array each time). */
  private head = 0;
  /** Resumed, first request not parsed yet: when each was resumed. */
  private readonly unread = new Map<Socket, number>();
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inFlight: number = CONNECTIONS_IN_FLIGHT,
    private readonly staleMs: number = STALE_MS,
  ) {}

  /** Pauses `server`'s new sockets and admits them through this gate. */
  install(server: Server): void {
    // net.Server reads this property when it accepts (http.createServer has no option for it): the
    // socket's handle is created not reading, and node:http's own listener (added before this one)
    // does not resume it.
    (server as unknown as { pauseOnConnect: boolean }).pauseOnConnect = true;
    server.on('connection', this.onConnection);
    // Only 'request': a listener for 'upgrade' or 'checkContinue' changes what node:http does (with one,
    // an upgrade request is no longer answered as a plain request, and `Expect: 100-continue` is no
    // longer answered with 100 and routed as 'request'), so those connections free their place by going
    // stale instead.
    server.prependListener('request', this.onRead);
    server.on('close', () => clearTimeout(this.timer));
  }

  /** Connections accepted and not yet resumed (diagnostics, tests). */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  readonly onConnection = (socket: Socket): void => {
    this.waiting.push(socket);
    this.schedule();
  };

  /** A request was parsed: its connection, if it was a new one, no longer holds a place. */
  private readonly onRead = (req: IncomingMessage): void => {
    if (this.unread.delete(req.socket) && this.queued > 0) this.schedule();
  };

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.turn);
  }

  /** Resumes waiting sockets while places are free (their bytes are read in the next poll phase). */
  private readonly turn = (): void => {
    this.scheduled = false;
    const now = performance.now();
    for (const [socket, at] of this.unread) if (socket.destroyed || now - at > this.staleMs) this.unread.delete(socket);
    while (this.unread.size < this.inFlight && this.head < this.waiting.length) {
      const socket = this.waiting[this.head++] as Socket;
      // Gone while it waited (the server closed it, say): nothing to admit.
      if (socket.destroyed) continue;
      this.unread.set(socket, now);
      socket.resume();
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
      return;
    }
    if (this.head > 1024) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    // Full: a parsed request frees a place (`onRead`); else the oldest goes stale.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.schedule(), this.staleMs + 1);
  };
}
