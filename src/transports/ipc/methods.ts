import type { z } from 'zod';
import type { CommandService } from '../../core/commands/index.js';
import { isQueuedResult } from './send-result.js';
import {
  PandoParams,
  goDuration,
  type InstanceInfo,
  type MessagePayload,
  type MessageSendResult,
  type PandoMethod,
  type PingResult,
  type SessionPayload,
  type StateSyncResult,
} from '../../protocol/pando-bus.js';
import type { BusPublisher } from './publisher.js';
import type { MethodSpec, MethodTable } from './rpc-dispatch.js';
import { allSessions, toMessagePayloads, toSessionPayload } from './session-view.js';

/** What the methods know about this instance beyond the sessions (pure transport state). */
export interface InstanceState {
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly version: string;
  readonly workdir: string;
  readonly endpoints: { pub: string; rpc: string; http?: string };
  /** The session Pando's clients consider active; set by session.activate, cleared when it is deleted. */
  activeSessionId: string | undefined;
}

export interface MethodDeps {
  commands: CommandService;
  state: InstanceState;
  publisher: BusPublisher;
}

type Params<M extends PandoMethod> = z.output<(typeof PandoParams)[M]>;
const method = <M extends PandoMethod, R>(name: M, run: (p: Params<M>) => Promise<R>): [M, MethodSpec] => [
  name,
  { params: PandoParams[name], run: run as (p: never) => Promise<unknown> },
];

export const uptimeOf = (state: InstanceState): string => goDuration(Date.now() - state.startedAt.getTime());

/**
 * The nine methods of Pando's bus on Tower's sessions. Each one that touches a session goes through the
 * command layer, so it is validated and fails exactly as the same request over HTTP would.
 */
export function busMethods({ commands, state, publisher }: MethodDeps): MethodTable {
  const sessionsNow = async (): Promise<SessionPayload[]> => (await allSessions(commands)).map(toSessionPayload);
  const entries: Array<[PandoMethod, MethodSpec]> = [
    method('instance.ping', async (): Promise<PingResult> => ({ status: 'ok', instance_id: state.instanceId, uptime: uptimeOf(state) })),
    method('instance.info', async (): Promise<InstanceInfo> => ({
      instance_id: state.instanceId,
      version: state.version,
      pid: process.pid,
      started_at: state.startedAt.toISOString(),
      uptime: uptimeOf(state),
      endpoints: state.endpoints,
      session_count: (await allSessions(commands)).length,
      ...(state.activeSessionId ? { active_session_id: state.activeSessionId } : {}),
      workdir: state.workdir,
    })),
    method('session.list', sessionsNow),
    method('session.get', async (p) => toSessionPayload(await commands.execute('sessions.get', { session_id: p.session_id }))),
    method('session.activate', async (p) => {
      const session = toSessionPayload(await commands.execute('sessions.get', { session_id: p.session_id }));
      state.activeSessionId = session.id;
      publisher.publish('session.activated', session, session.id);
      return { ok: true };
    }),
    method('message.list', async (p): Promise<MessagePayload[]> =>
      toMessagePayloads(await commands.execute('sessions.messages', { session_id: p.session_id }))),
    method('message.send', async (p): Promise<MessageSendResult> => {
      const sent = await commands.execute('sessions.send', { session_id: p.session_id, content: p.content, on_busy: 'enqueue' });
      if (isQueuedResult(sent)) return { ok: true, status: 'queued', item_ids: sent.item_ids };
      return { ok: true, status: 'started', turn_id: sent.turn_id };
    }),
    method('session.interrupt', async (p) => {
      const r = await commands.execute('sessions.interrupt', { session_id: p.session_id });
      return { ok: true, interrupted: r.interrupted };
    }),
    method('state.sync', async (): Promise<StateSyncResult> => ({
      sessions: await sessionsNow(),
      ...(state.activeSessionId ? { active_session_id: state.activeSessionId } : {}),
      instance_id: state.instanceId,
    })),
  ];
  return Object.freeze(Object.fromEntries(entries));
}
