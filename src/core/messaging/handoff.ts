import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { TowerError } from '../../protocol/errors.js';
import type { HandoffParams, HandoffResult } from '../../protocol/messaging.js';
import type { MessagingService } from './service.js';

/** What a handoff needs of sessions; the composition root backs it with the command layer. */
export interface SessionPort {
  create(body: { title?: string; working_dir?: string; model?: string }): Promise<{ id: string }>;
  /** Starts a turn, or queues it as a follow-up while one runs. */
  sendOrQueue(sessionId: string, content: string): Promise<'started' | 'queued'>;
}

export const newCorrelationId = (): string => `corr_${randomUUID().slice(0, 12)}`;

/** The user message that opens the receiving turn: the work, and how to answer it. */
export function handoffPrompt(from: string, correlationId: string, inboxId: string, content: string): string {
  return [
    `[handoff from session ${from}, correlation_id ${correlationId}]`,
    content,
    '',
    `When you are done, answer with the inbox_reply tool: {"id": "${inboxId}", "payload": "<your result>"}.`,
  ].join('\n');
}

/**
 * Hands work to another session: a `handoff` message in its inbox (from the sender, with a fresh
 * correlation id), then a turn in it that starts now or waits as a follow-up. The receiver's
 * `inbox_reply` lands in the sender's inbox under the same correlation id.
 */
export async function handoff(
  messaging: MessagingService,
  sessions: SessionPort,
  params: z.output<typeof HandoffParams>,
): Promise<HandoffResult> {
  const target = params.to_session ?? (await sessions.create(params.new_session ?? {})).id;
  if (target === params.from_session) throw new TowerError('invalid_request', 'A session cannot hand off to itself');
  const correlationId = newCorrelationId();
  const inbox = await messaging.sendInbox({
    correlation_id: correlationId,
    from_agent: params.from_session,
    to_inbox: target,
    message_type: 'handoff',
    title: params.title ?? params.content.slice(0, 80),
    payload: params.content,
  });
  try {
    const delivery = await sessions.sendOrQueue(target, handoffPrompt(params.from_session, correlationId, inbox.id, params.content));
    return { correlation_id: correlationId, session_id: target, delivery, inbox_message: inbox };
  } catch (err) {
    // Not delivered: the inbox message must not look like work waiting to be done.
    await messaging.setInboxStatus(inbox.id, 'archived').catch(() => undefined);
    throw err;
  }
}
