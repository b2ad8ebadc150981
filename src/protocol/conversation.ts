import { z } from 'zod';

/**
 * The conversation Tower keeps to build model context. Provider-neutral; the agent loop converts it to
 * the AI SDK's message form on each model step.
 */
export const ToolCallPart = z.object({
  id: z.string(),
  name: z.string(),
  args: z.unknown(),
});
export type ToolCallPart = z.infer<typeof ToolCallPart>;

export const ConversationMessage = z.discriminatedUnion('role', [
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string(),
    reasoning: z.string().optional(),
    tool_calls: z.array(ToolCallPart).optional(),
    /** Set when the turn was stopped before this message was complete (interrupt, error). */
    partial: z.boolean().optional(),
  }),
  z.object({
    role: z.literal('tool'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    content: z.string(),
    is_error: z.boolean(),
  }),
]);
export type ConversationMessage = z.infer<typeof ConversationMessage>;

/** A conversation message as stored: its position in the conversation and when it was written. */
export interface StoredMessage {
  index: number;
  message: ConversationMessage;
  created_at: string;
}
