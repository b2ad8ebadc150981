import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../core/logger.js';
import { TowerError } from '../../protocol/errors.js';
import {
  makeMessage,
  parseFrame,
  RUNNER_MAX_FRAME_BYTES,
  type MCPServerConfig,
  type MessageType,
  type PayloadOf,
  type RunnerMessage,
  type TaskOperation,
  type TaskResultPayload,
} from '../../protocol/runner.js';
import type { RunnerEvent } from '../../protocol/runner-api.js';
import { RunnerRegistry } from './registry.js';
import type { RunnerTokenRecord, RunnerTokenVerifier } from './tokens.js';

export const RUNNERS_WS_PATH = '/runners/ws';

export interface RunnerGatewayOptions {
  verifyToken: RunnerTokenVerifier;
  log: Logger;
  /** The runners' heartbeat interval; two missed ones mark a runner offline. */
  heartbeatMs?: number;
  /** How long a task waits for its runner to come back after a disconnect before failing. */
  runnerWaitMs?: number;
  /** At most one `runner_heartbeat` event per runner per this interval (default 30 s). */
  heartbeatEventMs?: number;
  /** How long a disconnected runner stays listed before it is forgotten (default 24 h). */
  offlineRetentionMs?: number;
  /** How many disconnected runners stay listed at most (default 1000). */
  maxOfflineRunners?: number;
  /**
   * After `task.cancel`, how long the runner has to answer before the task is given up on (default
   * `CANCEL_GRACE_MS`): its dispatch resolves with a `cancel_unanswered` failure and its slot is freed.
   */
  cancelGraceMs?: number;
}

export interface DispatchOptions {
  taskId?: string;
  traceId?: string;
  onOutput?: (stream: 'stdout' | 'stderr', data: string) => void;
  /** Aborting sends `task.cancel`; the promise still resolves with the runner's (canceled) result. */
  signal?: AbortSignal;
}

interface PendingTask {
  runnerId: string;
  frame: string;
  onOutput?: DispatchOptions['onOutput'];
  resolve: (result: TaskResultPayload) => void;
  orphanTimer: NodeJS.Timeout | null;
  /** Set once `task.cancel` went out: the runner's answer is awaited at most `cancelGraceMs`. */
  cancelTimer: NodeJS.Timeout | null;
  /** Removes the abort listener: a turn's signal serves many calls and must not collect one per call. */
  unlisten: () => void;
}

interface Connection {
  ws: WebSocket;
  token: RunnerTokenRecord;
}

/** Results whose task ids are remembered after completion, to drop re-sent duplicates quietly. */
const COMPLETED_MEMORY = 10_000;

/** The runner's kill grace (SIGTERM, then SIGKILL after 2 s) and a round trip. */
export const CANCEL_GRACE_MS = 5000;
/** The stable code a task given up on after an unanswered cancel fails with (`cancel_unanswered: ...`). */
export const CANCEL_UNANSWERED = 'cancel_unanswered';

/** Adds `value`, forgetting the oldest entry past `COMPLETED_MEMORY`. */
function remember(set: Set<string>, value: string): void {
  set.add(value);
  if (set.size <= COMPLETED_MEMORY) return;
  const oldest = set.values().next().value;
  if (oldest !== undefined) set.delete(oldest);
}

/**
 * Tower's end of `/runners/ws` (seed 004). Self-contained: give it an HTTP server's `upgrade` events and a
 * token verifier. One runner per token: a second connection with the same token replaces the first.
 *
 * - Bad frames (not JSON, unknown type, bad payload, over 16 MiB) get an `error` frame and a log line; the
 *   connection stays up and no other runner notices. Frames far over the limit (> 17 MiB) are cut off by
 *   the socket itself (close 1009).
 * - A `task.result` or `task.output` for a task this runner was never given is refused with an `error`
 *   frame; a repeated result for a completed task (the runner resends after reconnecting) is dropped, so
 *   every dispatch resolves exactly once.
 * - A runner that drops mid-task gets `runnerWaitMs` to come back; its pending tasks are then sent again
 *   under the same id (the runner ignores duplicates and resends finished results), else they fail.
 * - A canceled task whose runner does not answer within `cancelGraceMs` is given up on: the dispatch
 *   resolves with a `cancel_unanswered` failure, the runner's slot is freed, and the runner's late
 *   output and result for that id are dropped (logged once), never delivered elsewhere.
 */
export class RunnerGateway {
  readonly registry: RunnerRegistry;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  private readonly pending = new Map<string, PendingTask>();
  private readonly completed = new Set<string>();
  /** Tasks given up on after an unanswered cancel: their late frames are dropped, not refused. */
  private readonly abandoned = new Set<string>();
  /** Tasks canceled while their runner was away: `task.cancel` goes out when it is back. */
  private readonly cancelOnReconnect = new Map<string, Set<string>>();
  private readonly mcpCalls = new Map<string, { runnerId: string; resolve: (r: PayloadOf<'mcp.result'>) => void }>();
  private readonly heartbeatMs: number;
  private readonly runnerWaitMs: number;
  /** See `RunnerGatewayOptions.cancelGraceMs`. */
  readonly cancelGraceMs: number;
  private readonly listeners = new Set<(event: RunnerEvent) => void>();
  private readonly lastHeartbeatEvent = new Map<string, number>();

  constructor(private readonly opts: RunnerGatewayOptions) {
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.runnerWaitMs = opts.runnerWaitMs ?? 30_000;
    this.cancelGraceMs = opts.cancelGraceMs ?? CANCEL_GRACE_MS;
    this.registry = new RunnerRegistry(this.heartbeatMs, {
      ...(opts.offlineRetentionMs !== undefined ? { offlineRetentionMs: opts.offlineRetentionMs } : {}),
      ...(opts.maxOfflineRunners !== undefined ? { maxOffline: opts.maxOfflineRunners } : {}),
      onForget: (id) => this.lastHeartbeatEvent.delete(id),
    });
    // No per-message compression: frames are small and per-call latency is what counts (ws sets TCP_NODELAY itself).
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: RUNNER_MAX_FRAME_BYTES + 1024 * 1024 });
  }

  /** Handles an HTTP upgrade if it is for `/runners/ws`; returns false otherwise (someone else's). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://tower');
    if (url.pathname !== RUNNERS_WS_PATH) return false;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : url.searchParams.get('token') ?? '';
    void this.opts.verifyToken(token).then(
      (record) => {
        if (record === null) {
          this.opts.log.warn({ remote: req.socket.remoteAddress }, 'runner gateway: refused a connection with an unknown or revoked token');
          socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, record));
      },
      (err: unknown) => {
        this.opts.log.error({ err }, 'runner gateway: token check failed');
        socket.end('HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      },
    );
    return true;
  }

  /**
   * Follows runners: `runner_connected`, `runner_disconnected`, and `runner_heartbeat` at most once per
   * `heartbeatEventMs` per runner. Returns the removal. A listener's throw is its own problem.
   */
  onEvent(listener: (event: RunnerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(type: RunnerEvent['type'], id: string): void {
    const runner = this.registry.get(id);
    if (!runner) return;
    const { token_id: _tokenId, ...view } = runner;
    const event: RunnerEvent = { type, runner: view, timestamp: new Date().toISOString() };
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        this.opts.log.warn({ err, type }, 'runner gateway: an event listener failed');
      }
    }
  }

  /** Sends an operation to a runner; resolves with its `task.result` (never rejects for runner failures). */
  dispatch(runnerId: string, operation: TaskOperation, args: unknown, opts: DispatchOptions = {}): Promise<TaskResultPayload> {
    const conn = this.connections.get(runnerId);
    if (!conn) return Promise.reject(new TowerError('not_found', `runner ${runnerId} is not connected`));
    const taskId = opts.taskId ?? randomUUID();
    if (this.pending.has(taskId)) return Promise.reject(new TowerError('conflict', `task ${taskId} is already running`));
    // A runner remembers finished ids and ignores their requests, and a late answer must reach no one else.
    if (this.completed.has(taskId)) return Promise.reject(new TowerError('conflict', `task ${taskId} has already run`));
    const frame = this.frame('task.request', { task_id: taskId, ...(opts.traceId ? { trace_id: opts.traceId } : {}), operation, args });
    return new Promise<TaskResultPayload>((resolve) => {
      const signal = opts.signal;
      const onAbort = (): void => this.cancel(taskId);
      const unlisten = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(taskId, { runnerId, frame, ...(opts.onOutput ? { onOutput: opts.onOutput } : {}), resolve, orphanTimer: null, cancelTimer: null, unlisten });
      this.registry.taskStarted(runnerId, taskId);
      conn.ws.send(frame);
      if (signal?.aborted) this.cancel(taskId);
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Sends `task.cancel` for a running task. When its runner is away, the task ends now as canceled (a
   * canceled call must not wait `runnerWaitMs`), and the cancel goes out when the runner reconnects, so
   * the command does not run on there unattended.
   */
  cancel(taskId: string): void {
    const task = this.pending.get(taskId);
    if (!task) return;
    const conn = this.connections.get(task.runnerId);
    // A socket already closing counts as away: a frame sent on it would be lost.
    if (conn && conn.ws.readyState === conn.ws.OPEN) {
      if (task.cancelTimer) return; // told already; its grace runs
      conn.ws.send(this.frame('task.cancel', { task_id: taskId }));
      const grace = this.cancelGraceMs;
      task.cancelTimer = setTimeout(() => this.abandon(taskId, grace), grace);
      return;
    }
    let set = this.cancelOnReconnect.get(task.runnerId);
    if (!set) this.cancelOnReconnect.set(task.runnerId, (set = new Set()));
    remember(set, taskId);
    this.finish(taskId, { task_id: taskId, success: false, error: 'canceled while the runner was disconnected' });
  }

  /** `mcp.call` on a runner; resolves with its `mcp.result`. */
  callMcp(runnerId: string, server: MCPServerConfig, toolName: string, args: unknown): Promise<PayloadOf<'mcp.result'>> {
    const conn = this.connections.get(runnerId);
    if (!conn) return Promise.reject(new TowerError('not_found', `runner ${runnerId} is not connected`));
    const callId = randomUUID();
    return new Promise((resolve) => {
      this.mcpCalls.set(callId, { runnerId, resolve });
      conn.ws.send(this.frame('mcp.call', { call_id: callId, server, tool_name: toolName, arguments: args }));
    });
  }

  /** A revoked token's runner is disconnected at once; returns how many connections were closed. */
  disconnectToken(tokenId: string): number {
    let closed = 0;
    for (const [id, conn] of this.connections) {
      if (conn.token.id === tokenId) {
        conn.ws.close(4001, 'token revoked');
        // Cut it if it does not answer the close handshake promptly.
        setTimeout(() => conn.ws.terminate(), 1000).unref();
        this.connections.delete(id);
        this.registry.disconnected(id);
        this.emit('runner_disconnected', id);
        // A revoked runner cannot come back: its tasks fail now rather than after runnerWaitMs.
        this.orphan(id, 0, `runner ${id} was disconnected: its token was revoked`);
        closed += 1;
      }
    }
    return closed;
  }

  async close(): Promise<void> {
    for (const conn of this.connections.values()) conn.ws.terminate();
    this.connections.clear();
    for (const taskId of [...this.pending.keys()]) this.finish(taskId, { task_id: taskId, success: false, error: 'Tower is shutting down' });
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private accept(ws: WebSocket, token: RunnerTokenRecord): void {
    const id = token.id;
    const previous = this.connections.get(id);
    if (previous) previous.ws.close(4000, 'replaced by a new connection');
    this.connections.set(id, { ws, token });
    this.registry.connected(id, token.id, token.name, token.labels);
    this.opts.log.info({ runner_id: id, name: token.name }, 'runner gateway: runner connected');
    this.emit('runner_connected', id);
    ws.send(this.frame('welcome', { worknode_id: id, name: token.name, labels: token.labels }));
    const canceled = this.cancelOnReconnect.get(id);
    this.cancelOnReconnect.delete(id);
    for (const taskId of canceled ?? []) ws.send(this.frame('task.cancel', { task_id: taskId }));
    // Tasks left waiting by an earlier connection go out again under the same ids.
    for (const [taskId, task] of this.pending) {
      if (task.runnerId !== id) continue;
      if (task.orphanTimer) clearTimeout(task.orphanTimer);
      task.orphanTimer = null;
      // A task canceled before the drop is not started again: the cancel is repeated instead.
      ws.send(task.cancelTimer ? this.frame('task.cancel', { task_id: taskId }) : task.frame);
    }
    ws.on('message', (data) => this.onFrame(id, ws, data as Buffer));
    ws.on('close', () => this.onClose(id, ws));
    ws.on('error', (err) => this.opts.log.warn({ runner_id: id, err: err.message }, 'runner gateway: socket error'));
  }

  private onFrame(id: string, ws: WebSocket, data: Buffer): void {
    const parsed = parseFrame(data);
    if (!parsed.ok) {
      this.opts.log.warn({ runner_id: id, code: parsed.error.code, message: parsed.error.message }, 'runner gateway: bad frame');
      this.sendError(ws, parsed.error.code, parsed.error.message);
      return;
    }
    this.handle(id, ws, parsed.message);
  }

  private handle(id: string, ws: WebSocket, message: RunnerMessage): void {
    switch (message.type) {
      case 'heartbeat': {
        this.registry.heartbeat(id, message.payload);
        const now = Date.now();
        const last = this.lastHeartbeatEvent.get(id);
        if (last === undefined || now - last >= (this.opts.heartbeatEventMs ?? 30_000)) {
          this.lastHeartbeatEvent.set(id, now);
          this.emit('runner_heartbeat', id);
        }
        return;
      }
      case 'task.output': {
        const task = this.pending.get(message.payload.task_id);
        if (!task || task.runnerId !== id) {
          if (this.abandoned.has(message.payload.task_id)) return; // the runner ran on after the cancel; nobody listens
          return this.refuseTask(id, ws, message.payload.task_id, 'task.output');
        }
        task.onOutput?.(message.payload.stream, message.payload.data);
        return;
      }
      case 'task.result': {
        const taskId = message.payload.task_id;
        const task = this.pending.get(taskId);
        if (!task || task.runnerId !== id) {
          if (this.abandoned.delete(taskId)) {
            this.opts.log.info({ runner_id: id, task_id: taskId, success: message.payload.success }, 'runner gateway: late result for a task given up on after its cancel; ignored');
            return;
          }
          if (this.completed.has(taskId)) return; // a resent result: delivered already
          return this.refuseTask(id, ws, taskId, 'task.result');
        }
        this.finish(taskId, message.payload);
        return;
      }
      case 'mcp.result': {
        const call = this.mcpCalls.get(message.payload.call_id);
        if (!call || call.runnerId !== id) return;
        this.mcpCalls.delete(message.payload.call_id);
        call.resolve(message.payload);
        return;
      }
      default:
        this.sendError(ws, 'unexpected_type', `runners do not send ${message.type}`);
    }
  }

  private refuseTask(id: string, ws: WebSocket, taskId: string, type: string): void {
    this.opts.log.warn({ runner_id: id, task_id: taskId, type }, 'runner gateway: frame for a task this runner was never given');
    this.sendError(ws, 'unknown_task', `${type} for task ${taskId.slice(0, 200)}, which this runner was never given`);
  }

  private finish(taskId: string, result: TaskResultPayload): void {
    const task = this.pending.get(taskId);
    if (!task) return;
    this.pending.delete(taskId);
    task.unlisten();
    if (task.orphanTimer) clearTimeout(task.orphanTimer);
    if (task.cancelTimer) clearTimeout(task.cancelTimer);
    this.registry.taskEnded(task.runnerId, taskId);
    remember(this.completed, taskId);
    task.resolve(result);
  }

  /** A cancel unanswered for `graceMs`: the task ends now and what the runner sends for it later is dropped. */
  private abandon(taskId: string, graceMs: number): void {
    const task = this.pending.get(taskId);
    if (!task) return;
    this.opts.log.warn({ runner_id: task.runnerId, task_id: taskId, grace_ms: graceMs }, 'runner gateway: runner did not answer a cancel; task given up on');
    remember(this.abandoned, taskId);
    const error = `${CANCEL_UNANSWERED}: runner ${task.runnerId} did not answer the cancel within ${Math.round(graceMs / 100) / 10} s; the task was given up on`;
    this.finish(taskId, { task_id: taskId, success: false, error });
  }

  private onClose(id: string, ws: WebSocket): void {
    if (this.connections.get(id)?.ws !== ws) return; // replaced or revoked already
    this.connections.delete(id);
    this.registry.disconnected(id);
    this.opts.log.info({ runner_id: id }, 'runner gateway: runner disconnected');
    this.emit('runner_disconnected', id);
    this.orphan(id, this.runnerWaitMs, `runner ${id} disconnected and did not come back within ${Math.round(this.runnerWaitMs / 1000)} s`);
  }

  /** A gone runner's tasks fail after `waitMs` unless it reconnects first; its MCP calls fail now. */
  private orphan(id: string, waitMs: number, error: string): void {
    for (const [taskId, task] of this.pending) {
      if (task.runnerId !== id) continue;
      if (task.orphanTimer) clearTimeout(task.orphanTimer);
      task.orphanTimer = setTimeout(() => this.finish(taskId, { task_id: taskId, success: false, error }), waitMs);
    }
    for (const [callId, call] of this.mcpCalls) {
      if (call.runnerId !== id) continue;
      this.mcpCalls.delete(callId);
      call.resolve({ call_id: callId, success: false, error: `runner ${id} disconnected` });
    }
  }

  private sendError(ws: WebSocket, code: string, message: string): void {
    if (ws.readyState === ws.OPEN) ws.send(this.frame('error', { code, message: message.slice(0, 500) }));
  }

  private frame<T extends MessageType>(type: T, payload: PayloadOf<T>): string {
    return JSON.stringify(makeMessage(type, payload, randomUUID()));
  }
}
