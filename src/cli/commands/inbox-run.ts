import { InboxStatus, type InboxMessage } from '../../protocol/messaging.js';
import { printJson } from '../context.js';
import { oneOf, type MessagingContext } from './messaging-context.js';

const line = (ctx: MessagingContext, m: InboxMessage) =>
  `${m.id}  ${(m.status === 'unread' ? ctx.out.bold('unread') : m.status).padEnd(8)}  ${m.message_type.padEnd(12)}  from ${m.from_agent}  ${m.title}\n`;

export async function list(ctx: MessagingContext, inbox: string, status: string | undefined): Promise<number> {
  const s = oneOf('--status', status, InboxStatus.options);
  const r = await ctx.messaging.listInbox(inbox, s ? { status: s } : {});
  if (ctx.json) printJson(ctx, r);
  else if (r.messages.length === 0) ctx.io.stdout.write(`inbox ${inbox} is empty\n`);
  else for (const m of r.messages) ctx.io.stdout.write(line(ctx, m));
  return 0;
}

export async function read(ctx: MessagingContext, inbox: string, id: string): Promise<number> {
  const m = await ctx.messaging.readInbox(inbox, id);
  if (ctx.json) {
    printJson(ctx, m);
    return 0;
  }
  ctx.io.stdout.write(line(ctx, m));
  if (m.correlation_id) ctx.io.stdout.write(ctx.out.dim(`correlation ${m.correlation_id}\n`));
  if (m.payload) ctx.io.stdout.write(`${m.payload}\n`);
  return 0;
}

export async function reply(ctx: MessagingContext, inbox: string, id: string, words: string[], from: string | undefined): Promise<number> {
  const r = await ctx.messaging.reply(inbox, id, { payload: words.join(' '), from_agent: from ?? inbox });
  if (ctx.json) printJson(ctx, r);
  else ctx.io.stdout.write(`replied to ${r.to_inbox} (correlation ${r.correlation_id ?? '-'})\n`);
  return 0;
}

/** `tower inbox ls|read|reply`: asynchronous messages between agents and people. */
