import type { Command } from 'commander';
import { MessageKind, ThreadStatus, type Thread, type ThreadMessage } from '../../protocol/messaging.js';
import { printJson } from '../context.js';
import type { CliIO } from '../io.js';
import type { CommandRunner } from '../context.js';
import { intOption, messagingContext, oneOf, type MessagingContext } from './messaging-context.js';

const threadLine = (t: Thread) => `${t.id}  ${t.status.padEnd(8)}  ${String(t.last_seq).padStart(5)}  ${t.title}\n`;
const messageLine = (ctx: MessagingContext, m: ThreadMessage) =>
  `${ctx.out.dim(`#${m.message_seq}`)} ${m.from_type}:${m.from_id} ${ctx.out.dim(m.kind)}${m.subject ? ` [${m.subject}]` : ''}  ${m.content}\n`;

async function list(ctx: MessagingContext, status: string | undefined): Promise<number> {
  const r = await ctx.messaging.listThreads({ ...(status ? { status: oneOf('--status', status, ThreadStatus.options) } : {}) });
  if (ctx.json) printJson(ctx, r);
  else if (r.threads.length === 0) ctx.io.stdout.write('no threads\n');
  else for (const t of r.threads) ctx.io.stdout.write(threadLine(t));
  return 0;
}

async function show(ctx: MessagingContext, id: string, opts: { after?: string; limit?: string }): Promise<number> {
  const after = intOption('--after', opts.after);
  const limit = intOption('--limit', opts.limit);
  const page = await ctx.messaging.readThread(id, { ...(after !== undefined ? { afterSeq: after } : {}), ...(limit !== undefined ? { limit } : {}) });
  if (ctx.json) {
    printJson(ctx, page);
    return 0;
  }
  ctx.io.stdout.write(threadLine(page.thread));
  for (const m of page.messages) ctx.io.stdout.write(messageLine(ctx, m));
  if (page.has_more) ctx.io.stdout.write(ctx.out.dim(`… more after #${page.messages.at(-1)?.message_seq ?? 0}\n`));
  return 0;
}

async function post(ctx: MessagingContext, id: string, words: string[], opts: { kind?: string; subject?: string; from?: string; create?: boolean }): Promise<number> {
  if (opts.create) {
    await ctx.messaging.createThread({ id }).catch((err: unknown) => {
      if (!(err instanceof Error && 'code' in err && err.code === 'conflict')) throw err;
    });
  }
  const kind = oneOf('--kind', opts.kind, MessageKind.options);
  const r = await ctx.messaging.post(id, {
    content: words.join(' '),
    from_type: 'human',
    from_id: opts.from ?? ctx.io.env.USER ?? 'human',
    ...(kind ? { kind } : {}),
    ...(opts.subject ? { subject: opts.subject } : {}),
  });
  if (ctx.json) printJson(ctx, r);
  else ctx.io.stdout.write(`posted #${r.message.message_seq} to ${id}\n`);
  return 0;
}

async function watch(ctx: MessagingContext, id: string, opts: { fromSeq?: string; clientId?: string }): Promise<number> {
  const ac = new AbortController();
  const off = ctx.io.onInterrupt(() => ac.abort());
  const from = intOption('--from-seq', opts.fromSeq);
  try {
    for await (const m of ctx.messaging.watchThread(id, { signal: ac.signal, ...(from !== undefined ? { fromSeq: from } : {}), ...(opts.clientId ? { clientId: opts.clientId } : {}) })) {
      ctx.io.stdout.write(ctx.json ? `${JSON.stringify(m)}\n` : messageLine(ctx, m));
    }
  } finally {
    off();
  }
  return 0;
}

/** `tower threads ls|show|post|watch`: shared threads between agents and people. */
export function registerThreads(program: Command, io: CliIO, run: CommandRunner): void {
  const threads = program.command('threads').description('threads shared by agents and people (seed 001 messaging)');
  threads
    .command('ls')
    .description('list threads, most recently updated first')
    .option('--status <status>', 'only active, paused, resolved or archived')
    .action((o: { status?: string }, command: Command) => run(() => list(messagingContext(command, io), o.status)));
  threads
    .command('show')
    .description("a thread's state and messages")
    .argument('<thread>', 'thread id')
    .option('--after <seq>', 'messages after this message_seq')
    .option('--limit <n>', 'at most this many messages')
    .action((id: string, o: { after?: string; limit?: string }, command: Command) => run(() => show(messagingContext(command, io), id, o)));
  threads
    .command('post')
    .description('post a message into a thread')
    .argument('<thread>', 'thread id')
    .argument('<content...>', 'the message')
    .option('--kind <kind>', 'directive, question, proposal, status or result')
    .option('--subject <subject>', 'a subject line')
    .option('--from <id>', 'your id (default $USER)')
    .option('--create', 'create the thread first if it does not exist')
    .action((id: string, words: string[], o: { kind?: string; subject?: string; from?: string; create?: boolean }, command: Command) =>
      run(() => post(messagingContext(command, io), id, words, o)),
    );
  threads
    .command('watch')
    .description('print stored messages, then new ones as they arrive (over the hub) until Ctrl-C')
    .argument('<thread>', 'thread id')
    .option('--from-seq <seq>', 'start after this message_seq')
    .option('--client-id <id>', 'acknowledge what was shown, and resume after it next time')
    .action((id: string, o: { fromSeq?: string; clientId?: string }, command: Command) => run(() => watch(messagingContext(command, io), id, o)));
}
