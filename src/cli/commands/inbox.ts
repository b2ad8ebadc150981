import type { Command } from 'commander';
import { InboxStatus, type InboxMessage } from '../../protocol/messaging.js';
import { printJson, type CommandRunner } from '../context.js';
import type { CliIO } from '../io.js';
import { messagingContext, oneOf, type MessagingContext } from './messaging-context.js';

const line = (ctx: MessagingContext, m: InboxMessage) =>
  `${m.id}  ${(m.status === 'unread' ? ctx.out.bold('unread') : m.status).padEnd(8)}  ${m.message_type.padEnd(12)}  from ${m.from_agent}  ${m.title}\n`;

async function list(ctx: MessagingContext, inbox: string, status: string | undefined): Promise<number> {
  const s = oneOf('--status', status, InboxStatus.options);
  const r = await ctx.messaging.listInbox(inbox, s ? { status: s } : {});
  if (ctx.json) printJson(ctx, r);
  else if (r.messages.length === 0) ctx.io.stdout.write(`inbox ${inbox} is empty\n`);
  else for (const m of r.messages) ctx.io.stdout.write(line(ctx, m));
  return 0;
}

async function read(ctx: MessagingContext, inbox: string, id: string): Promise<number> {
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

async function reply(ctx: MessagingContext, inbox: string, id: string, words: string[], from: string | undefined): Promise<number> {
  const r = await ctx.messaging.reply(inbox, id, { payload: words.join(' '), from_agent: from ?? inbox });
  if (ctx.json) printJson(ctx, r);
  else ctx.io.stdout.write(`replied to ${r.to_inbox} (correlation ${r.correlation_id ?? '-'})\n`);
  return 0;
}

/** `tower inbox ls|read|reply`: asynchronous messages between agents and people. */
export function registerInbox(program: Command, io: CliIO, run: CommandRunner): void {
  const inbox = program.command('inbox').description("an inbox's messages (a session's inbox is named by its id)");
  inbox
    .command('ls')
    .description('list the messages of an inbox, oldest first')
    .argument('<inbox>', 'inbox name')
    .option('--status <status>', 'only unread, read or archived')
    .action((name: string, o: { status?: string }, command: Command) => run(() => list(messagingContext(command, io), name, o.status)));
  inbox
    .command('read')
    .description('show one message and mark it read')
    .argument('<inbox>', 'inbox name')
    .argument('<id>', 'message id')
    .action((name: string, id: string, _o: unknown, command: Command) => run(() => read(messagingContext(command, io), name, id)));
  inbox
    .command('reply')
    .description("answer a message: the reply goes to its sender's inbox with the same correlation id")
    .argument('<inbox>', 'inbox name')
    .argument('<id>', 'message id')
    .argument('<payload...>', 'the answer')
    .option('--from <id>', 'who answers (default: the inbox name)')
    .action((name: string, id: string, words: string[], o: { from?: string }, command: Command) =>
      run(() => reply(messagingContext(command, io), name, id, words, o.from)),
    );
}
