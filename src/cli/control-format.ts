import type { QueueState, SessionModels, SessionStatusBody } from '../protocol/index.js';
import type { Colors } from './color.js';
import { formatConfirmationRequest, formatQuestion } from './control-lines.js';
import { formatCount } from './format.js';
import { truncate } from './tool-lines.js';

/** Human output of `tower queue`, `tower status` and `tower model`. */

const ITEM_WIDTH = 80;

function fields(c: Colors, rows: Array<[string, string]>): string {
  const pad = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${c.dim(name.padEnd(pad))}  ${value}\n`).join('');
}

/**
 * ```
 * steer      0/5
 * follow-up  2/20
 *   q_1  write the docs
 * ```
 */
export function formatQueueState(c: Colors, state: QueueState): string {
  let text = '';
  for (const [label, queue] of [['steer', state.steer], ['follow-up', state.followup]] as const) {
    text += `${c.dim(label.padEnd(9))}  ${queue.depth}/${queue.capacity}\n`;
    for (const item of queue.items) text += `  ${c.dim(item.item_id)}  ${truncate(item.content.replace(/\s+/g, ' '), ITEM_WIDTH)}\n`;
  }
  return text;
}

/** `tower status`: state, model, position and queues, then one line per request waiting for a person. */
export function formatStatus(c: Colors, status: SessionStatusBody): string {
  const state = status.status === 'running' ? c.yellow(`running${status.turn_id ? ` (${status.turn_id})` : ''}`) : c.green('idle');
  let text = fields(c, [
    ['status', state],
    ['model', status.model],
    ['last event', String(status.last_event_seq)],
    ['queues', `steer ${status.queue.steer} · follow-up ${status.queue.followup}`],
  ]);
  for (const request of status.pending_confirmations) text += `${formatConfirmationRequest(c, status.session_id, request)}\n`;
  for (const request of status.pending_elicitations) text += `${formatQuestion(c, status.session_id, request)}\n`;
  return text;
}

/** `tower model <session>`: one model per line, the current one starred. */
export function formatSessionModels(c: Colors, listed: SessionModels): string {
  return listed.models
    .map((model) => {
      const context = model.context_window === undefined ? '' : c.dim(`  ${formatCount(model.context_window)} context`);
      return model.current ? `${c.green('*')} ${c.bold(model.id)}${context}\n` : `  ${model.id}${context}\n`;
    })
    .join('');
}
