import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeMessage, parseFrame, type MessageType, type PayloadOf, type RunnerMessage, type TaskResultPayload } from '../../../protocol/runner.js';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
export const CLI_MAIN = path.join(ROOT, 'src/cli/main.ts');
export const RECORD_LOADS = path.join(import.meta.dirname, 'record-loads.mjs');

export interface Received {
  connection: number;
  message: RunnerMessage;
}

/**
 * A small stand-in for Tower's side of `/runners/ws` in tests: a real `ws` server on 127.0.0.1:0 that
 * checks the token (Bearer header or `?token=`), sends `welcome`, records every frame, and de-duplicates
 * task results by task id as the gateway does.
 */
export class TestControlPlane {
  readonly received: Received[] = [];
  /** First result per task id; later duplicates are only counted. */
  readonly results = new Map<string, TaskResultPayload>();
  duplicateResults = 0;
  connections = 0;
  refusedConnections = 0;
  authSeen: { bearer: boolean; query: boolean }[] = [];
  accepting = true;
  private socket: WebSocket | null = null;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly wss: WebSocketServer,
    readonly url: string,
    readonly token: string,
  ) {}

  static async start(token = `rt_${randomUUID()}`): Promise<TestControlPlane> {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      path: '/runners/ws',
      verifyClient: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number) => void) => {
        const cp = holder.cp;
        if (!cp) return cb(false, 503);
        const url = new URL(info.req.url ?? '/', 'http://x');
        const bearer = info.req.headers.authorization === `Bearer ${cp.token}`;
        const query = url.searchParams.get('token') === cp.token;
        cp.authSeen.push({ bearer, query });
        if (!cp.accepting) cp.refusedConnections += 1;
        cb(cp.accepting && (bearer || query), cp.accepting ? 401 : 503);
        cp.notify();
      },
    });
    const holder: { cp?: TestControlPlane } = {};
    await once(wss, 'listening');
    const { port } = wss.address() as AddressInfo;
    const cp = new TestControlPlane(wss, `ws://127.0.0.1:${port}/runners/ws`, token);
    holder.cp = cp;
    wss.on('connection', (ws) => cp.onConnection(ws));
    return cp;
  }

  private onConnection(ws: WebSocket): void {
    this.connections += 1;
    const connection = this.connections;
    this.socket = ws;
    ws.on('message', (data) => {
      const parsed = parseFrame(data as Buffer);
      if (!parsed.ok) throw new Error(`runner sent a bad frame: ${parsed.error.message}`);
      const message = parsed.message;
      this.received.push({ connection, message });
      if (message.type === 'task.result') {
        if (this.results.has(message.payload.task_id)) this.duplicateResults += 1;
        else this.results.set(message.payload.task_id, message.payload);
      }
      this.notify();
    });
    ws.on('close', () => {
      if (this.socket === ws) this.socket = null;
      this.notify();
    });
    this.send('welcome', { worknode_id: `wn_${connection}`, name: 'test-runner', labels: ['test'] });
    this.notify();
  }

  get connected(): boolean {
    return this.socket !== null;
  }

  send<T extends MessageType>(type: T, payload: PayloadOf<T>): void {
    if (!this.socket) throw new Error('no runner connected');
    this.socket.send(JSON.stringify(makeMessage(type, payload, randomUUID())));
  }

  /** Cuts the runner off abruptly, as a network failure would. */
  dropConnection(): void {
    this.socket?.terminate();
  }

  /** Resolves with the first received frame (from `from` on) that satisfies `match`; event-driven. */
  waitFor(match: (r: Received) => boolean, what = 'a frame', from = 0, timeoutMs = 20_000): Promise<Received> {
    return this.until(() => this.received.slice(from).find(match), what, timeoutMs);
  }

  until<T>(probe: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value !== undefined && value !== false) {
          cleanup();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; received: ${this.received.map((r) => r.message.type).join(', ')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Registers a callback that runs on every received frame and connection change. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private notify(): void {
    for (const fn of [...this.listeners]) fn();
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** `tower runner` from source in a child process. */
export function spawnRunner(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): ChildProcess & { output(): string } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, CLI_MAIN, 'runner', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TOWER_LOG_LEVEL: 'info', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return Object.assign(child, { output: () => out });
}
