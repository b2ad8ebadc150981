import type { Server } from 'node:http';
import type { CommandService } from '../../core/commands/index.js';
import { createMessagingTools, MessagingService, TaskStreamDeriver, TelemetryTracker, type SessionInfo, type SessionPort } from '../../core/messaging/index.js';
import { provideSessionTools } from '../../core/sessions/session-tools.js';
import type { StoredEvent } from '../../protocol/events.js';
import type { RunningTransport, TransportContext } from '../context.js';
import { frame } from './frames.js';
import { Hub } from './hub.js';
import { DEFAULT_HUB_OPTIONS, type HubOptions } from './options.js';
import { SessionChangeDeriver } from './session-changes.js';
import { stateFrame, Subscriptions } from './subscriptions.js';

/** Sessions as the messaging core needs them, backed by the command layer (same checks as HTTP). */
export function commandSessionPort(commands: CommandService): SessionPort {
  return {
    create: (body) => commands.execute('sessions.create', body),
    sendOrQueue: async (sessionId, content) => {
      const r = await commands.execute('sessions.send', { session_id: sessionId, content, on_busy: 'enqueue' });
      return 'turn_id' in r ? 'started' : 'queued';
    },
  };
}

export interface RunningHub extends RunningTransport {
  hub: Hub;
  messaging: MessagingService;
  subscriptions: Subscriptions;
  telemetry: TelemetryTracker;
}

/**
 * Messaging beside HTTP: the messaging service (watching the store, including other processes' rows),
 * the agents' messaging tools, telemetry and the task stream, and the WebSocket hub that carries them.
 * `overrides` are for tests (short timings); `hub_allowed_origins` in the config file lists origins.
 */
export function hubTransport(overrides: Partial<HubOptions> = {}): (ctx: TransportContext) => Promise<RunningHub | undefined> {
  return async (ctx: TransportContext): Promise<RunningHub | undefined> => {
    const store = ctx.store.messaging;
    if (!store) {
      ctx.logger.warn('store has no messaging tables; hub and messaging are off');
      return undefined;
    }
    const messaging = new MessagingService(store, ctx.logger);
    messaging.start();
    const sessions = commandSessionPort(ctx.commands);
    const options: HubOptions = { ...DEFAULT_HUB_OPTIONS, ...allowedOriginsOf(ctx), ...(ctx.token ? { token: ctx.token } : {}), ...overrides };
    const subscriptions = new Subscriptions({
      manager: ctx.manager,
      messaging,
      acks: store,
      lastSessionSeq: (id) => ctx.store.lastSeq(id),
      logger: ctx.logger,
    });
    const telemetry = new TelemetryTracker((t) => subscriptions.publish('telemetry', frame('telemetry', t), t.instance_id));
    const page = await ctx.store.listSessions({ limit: 200 });
    const infos = new Map<string, SessionInfo>();
    for (const s of page.items) {
      telemetry.seed(s);
      infos.set(s.id, { working_dir: s.working_dir });
    }
    const deriver = new TaskStreamDeriver();
    const changes = new SessionChangeDeriver();
    const untap = ctx.log.tap((events: readonly StoredEvent[]) => {
      for (const e of events) {
        if (e.type === 'session_created') infos.set(e.session_id, { working_dir: String(e.data.working_dir) });
        telemetry.apply(e);
        const stream = deriver.derive(e, infos.get(e.session_id), subscriptions.topicCount('task_stream') > 0);
        if (e.type === 'session_deleted') infos.delete(e.session_id);
        if (stream) subscriptions.publish('task_stream', frame('task_stream', stream));
        const change = changes.derive(e);
        if (change && subscriptions.topicCount('sessions') > 0) subscriptions.publish('sessions', frame('session_change', change));
      }
    });
    const unnotice = messaging.onNotice((n) => {
      if (n.kind === 'thread_state') {
        subscriptions.threadChanged(n.thread);
        subscriptions.publish('threads', stateFrame(n.thread), n.thread.id);
      }
      else if (n.kind === 'inbox_message') subscriptions.publish('inbox_message', frame('inbox_message', n.message));
    });
    const unprovide = provideSessionTools(ctx.log, (sessionId) => createMessagingTools(messaging, sessions, sessionId));
    ctx.commands.attachMessaging({ messaging, sessions, telemetry });
    const unrunners = ctx.runnerEvents?.subscribe((e) => subscriptions.publish('runner', frame('runner', e)));
    const hub = new Hub(ctx.http.server as Server, { options, commands: ctx.commands, subscriptions, logger: ctx.logger });
    ctx.logger.info({ path: '/hub/ws' }, 'hub listening');
    return {
      name: 'hub',
      hub,
      messaging,
      subscriptions,
      telemetry,
      close: async () => {
        await hub.close();
        ctx.commands.attachMessaging(undefined);
        unrunners?.();
        unprovide();
        unnotice();
        untap();
        telemetry.close();
        messaging.stop();
      },
    };
  };
}

function allowedOriginsOf(ctx: TransportContext): Partial<HubOptions> {
  const raw = (ctx.config.file as Record<string, unknown>).hub_allowed_origins;
  return Array.isArray(raw) ? { allowedOrigins: raw.filter((o): o is string => typeof o === 'string') } : {};
}
