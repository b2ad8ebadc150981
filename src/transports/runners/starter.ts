import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { z } from 'zod';
import type { RunnerAdmin } from '../../core/commands/index.js';
import { TowerError } from '../../protocol/errors.js';
import type { RunnerEvent, RunnerTokenInfo, RunnerView } from '../../protocol/runner-api.js';
import { RunnerPlacement } from '../../protocol/session.js';
import type { RunnerTokenStore } from '../../store/runner-tokens.js';
import type { RunningTransport, TransportContext } from '../context.js';
import { routeUpgrade } from '../upgrade.js';
import { RunnerGateway, RUNNERS_WS_PATH, type RunnerGatewayOptions } from './gateway.js';
import { clusterRunnerList, type RemoteRunnerDirectory } from './directory.js';
import { relayClusterRunnerEvents } from './cluster-events.js';
import type { RunnerInfo } from './registry.js';
import { CLUSTER_HOP_MS, RunnerToolExecutor } from './remote-executor.js';
import { RunnerMcpBackend } from './remote-mcp.js';
import { RunnerDispatcher } from './runner-dispatch.js';
import { hashRunnerToken, newRunnerToken, storeTokenVerifier } from './tokens.js';

/**
 * Config file keys: `runner` (the default placement of sessions' tools), `runner_wait` (seconds),
 * `runner_offline_retention` (seconds), `runner_cancel_grace` (seconds) and `network` (the executor's
 * default, which webfetch on a runner honours too).
 */
const RunnerSettings = z.object({
  runner: RunnerPlacement.nullable().optional(),
  runner_wait: z.number().positive().max(3600).optional(),
  /** Seconds a disconnected runner stays listed (default one day). */
  runner_offline_retention: z.number().positive().optional(),
  /** Seconds a runner has to answer a cancel before its task is given up on (default 5). */
  runner_cancel_grace: z.number().positive().max(3600).optional(),
  network: z.boolean().optional(),
});

export type RunnersTransportOverrides = Partial<Omit<RunnerGatewayOptions, 'verifyToken' | 'log'>>;

export interface RunningRunners extends RunningTransport {
  gateway: RunnerGateway;
}

/**
 * The runner gateway beside HTTP: `/runners/ws` for `tower runner` processes, the runner commands
 * (tokens, listing), runner events for the hub, and the routing of sessions' tool calls to runners by
 * labels (a session's `runner`, else the config's).
 */
export function runnersTransport(overrides: RunnersTransportOverrides = {}): (ctx: TransportContext) => Promise<RunningRunners | undefined> {
  return async (ctx) => {
    const tokens = ctx.runnerTokens;
    if (!tokens) {
      ctx.logger.warn('store keeps no runner tokens; the runner gateway is off');
      return undefined;
    }
    const settings = RunnerSettings.safeParse(ctx.config.file);
    if (!settings.success) {
      throw new TowerError('invalid_request', `config: runner settings: ${settings.error.issues[0]?.message ?? 'invalid'}`);
    }
    const waitMs = overrides.runnerWaitMs ?? (settings.data.runner_wait ?? 30) * 1000;
    const fallback = settings.data.runner ?? null;
    const retention = settings.data.runner_offline_retention;
    const cancelGrace = settings.data.runner_cancel_grace;
    const gateway = new RunnerGateway({
      verifyToken: storeTokenVerifier(tokens),
      log: ctx.logger,
      ...(retention !== undefined ? { offlineRetentionMs: retention * 1000 } : {}),
      ...(cancelGrace !== undefined ? { cancelGraceMs: cancelGrace * 1000 } : {}),
      ...overrides,
      runnerWaitMs: waitMs,
    });
    const unroute = routeUpgrade(ctx.http.server as Server, RUNNERS_WS_PATH, (req, socket, head) => {
      gateway.handleUpgrade(req, socket, head);
    });
    const remote = ctx.runnerDirectory?.(gateway);
    const toHub = (e: RunnerEvent): void => ctx.runnerEvents?.publish(e);
    // A cluster's hub shows every node's runners, each event naming its node; one node's events are as they come.
    const relay = overrides.heartbeatEventMs !== undefined ? { heartbeatEventMs: overrides.heartbeatEventMs } : {};
    const unevents = remote ? relayClusterRunnerEvents(gateway, remote, toHub, relay) : gateway.onEvent(toHub);
    ctx.commands.attachRunners(runnerAdmin(gateway, tokens, remote));
    ctx.manager.routeTools((session, local) => {
      const placement = session.runner ?? fallback;
      if (!placement) return undefined;
      return new RunnerToolExecutor({
        gateway,
        ...(remote ? { remote } : {}),
        local,
        labels: placement.labels,
        waitMs,
        cancelGraceMs: gateway.cancelGraceMs + CLUSTER_HOP_MS,
        network: settings.data.network ?? false,
        logger: ctx.logger,
        onNoRunner: (message) => {
          ctx.log.append(session.id, { type: 'error', data: { code: 'no_runner', message } }).catch((err: unknown) => {
            ctx.logger.debug({ err, session_id: session.id }, 'no_runner event not recorded');
          });
        },
      });
    });
    // A session placed on runners runs its MCP servers there too (same labels, same wait).
    ctx.manager.routeMcp((session) => {
      const placement = session.runner ?? fallback;
      if (!placement) return undefined;
      const onNoRunner = (message: string): void => {
        ctx.log.append(session.id, { type: 'error', data: { code: 'no_runner', message } }).catch((err: unknown) => {
          ctx.logger.debug({ err, session_id: session.id }, 'no_runner event not recorded');
        });
      };
      return new RunnerMcpBackend(new RunnerDispatcher({ gateway, labels: placement.labels, waitMs, logger: ctx.logger, onNoRunner }));
    });
    ctx.logger.info({ path: RUNNERS_WS_PATH }, 'runner gateway listening');
    return {
      name: 'runners',
      gateway,
      close: async () => {
        ctx.manager.routeTools(undefined);
        ctx.manager.routeMcp(undefined);
        ctx.commands.attachRunners(undefined);
        unevents();
        unroute();
        await remote?.close();
        await gateway.close();
      },
    };
  };
}

/** A runner of this node's gateway; in a cluster marked with this node. */
function view(info: RunnerInfo, node: string | undefined): RunnerView {
  const { token_id: _tokenId, ...rest } = info;
  return node === undefined ? rest : { ...rest, node };
}

/**
 * The runner commands over this node's gateway. In a cluster (`remote`) listings and look-ups cover the
 * cluster's runners: this node's (any status), then the other nodes' online ones, each marked with its node.
 */
function runnerAdmin(gateway: RunnerGateway, tokens: RunnerTokenStore, remote: RemoteRunnerDirectory | undefined): RunnerAdmin {
  const node = remote?.node;
  const list = (): RunnerView[] => {
    const here = gateway.registry.list().map((r) => view(r, node));
    return remote ? clusterRunnerList(here, remote.list()) : here;
  };
  return {
    async createToken(name, labels) {
      const token = newRunnerToken();
      const row = { id: `rn_${randomUUID().replace(/-/g, '').slice(0, 16)}`, name, labels, created_at: new Date().toISOString() };
      await tokens.createRunnerToken({ ...row, token_hash: hashRunnerToken(token) });
      return { ...row, revoked_at: null, token };
    },
    async listTokens(): Promise<RunnerTokenInfo[]> {
      return (await tokens.listRunnerTokens()).map((t) => ({ id: t.id, name: t.name, labels: t.labels, created_at: t.created_at, revoked_at: t.revoked_at }));
    },
    async revokeToken(id) {
      if (!(await tokens.revokeRunnerToken(id, new Date().toISOString()))) {
        throw new TowerError('not_found', `No live runner token with id "${id}"`);
      }
      return gateway.disconnectToken(id);
    },
    listRunners: list,
    getRunner: (id) => list().find((r) => r.id === id) ?? null,
  };
}
