import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import WebSocket from 'ws';
import {
  makeMessage,
  parseFrame,
  RUNNER_MAX_FRAME_BYTES,
  type MessageType,
  type PayloadOf,
  type RunnerMessage,
  type WelcomePayload,
} from '../../protocol/runner.js';
import { realWorkingDir } from '../executor/index.js';
import { createShellPolicy, McpClients } from '../ops/index.js';
import { Backoff } from './backoff.js';
import { redactUrl, type RunnerConfig } from './config.js';
import type { Logger } from './log.js';
import type { CommandSettings } from '../executor/tool.js';
import { toolEnvironment } from '../executor/tool-env.js';
import { createProcessRegistry } from '../process-registry.js';
import { reapOrphanedCommands } from '../reap.js';
import { scrubInitialEnvironment } from '../environ-scrub.js';
import { Outbox } from './outbox.js';
import { environmentInfo, MetricsSampler } from './system-info.js';
import { TaskTable } from './tasks.js';

export const RUNNER_VERSION = '0.1.0';

/** Where results waiting for a connection are kept, under the workspace. */
export const OUTBOX_DIR = '.tower/runner-outbox';
/** The runner's own state (its process records under procs/), hidden from sandboxed commands. */
export const RUNNER_STATE_DIR = '.tower/runner';

export interface RunnerHandle {
  /** Resolves once the runner has stopped (after `stop`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

const frame = <T extends MessageType>(type: T, payload: PayloadOf<T>): string => JSON.stringify(makeMessage(type, payload, randomUUID()));

/**
 * `tower runner`: connects to Tower's `/runners/ws`, waits for `welcome`, then serves `task.request`,
 * `task.cancel` and `mcp.call` and sends heartbeats, forever: a lost connection is re-established with
 * exponential backoff and jitter, and results that finished meanwhile are delivered after reconnecting.
 */
export async function startRunner(config: RunnerConfig, log: Logger): Promise<RunnerHandle> {
  // The runner token and any key the runner was started with must not be readable in /proc/<pid>/environ.
  const scrub = scrubInitialEnvironment();
  if (!scrub.scrubbed) log.warn({ reason: scrub.reason }, 'runner: could not clear the initial environment block');
  await mkdir(config.workspace, { recursive: true });
  const root = await realWorkingDir(config.workspace);
  const outbox = new Outbox(path.join(root, OUTBOX_DIR), log);
  const recovered = await outbox.init();
  if (recovered > 0) log.info({ count: recovered }, 'runner: results from a previous run will be delivered after connecting');
  const shellPolicy = createShellPolicy({ allow: config.allow, deny: config.deny });
  const metrics = new MetricsSampler(root);
  // Commands are recorded under the workspace, so a runner killed mid-command ends them at its next start.
  const stateDir = path.join(root, RUNNER_STATE_DIR);
  await reapOrphanedCommands(stateDir, log);
  const hide = [path.join(root, '.tower')];
  const commands: CommandSettings = {
    registry: createProcessRegistry(stateDir),
    sandbox: config.sandbox,
    network: config.network,
    hide,
    env: toolEnvironment(process.env, config.toolEnv),
    logger: log,
  };
  // A bwrap runner starts its stdio MCP servers in bubblewrap as it runs bash: the workspace writable,
  // its `.tower` hidden, the network as configured. (`auto` leaves them outside, as Tower's own do.)
  const mcpSandbox = { root, network: config.network, hide };
  const mcp = new McpClients(config.sandbox === 'bwrap' ? { sandbox: () => mcpSandbox } : {});
  let welcome: WelcomePayload | null = null;

  const tasks = new TaskTable(
    () => ({ root, shellPolicy, allowPrivateNet: config.allowPrivateNet, mcp, commands }),
    {
      output: (taskId, stream, data) =>
        outbox.output(`${taskId}\0${stream}`, data, (merged) => frame('task.output', { task_id: taskId, stream, data: merged })),
      result: (request, outcome) =>
        outbox.durable(frame('task.result', {
          task_id: request.task_id,
          ...(request.source_instance_id ? { source_instance_id: request.source_instance_id } : {}),
          ...outcome,
        })),
      mcpResult: (callId, outcome) => outbox.durable(frame('mcp.result', { call_id: callId, ...outcome })),
    },
    log,
  );

  const stopController = new AbortController();
  const backoff = new Backoff(config.reconnectMinMs, config.reconnectMaxMs);
  let current: WebSocket | null = null;

  // Heartbeats are built synchronously from the latest sample (refreshed after each one), so the first
  // heartbeat and the outbox's attach happen in the same tick as the welcome: no output can slip between.
  let latestMetrics = await metrics.sample();
  function heartbeat(withEnvironment: boolean): string {
    const hb = frame('heartbeat', {
      worknode_id: welcome?.worknode_id ?? '',
      name: welcome?.name || config.name,
      labels: welcome && welcome.labels.length > 0 ? welcome.labels : config.labels,
      version: RUNNER_VERSION,
      ...(withEnvironment ? { environment: environmentInfo(root) } : {}),
      metrics: latestMetrics,
    });
    void metrics.sample().then((m) => (latestMetrics = m), () => undefined);
    return hb;
  }

  function handle(message: RunnerMessage): void {
    switch (message.type) {
      case 'task.request':
        tasks.start(message.payload);
        return;
      case 'task.cancel':
        if (!tasks.cancel(message.payload.task_id)) log.info({ task_id: message.payload.task_id }, 'runner: cancel for a task not running');
        return;
      case 'mcp.call':
        tasks.mcpCall(message.payload, { mcp });
        return;
      case 'error':
        log.warn({ code: message.payload.code, message: message.payload.message }, 'runner: control plane reported an error');
        return;
      case 'welcome':
        welcome = message.payload;
        return;
      default:
        log.warn({ type: message.type }, 'runner: unexpected message type from the control plane');
    }
  }

  /** One connection, from open to close. Resolves when it is over; `true` if a welcome arrived. */
  function connectOnce(): Promise<boolean> {
    return new Promise((resolve) => {
      const url = new URL(config.url);
      // Seed-004 control planes read `?token=`; Tower reads the header. Both carry the same token.
      url.searchParams.set('token', config.token);
      const ws = new WebSocket(url, { headers: { authorization: `Bearer ${config.token}` }, maxPayload: RUNNER_MAX_FRAME_BYTES, handshakeTimeout: 30_000, perMessageDeflate: false });
      current = ws;
      let welcomed = false;
      let heartbeatTimer: NodeJS.Timeout | null = null;
      const welcomeTimer = setTimeout(() => {
        log.warn({ url: redactUrl(config.url) }, 'runner: no welcome within the timeout; reconnecting');
        ws.terminate();
      }, config.welcomeTimeoutMs);

      ws.on('message', (data) => {
        // binaryType is the default 'nodebuffer': text and binary frames alike arrive as one Buffer.
        const parsed = parseFrame(data as Buffer);
        if (!parsed.ok) {
          log.warn({ code: parsed.error.code, message: parsed.error.message }, 'runner: bad frame from the control plane');
          return;
        }
        if (!welcomed) {
          if (parsed.message.type !== 'welcome') {
            log.warn({ type: parsed.message.type }, 'runner: frame before welcome ignored');
            return;
          }
          welcomed = true;
          clearTimeout(welcomeTimer);
          welcome = parsed.message.payload;
          backoff.reset();
          log.info({ url: redactUrl(config.url), worknode_id: welcome.worknode_id, name: welcome.name }, 'runner: connected');
          // The first heartbeat of each connection carries the environment, and goes before any result.
          ws.send(heartbeat(true));
          outbox.attach(ws);
          heartbeatTimer = setInterval(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send(heartbeat(false));
          }, config.heartbeatMs);
          return;
        }
        handle(parsed.message);
      });
      ws.on('error', (err) => log.warn({ err: err.message, url: redactUrl(config.url) }, 'runner: connection error'));
      ws.on('close', (code) => {
        clearTimeout(welcomeTimer);
        if (heartbeatTimer) clearInterval(heartbeatTimer);
        if (current === ws) current = null;
        if (welcomed) log.info({ code }, 'runner: disconnected');
        void outbox.detach().then(() => resolve(welcomed));
      });
    });
  }

  const done = (async () => {
    while (!stopController.signal.aborted) {
      await connectOnce();
      if (stopController.signal.aborted) break;
      const delay = backoff.next();
      log.info({ delay_ms: delay }, 'runner: reconnecting after a delay');
      await new Promise<void>((resolve) => {
        // The listener goes with the delay: one left per reconnect would pile up on the runner's one signal.
        const onStop = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          stopController.signal.removeEventListener('abort', onStop);
          resolve();
        }, delay);
        stopController.signal.addEventListener('abort', onStop, { once: true });
      });
    }
  })();

  return {
    done,
    async stop() {
      stopController.abort();
      await tasks.shutdown();
      // Give queued results a moment to leave while still connected; what remains stays on disk.
      if (outbox.connected) {
        let timer: NodeJS.Timeout | undefined;
        // The 2 s bound goes as soon as the outbox is idle: a timer left would hold the process 2 s past stop.
        await Promise.race([outbox.idle(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
        clearTimeout(timer);
      }
      current?.close(1001, 'runner stopping');
      await done;
      await mcp.closeAll();
    },
  };
}
