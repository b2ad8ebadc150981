import type { FollowupAccepted } from '../../protocol/index.js';
import { parseDuration, printJson, type CommandContext } from '../context.js';
import { formatQueueState, formatStatus } from '../control-format.js';
import { UsageError } from '../errors.js';

/** Each argument is one message; a lone `-` reads one message from stdin. */
async function readMessages(ctx: CommandContext, texts: string[]): Promise<string[]> {
  const messages = texts.length === 1 && texts[0] === '-' ? [await ctx.io.readStdin()] : texts;
  if (messages.some((text) => text.trim() === '')) throw new UsageError('a message is empty');
  return messages;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

export async function steer(ctx: CommandContext, sessionId: string, texts: string[]): Promise<number> {
  const accepted = await ctx.client.steer(sessionId, await readMessages(ctx, texts));
  if (ctx.json) {
    printJson(ctx, accepted);
  } else {
    const count = plural(accepted.item_ids.length, 'message');
    ctx.io.stdout.write(`${ctx.out.cyan('↪')} queued ${count} for the running turn (steer queue: ${accepted.depth})\n`);
  }
  return 0;
}

function followupLine(accepted: FollowupAccepted): string {
  const queue = `(follow-up queue: ${accepted.depth})`;
  const count = plural(accepted.item_ids.length, 'follow-up');
  switch (accepted.status) {
    case 'queued_streaming':
      return `queued ${count}; ${accepted.item_ids.length === 1 ? 'it runs' : 'they run'} after the current turn ${queue}`;
    case 'queued_idle':
      return `queued ${count}; the session was idle, so the first starts now ${queue}`;
    case 'duplicate':
      return `already queued under this --key; nothing added ${queue}`;
  }
}

export async function followup(ctx: CommandContext, sessionId: string, texts: string[], options: { key?: string }): Promise<number> {
  const accepted = await ctx.client.followup(sessionId, await readMessages(ctx, texts), { idempotencyKey: options.key });
  if (ctx.json) printJson(ctx, accepted);
  else ctx.io.stdout.write(`${ctx.out.cyan('⧗')} ${followupLine(accepted)}\n`);
  return 0;
}

export async function interrupt(ctx: CommandContext, sessionId: string, options: { clearQueue?: boolean }): Promise<number> {
  const clearQueue = options.clearQueue === true;
  const result = await ctx.client.interrupt(sessionId, clearQueue ? { clearQueue } : {});
  if (ctx.json) {
    printJson(ctx, result);
  } else {
    const what = result.interrupted ? `interrupted ${result.turn_id ?? 'the turn'}` : 'nothing was running';
    ctx.io.stdout.write(`${what}${clearQueue ? '; queues cleared' : ''}\n`);
  }
  return 0;
}

export async function queue(ctx: CommandContext, sessionId: string): Promise<number> {
  const state = await ctx.client.queue(sessionId);
  if (ctx.json) printJson(ctx, state);
  else ctx.io.stdout.write(formatQueueState(ctx.out, state));
  return 0;
}

export async function status(ctx: CommandContext, sessionId: string, options: { wait?: string }): Promise<number> {
  const waitMs = options.wait === undefined ? undefined : parseDuration('--wait', options.wait);
  const body = await ctx.client.status(sessionId, { waitMs });
  if (ctx.json) printJson(ctx, body);
  else ctx.io.stdout.write(formatStatus(ctx.out, body));
  return 0;
}
