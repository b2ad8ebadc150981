import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SessionExport, type BatchDeleteResult } from '../../protocol/index.js';
import { createContext, parseCount, printJson, type CommandContext, type CommandRunner } from '../context.js';
import { formatConversation } from '../conversation.js';
import { UsageError } from '../errors.js';
import { sessionFields, sessionTable } from '../format.js';
import type { CliIO } from '../io.js';

async function list(ctx: CommandContext, options: { limit?: string }): Promise<number> {
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

async function show(ctx: CommandContext, id: string): Promise<number> {
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

async function remove(ctx: CommandContext, ids: string[]): Promise<number> {
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

async function exportTo(ctx: CommandContext, id: string, options: { output?: string }): Promise<number> {
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

async function importFrom(ctx: CommandContext, source: string, options: { asNew?: boolean }): Promise<number> {
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

/** `tower sessions ls|show|rm|export|import`. */
export function registerSessions(program: Command, io: CliIO, run: CommandRunner): void {
  const sessions = program.command('sessions').description('list, inspect, delete, export and import sessions');

  sessions
    .command('ls')
    .description('list sessions, newest first')
    .option('--limit <n>', 'how many sessions to list (1-200)')
    .action((options: { limit?: string }, command: Command) => run(() => list(createContext(command, io), options)));

  sessions
    .command('show')
    .description("a session's fields and conversation")
    .argument('<id>', 'session id')
    .action((id: string, _options: unknown, command: Command) => run(() => show(createContext(command, io), id)));

  sessions
    .command('rm')
    .description('delete sessions')
    .argument('<id...>', 'session ids')
    .action((ids: string[], _options: unknown, command: Command) => run(() => remove(createContext(command, io), ids)));

  sessions
    .command('export')
    .description('write a session (conversation and event log) as JSON')
    .argument('<id>', 'session id')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action((id: string, options: { output?: string }, command: Command) =>
      run(() => exportTo(createContext(command, io), id, options)),
    );

  sessions
    .command('import')
    .description('create a session from an export, under its own id; prints the id')
    .argument('<file>', 'export file, or - for stdin')
    .option('--as-new', 'give it a new id, keeping everything else (to import on the server it came from)')
    .action((file: string, options: { asNew?: boolean }, command: Command) =>
      run(() => importFrom(createContext(command, io), file, options)),
    );
}
