import type { Server } from 'node:http';
import { TaskStreamFeed, type MessagingService, type SessionInfo, type TelemetryTracker } from '../../core/messaging/index.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { RunningTransport, TransportContext } from '../context.js';
import { frame } from './frames.js';
import { Hub } from './hub.js';
import { DEFAULT_HUB_OPTIONS, type HubOptions } from './options.js';
import { SessionChangeDeriver } from './session-changes.js';
import { stateFrame, Subscriptions } from './subscriptions.js';

export interface RunningHub extends RunningTransport {
  hub: Hub;
  messaging: MessagingService;
  subscriptions: Subscriptions;
  telemetry: TelemetryTracker;
}

/**
 * The WebSocket hub beside HTTP: it carries the messaging the composition root runs (`ctx.messaging`:
 * threads, inboxes, telemetry), the task stream it derives from the log, and the commands. Without
 * messaging (a store with no messaging tables) there is no hub. `overrides` are for tests (short
 * timings); `hub_allowed_origins` in the config file lists origins.
 */
export function hubTransport(overrides: Partial<HubOptions> = {}): (ctx: TransportContext) => Promise<RunningHub | undefined> {
  return async (ctx: TransportContext): Promise<RunningHub | undefined> => {
    const runtime = ctx.messaging;
    if (!runtime) {
      ctx.logger.warn('no messaging on this server; the hub is off');
      return undefined;
    }
    const messaging = runtime.service;
    const options: HubOptions = { ...DEFAULT_HUB_OPTIONS, ...allowedOriginsOf(ctx), ...(ctx.token ? { token: ctx.token } : {}), ...overrides };
    const subscriptions = new Subscriptions({
      manager: ctx.manager,
      messaging,
      acks: messaging.store,
      lastSessionSeq: (id) => ctx.store.lastSeq(id),
      logger: ctx.logger,
    });
    const untelemetry = runtime.onTelemetry((t) => subscriptions.publish('telemetry', frame('telemetry', t), t.instance_id));
    const page = await ctx.store.listSessions({ limit: 200 });
    const infos = new Map<string, SessionInfo>();
    for (const s of page.items) infos.set(s.id, { working_dir: s.working_dir });
    const taskStream = new TaskStreamFeed({
      runningSessions: () => ctx.manager.active.runningTurns().map(([id]) => id),
      turnsOf: (id) => runtime.telemetry.turnsOf(id),
      readEvents: (id, after, limit) => ctx.store.readEvents(id, after, limit),
      lastSeq: (id) => ctx.store.lastSeq(id),
      infoOf: (id) => infos.get(id),
      publish: (stream) => subscriptions.publish('task_stream', frame('task_stream', stream)),
      logger: ctx.logger,
    });
    const changes = new SessionChangeDeriver((id) => {
      const turn = ctx.manager.turnOf(id);
      if (!turn) return undefined;
      return { confirmations: turn.confirmations.list().map((c) => c.tool_call_id), questions: turn.elicitations.list().map((q) => q.elicitation_id) };
    });
    /** Whether session changes were derived for the last batch: none are while nobody follows `sessions`. */
    let deriving = false;
    const untap = ctx.log.tap((events: readonly StoredEvent[]) => {
      const streaming = subscriptions.topicCount('task_stream') > 0;
      const listing = subscriptions.topicCount('sessions') > 0;
      if (deriving && !listing) changes.reset();
      deriving = listing;
      for (const e of events) {
        if (e.type === 'session_created') infos.set(e.session_id, { working_dir: e.data.working_dir });
        else if (e.type === 'session_deleted') infos.delete(e.session_id);
      }
      // Nothing is derived for the task stream while nobody follows it.
      taskStream.onEvents(events, streaming);
      if (!listing) return;
      for (const e of events) {
        const change = changes.derive(e);
        if (change) subscriptions.publish('sessions', frame('session_change', change));
      }
    });
    const unnotice = messaging.onNotice((n) => {
      if (n.kind === 'thread_state') {
        subscriptions.threadChanged(n.thread);
        subscriptions.publish('threads', stateFrame(n.thread), n.thread.id);
      }
      else if (n.kind === 'inbox_message') subscriptions.publishInbox(n.message);
    });
    const unrunners = ctx.runnerEvents?.subscribe((e) => subscriptions.publish('runner', frame('runner', e)));
    const hub = new Hub(ctx.http.server as Server, { options, commands: ctx.commands, subscriptions, logger: ctx.logger });
    ctx.logger.info({ path: '/hub/ws' }, 'hub listening');
    return {
      name: 'hub',
      hub,
      messaging,
      subscriptions,
      telemetry: runtime.telemetry,
      close: async () => {
        await hub.close();
        unrunners?.();
        unnotice();
        untap();
        untelemetry();
      },
    };
  };
}

function allowedOriginsOf(ctx: TransportContext): Partial<HubOptions> {
  const raw = (ctx.config.file as Record<string, unknown>).hub_allowed_origins;
  return Array.isArray(raw) ? { allowedOrigins: raw.filter((o): o is string => typeof o === 'string') } : {};
}
