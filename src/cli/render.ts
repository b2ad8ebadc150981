import { toWireJson, type TowerEvent } from '../client/index.js';
import type { Colors } from './color.js';
import {
  formatConfirmationRequest,
  formatConfirmed,
  formatModelChanged,
  formatPermissions,
  formatQueueCleared,
  formatQueued,
  formatQuestion,
  formatQuestionResolved,
  formatSteered,
} from './control-lines.js';
import type { Output } from './output.js';
import { formatToolCall, formatToolResult } from './tool-lines.js';

export interface EventPrinter {
  print(event: TowerEvent): void;
  /** Ends a half-written line so whatever the caller prints next starts on its own line. */
  finish(): void;
}

/** `--json`: every event as one JSON line, in the shape the server sent it. */
export function jsonPrinter(out: Output): EventPrinter {
  return {
    print: (event) => out.write(`${JSON.stringify(toWireJson(event))}\n`),
    finish: () => undefined,
  };
}

export interface HumanPrinterOptions {
  out: Output;
  colors: Colors;
  /**
   * Also print user messages, queued steers, cleared queues and session changes (title, model,
   * permissions, fork, delete): `attach` does, `send` not.
   */
  sessionEvents?: boolean;
}

/**
 * Renders a turn for a terminal: reply text raw as it streams, reasoning dimmed, one line per tool call
 * with its outcome appended, errors in red. Requests for a person (approvals, questions) get a line with
 * the command that answers them, in every mode; so do their answers, steered messages and queued
 * follow-ups. Live tool output and token counts are left to `--json`.
 */
export function humanPrinter(options: HumanPrinterOptions): EventPrinter {
  const { out, colors: c } = options;
  const sessionEvents = options.sessionEvents ?? false;
  let atLineStart = true;
  let streaming: 'text' | 'reasoning' | undefined;
  // A tool call whose line is still open, waiting for its result to land on the same line.
  let openToolCall: string | undefined;
  // Tool names of confirmations seen, so their answers can name the tool.
  const confirmationTools = new Map<string, string>();

  /** Writes streamed text; `plain` is the text without colour codes, to track where the line stands. */
  const delta = (styled: string, plain: string): void => {
    if (plain === '') return;
    out.write(styled);
    atLineStart = plain.endsWith('\n');
  };
  const newline = (): void => {
    if (!atLineStart) out.write('\n');
    atLineStart = true;
    openToolCall = undefined;
  };
  const line = (text: string): void => {
    newline();
    streaming = undefined;
    out.write(`${text}\n`);
  };

  function print(event: TowerEvent): void {
    switch (event.type) {
      case 'agent_choice':
      case 'agent_choice_reasoning': {
        const kind = event.type === 'agent_choice' ? 'text' : 'reasoning';
        if (openToolCall !== undefined || (streaming !== undefined && streaming !== kind)) newline();
        streaming = kind;
        delta(kind === 'text' ? event.content : c.dim(event.content), event.content);
        return;
      }
      case 'tool_call':
        newline();
        streaming = undefined;
        // The line stays open: the result lands on it unless other output comes first.
        out.write(formatToolCall(c, event.tool, event.args));
        atLineStart = false;
        openToolCall = event.tool_call_id;
        return;
      case 'tool_call_response':
        if (openToolCall === event.tool_call_id) {
          out.write(`  ${formatToolResult(c, { tool: event.tool, isError: event.is_error, result: event.result })}\n`);
          atLineStart = true;
          openToolCall = undefined;
        } else {
          line(formatToolResult(c, { tool: event.tool, isError: event.is_error, result: event.result, labeled: true }));
        }
        return;
      case 'error':
        line(c.red(`error: ${event.message} (${event.code})`));
        return;
      case 'stream_stopped':
        newline();
        streaming = undefined;
        if (event.reason !== 'normal') line(c.yellow(`stopped: ${event.reason.replaceAll('_', ' ')}`));
        return;
      case 'user_message':
        if (event.steered === true) line(formatSteered(c, event.content));
        else if (sessionEvents) line(`${c.cyan(c.bold('>'))} ${c.bold(event.content)}`);
        return;
      case 'tool_call_confirmation':
        confirmationTools.set(event.tool_call_id, event.tool);
        line(formatConfirmationRequest(c, event.session_id, event));
        return;
      case 'tool_call_confirmed':
        line(formatConfirmed(c, event, confirmationTools.get(event.tool_call_id)));
        confirmationTools.delete(event.tool_call_id);
        return;
      case 'elicitation_request':
        line(formatQuestion(c, event.session_id, event));
        return;
      case 'elicitation_resolved':
        line(formatQuestionResolved(c, event.elicitation_id, event.action));
        return;
      case 'message_queued':
        // A follow-up is news in every mode (it may be the sender's own); a steer shows when it lands.
        if (event.queue === 'followup' || sessionEvents) line(formatQueued(c, event.queue, event.content));
        return;
      case 'queue_cleared':
        if (sessionEvents) line(formatQueueCleared(c, event.queue, event.item_ids.length));
        return;
      case 'model_changed':
        if (sessionEvents) line(formatModelChanged(c, event.previous, event.model));
        return;
      case 'permissions_changed':
        if (sessionEvents) line(formatPermissions(c, event.permissions));
        return;
      case 'session_title':
        if (sessionEvents) line(c.dim(`title: ${event.title}`));
        return;
      case 'session_updated': {
        const changes = (['title', 'starred', 'model'] as const)
          .filter((key) => event[key] !== undefined)
          .map((key) => `${key}=${String(event[key])}`);
        if (sessionEvents && changes.length > 0) line(c.dim(`updated: ${changes.join(' ')}`));
        return;
      }
      case 'session_forked':
        if (sessionEvents) line(c.dim(`forked from ${event.from_session_id} at message ${event.message_index}`));
        return;
      case 'session_deleted':
        if (sessionEvents) line(c.dim('session deleted'));
        return;
      case 'session_created':
      case 'stream_started':
      case 'tool_call_output':
      case 'token_usage':
      case 'unknown':
        return;
    }
  }

  return { print, finish: newline };
}

/** The printer for a command's mode: JSON lines with `--json`, else the terminal rendering. */
export function createPrinter(options: HumanPrinterOptions & { json: boolean }): EventPrinter {
  return options.json ? jsonPrinter(options.out) : humanPrinter(options);
}
