import type { MessageList } from './api.js';
import type { MessagePayload, SessionPayload } from './pando-bus.js';
import type { Session } from './session.js';

/** Tower's session (or its stored row: the bus reads rows) in Pando's shape. */
export function toSessionPayload(s: Pick<Session, 'id' | 'title' | 'updated_at' | 'message_count'>): SessionPayload {
  return { id: s.id, title: s.title, updated_at: s.updated_at, message_count: s.message_count };
}

type Stored = MessageList['messages'][number];

/**
 * Pando's messages are user and assistant text; Tower's tool results stay out (they reach Pando as
 * tool.end). The id is the conversation index, stable across restarts, so message.append and message.list
 * name the same message the same way, whichever transport carried them.
 */
export function toMessagePayload(m: Stored): MessagePayload | undefined {
  const { message } = m;
  if (message.role === 'tool') return undefined;
  let content = message.content;
  if (message.role === 'assistant' && !content && message.tool_calls?.length) {
    content = `[tool call: ${message.tool_calls.map((c) => c.name).join(', ')}]`;
  }
  return { id: String(m.index), role: message.role, content, created_at: m.created_at };
}

export function toMessagePayloads(list: MessageList): MessagePayload[] {
  return list.messages.flatMap((m) => toMessagePayload(m) ?? []);
}
