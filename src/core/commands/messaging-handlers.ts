import type { CommandName, CommandResult, ParsedCommandParams } from '../../protocol/commands.js';
import { TowerError } from '../../protocol/errors.js';
import type { Telemetry } from '../../protocol/telemetry.js';
import { handoff, type MessagingService, type SessionPort } from '../messaging/index.js';

export type MessagingCommandName = Extract<CommandName, `threads.${string}` | `inbox.${string}` | 'messaging.handoff' | 'telemetry.get'>;

export interface MessagingCommandDeps {
  messaging: MessagingService;
  sessions: SessionPort;
  telemetry: { snapshot(): Telemetry[] };
}

type MessagingHandlers = {
  [N in MessagingCommandName]: (params: ParsedCommandParams<N>) => Promise<CommandResult<N>>;
};

const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

/** The messaging commands, over whatever messaging the composition attached (none: `not_found`). */
export function buildMessagingHandlers(get: () => MessagingCommandDeps | undefined): MessagingHandlers {
  const need = (): MessagingCommandDeps => {
    const deps = get();
    if (!deps) throw new TowerError('not_found', 'Messaging is not running on this server');
    return deps;
  };
  const m = () => need().messaging;
  return {
    'threads.list': async (p) => ({ threads: await m().listThreads({ limit: p.limit, ...opt('status', p.status) }) }),
    'threads.create': (p) => m().createThread(p),
    'threads.read': (p) => m().readThread(p.thread_id, p.after_seq, p.limit),
    'threads.post': ({ thread_id, ...body }) => m().post(thread_id, body),
    'threads.set_status': (p) => m().setThreadStatus(p.thread_id, p.status),
    'inbox.list': async (p) => ({ messages: await m().listInbox(p.inbox, { limit: p.limit, ...opt('status', p.status) }) }),
    'inbox.send': (p) => m().sendInbox(p),
    'inbox.read': (p) => m().readInbox(p.id, p.inbox),
    'inbox.reply': (p) => m().replyInbox(p.id, { from_agent: p.from_agent, payload: p.payload, ...opt('title', p.title) }, p.inbox),
    'inbox.set_status': (p) => m().setInboxStatus(p.id, p.status, p.inbox),
    'messaging.handoff': (p) => {
      const deps = need();
      return handoff(deps.messaging, deps.sessions, p);
    },
    'telemetry.get': async () => ({ sessions: need().telemetry.snapshot() }),
  };
}
