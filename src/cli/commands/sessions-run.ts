import { readFile, writeFile } from 'node:fs/promises';
import { SessionExport, type BatchDeleteResult } from '../../protocol/index.js';
import { parseCount, printJson, type CommandContext } from '../context.js';
import { formatConversation } from '../conversation.js';
import { UsageError } from '../errors.js';
import { sessionFields, sessionTable } from '../format.js';

export async function list(ctx: CommandContext, options: { limit?: string }): Promise<number> {
  const limit = options.limit === undefined ? undefined : parseCount('--limit', options.limit);
  const page = await ctx.client.listSessions({ limit });
  if (ctx.json) {
    printJson(ctx, page);
    return 0;
  }
  if (page.items.length === 0) {
    ctx.io.stdout.write(ctx.out.dim('no sessions\n'));
    return 0;
  }
  ctx.io.stdout.write(sessionTable(ctx.out, page.items, Date.now()));
  if (page.next_cursor !== undefined) ctx.io.stdout.write(ctx.out.dim('(more sessions: raise --limit)\n'));
  return 0;
}

export async function show(ctx: CommandContext, id: string): Promise<number> {
  const snapshot = await ctx.client.snapshot(id);
  if (ctx.json) {
    printJson(ctx, snapshot);
    return 0;
  }
  ctx.io.stdout.write(sessionFields(ctx.out, snapshot.session, Date.now()));
  if (snapshot.streaming) ctx.io.stdout.write(ctx.out.yellow('a turn is running: `tower attach` follows it\n'));
  if (snapshot.messages.length > 0) ctx.io.stdout.write(`\n${formatConversation(ctx.out, snapshot.messages)}`);
  return 0;
}

export async function remove(ctx: CommandContext, ids: string[]): Promise<number> {
  const [only] = ids;
  let result: BatchDeleteResult;
  if (ids.length === 1 && only !== undefined) {
    // One id goes through DELETE, so a missing session reports the server's reason.
    await ctx.client.deleteSession(only);
    result = { deleted: 1, failed: [] };
  } else {
    result = await ctx.client.batchDelete(ids);
  }
  if (ctx.json) {
    printJson(ctx, result);
  } else {
    ctx.io.stdout.write(`deleted ${result.deleted} session${result.deleted === 1 ? '' : 's'}\n`);
    for (const id of result.failed) ctx.io.stderr.write(`${ctx.err.red('error:')} could not delete ${id}\n`);
  }
  return result.failed.length === 0 ? 0 : 1;
}

export async function exportTo(ctx: CommandContext, id: string, options: { output?: string }): Promise<number> {
  const data = await ctx.client.exportSession(id);
  const text = `${JSON.stringify(data, null, 2)}\n`;
  if (options.output === undefined || options.output === '-') {
    ctx.io.stdout.write(text);
  } else {
    await writeFile(options.output, text);
    ctx.io.stderr.write(ctx.err.dim(`wrote ${options.output}\n`));
  }
  return 0;
}

export async function importFrom(ctx: CommandContext, source: string, options: { asNew?: boolean }): Promise<number> {
  const text = source === '-' ? await ctx.io.readStdin() : await readFile(source, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source === '-' ? 'stdin' : source} is not JSON: ${(error as Error).message}`);
  }
  const parsed = SessionExport.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new UsageError(`not a session export${where}: ${issue?.message ?? 'invalid'}`);
  }
  const session = await ctx.client.importSession(parsed.data, { asNew: options.asNew === true });
  if (ctx.json) printJson(ctx, session);
  else ctx.io.stdout.write(`${session.id}\n`);
  return 0;
}
