import type { z } from 'zod';
import {
  COMMANDS,
  isCommandName,
  type CommandName,
  type CommandResult,
  type ParsedCommandParams,
} from '../../protocol/commands.js';
import { TowerError } from '../../protocol/errors.js';
import type { SessionExport } from '../../protocol/api.js';
import { newSessionId } from '../ids.js';
import type { ModelInfo } from '../models/types.js';
import type { SessionManager } from '../sessions/index.js';
import { buildMessagingHandlers, type MessagingCommandDeps, type MessagingCommandName } from './messaging-handlers.js';
import { issuesOf } from './error-body.js';
import { buildRunnerHandlers, type RunnerAdmin, type RunnerCommandName } from './runner-handlers.js';

export type Handlers = { [N in CommandName]: (params: ParsedCommandParams<N>) => Promise<CommandResult<N>> };

export interface CommandServiceDeps {
  manager: SessionManager;
  models: { list(): ModelInfo[]; defaultModel: string };
}

/**
 * Executes commands for every transport. It validates params with the command's schema (so a hub frame,
 * a bus request and an HTTP body get the same `invalid_request` issues) and calls the session manager;
 * errors are `TowerError`s that each transport maps to its wire form with `toErrorBody`.
 */
export class CommandService {
  private readonly handlers: Handlers;
  private messaging: MessagingCommandDeps | undefined;
  private runners: RunnerAdmin | undefined;

  constructor(deps: CommandServiceDeps) {
    this.handlers = { ...buildHandlers(deps), ...buildMessagingHandlers(() => this.messaging), ...buildRunnerHandlers(() => this.runners) };
  }

  /**
   * Messaging, handoffs and telemetry are started beside HTTP (with the hub) and attached here; until
   * then their commands fail with `not_found`.
   */
  attachMessaging(deps: MessagingCommandDeps | undefined): void {
    this.messaging = deps;
  }

  /** The runner gateway, started beside HTTP, is attached here; until then runner commands fail with `not_found`. */
  attachRunners(admin: RunnerAdmin | undefined): void {
    this.runners = admin;
  }

  /** Validates `params` for `name`, then runs the command. Unknown names are `invalid_request`. */
  async execute<N extends CommandName>(name: N, params: unknown): Promise<CommandResult<N>> {
    return this.run(name, this.validate(name, params));
  }

  /** The params of `name` as its schema parses them; `invalid_request` (with the issues) otherwise. */
  protected validate<N extends CommandName>(name: N, params: unknown): ParsedCommandParams<N> {
    if (!isCommandName(name)) throw new TowerError('invalid_request', `Unknown command "${String(name)}"`);
    const schema: z.ZodType = COMMANDS[name].params;
    const parsed = schema.safeParse(params ?? {});
    if (!parsed.success) {
      const issues = issuesOf(parsed.error);
      throw new TowerError('invalid_request', `Invalid params for ${name}: ${parsed.error.issues[0]?.message ?? 'bad input'}`, { issues });
    }
    return parsed.data as ParsedCommandParams<N>;
  }

  /** Runs validated params on this node (a cluster decorator may route elsewhere first, see server/cluster). */
  protected run<N extends CommandName>(name: N, parsed: ParsedCommandParams<N>): Promise<CommandResult<N>> {
    const handler = this.handlers[name] as (p: unknown) => Promise<CommandResult<N>>;
    return handler(parsed);
  }
}

function buildHandlers({ manager, models }: CommandServiceDeps): Omit<Handlers, MessagingCommandName | RunnerCommandName> {
  const { control } = manager;
  const contents = (messages: readonly { content: string }[]) => messages.map((m) => m.content);
  return {
    'sessions.create': (p) => manager.create(p),
    'sessions.list': (p) => manager.list(p.cursor === undefined ? { limit: p.limit } : { limit: p.limit, cursor: p.cursor }),
    'sessions.get': (p) => manager.get(p.session_id),
    'sessions.update': ({ session_id, ...body }) => manager.update(session_id, body),
    'sessions.delete': async (p) => {
      await manager.delete(p.session_id);
      return { deleted: true as const };
    },
    'sessions.batch_delete': (p) => manager.batchDelete(p.ids),
    'sessions.batch_export': (p) => manager.batchExport(p.ids),
    'sessions.snapshot': (p) => manager.snapshot(p.session_id),
    'sessions.messages': async (p) => ({ messages: await manager.messages(p.session_id, p.after_index) }),
    'sessions.export': (p) => manager.export(p.session_id),
    'sessions.import': (p) => manager.import(p.as_new ? asNewSession(p.data) : p.data),
    'sessions.fork': (p) => manager.fork(p.session_id, p.message_index),
    'sessions.send': (p) => control.send(p.session_id, p.content, p.on_busy),
    'sessions.steer': (p) => control.steer(p.session_id, contents(p.messages)),
    'sessions.follow_up': (p) => control.followup(p.session_id, contents(p.messages), p.idempotency_key),
    'sessions.interrupt': (p) => control.interrupt(p.session_id, { clearQueue: p.clear_queue === true }),
    'sessions.queue': (p) => control.queue(p.session_id),
    'sessions.status': (p) => control.status(p.session_id, p.wait_ms ?? 0),
    'sessions.set_model': (p) => manager.update(p.session_id, { model: p.model }),
    'sessions.models': (p) => control.sessionModels(p.session_id),
    'sessions.toggle_auto_approve': (p) => control.toggleAutoApprove(p.session_id),
    'confirmations.answer': async ({ session_id, tool_call_id, ...body }) => {
      await control.confirm(session_id, tool_call_id, body);
      return { resolved: true as const };
    },
    'elicitations.answer': async ({ session_id, elicitation_id, ...body }) => {
      await control.answerElicitation(session_id, elicitation_id, body);
      return { resolved: true as const };
    },
    'models.list': async () => ({ models: models.list(), default: models.defaultModel }),
  };
}

/** The same export under a fresh id: every event re-keyed, everything else kept. */
export function asNewSession(data: SessionExport): SessionExport {
  const id = newSessionId();
  return {
    ...data,
    session: { ...data.session, id },
    events: data.events.map((e) => ({ ...e, session_id: id })),
  };
}
