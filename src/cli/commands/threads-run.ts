import { MessageKind, ThreadStatus, type Thread, type ThreadMessage } from '../../protocol/messaging.js';
import { printJson } from '../context.js';
import { intOption, oneOf, type MessagingContext } from './messaging-context.js';

const threadLine = (t: Thread) => `${t.id}  ${t.status.padEnd(8)}  ${String(t.last_seq).padStart(5)}  ${t.title}\n`;
const messageLine = (ctx: MessagingContext, m: ThreadMessage) =>
  `${ctx.out.dim(`#${m.message_seq}`)} ${m.from_type}:${m.from_id} ${ctx.out.dim(m.kind)}${m.subject ? ` [${m.subject}]` : ''}  ${m.content}\n`;

export async function list(ctx: MessagingContext, status: string | undefined): Promise<number> {
  const r = await ctx.messaging.listThreads({ ...(status ? { status: oneOf('--status', status, ThreadStatus.options) } : {}) });
  if (ctx.json) printJson(ctx, r);
  else if (r.threads.length === 0) ctx.io.stdout.write('no threads\n');
  else for (const t of r.threads) ctx.io.stdout.write(threadLine(t));
  return 0;
}

export async function show(ctx: MessagingContext, id: string, opts: { after?: string; limit?: string }): Promise<number> {
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

export async function post(ctx: MessagingContext, id: string, words: string[], opts: { kind?: string; subject?: string; from?: string; create?: boolean }): Promise<number> {
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

export async function watch(ctx: MessagingContext, id: string, opts: { fromSeq?: string; clientId?: string }): Promise<number> {
  const ac = new AbortController();
  const off = ctx.io.onInterrupt(() => ac.abort());
  const from = intOption('--from-seq', opts.fromSeq);
  try {
    const watched = ctx.messaging.watchThread(id, {
      signal: ac.signal,
      ...(from !== undefined ? { fromSeq: from } : {}),
      ...(opts.clientId ? { clientId: opts.clientId } : {}),
      onReconnect: ({ attempt, delayMs, lastSeq }) => {
        const resume = lastSeq === undefined ? '' : `, resuming after #${lastSeq}`;
        ctx.io.stderr.write(ctx.err.dim(`connection lost; reconnecting in ${delayMs} ms (attempt ${attempt}${resume})\n`));
      },
      onResumed: ({ lastSeq }) => ctx.io.stderr.write(ctx.err.dim(`reconnected${lastSeq === undefined ? '' : ` (resumed after #${lastSeq})`}\n`)),
    });
    for await (const m of watched) {
      ctx.io.stdout.write(ctx.json ? `${JSON.stringify(m)}\n` : messageLine(ctx, m));
    }
  } finally {
    off();
  }
  return 0;
}

/** `tower threads ls|show|post|watch`: shared threads between agents and people. */
