import type { MessageList } from '../protocol/index.js';
import type { Colors } from './color.js';
import { formatToolCall, formatToolResult } from './tool-lines.js';

/** A stored conversation as `sessions show` prints it, with the same tool lines as a live turn. */
export function formatConversation(c: Colors, messages: MessageList['messages']): string {
  const lines: string[] = [];
  for (const { message } of messages) {
    switch (message.role) {
      case 'user':
        lines.push(`${c.cyan(c.bold('>'))} ${c.bold(message.content)}`);
        break;
      case 'assistant':
        if (message.reasoning) lines.push(c.dim(message.reasoning));
        if (message.content) lines.push(message.content);
        for (const call of message.tool_calls ?? []) lines.push(formatToolCall(c, call.name, call.args));
        if (message.partial) lines.push(c.yellow('(interrupted)'));
        break;
      case 'tool':
        lines.push(
          formatToolResult(c, { tool: message.tool_name, isError: message.is_error, result: message.content, labeled: true }),
        );
        break;
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}
