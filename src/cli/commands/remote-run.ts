import type { Command } from 'commander';
import {
  discoverInstances,
  openRemote,
  resolveTarget,
  type Remote,
  type RemoteEvent,
} from '../../client/remote/index.js';
import type { Colors } from '../color.js';
import { colorsFor } from '../color.js';
import type { GlobalOptions } from '../context.js';
import { UsageError } from '../errors.js';
import type { CliIO } from '../io.js';

interface Ctx {
  io: CliIO;
  json: boolean;
  out: Colors;
  token?: string;
  registryDir?: string;
}

function ctxOf(command: Command, io: CliIO): Ctx {
  const g = command.optsWithGlobals<GlobalOptions & { registryDir?: string }>();
  const token = g.token ?? io.env.TOWER_TOKEN;
  return {
    io, json: g.json === true, out: colorsFor(io.stdout, io.env),
    ...(token ? { token } : {}), ...(g.registryDir ? { registryDir: g.registryDir } : {}),
  };
}

function instances(ctx: Ctx): number {
  const found = discoverInstances({ ...(ctx.registryDir ? { dir: ctx.registryDir } : {}), env: ctx.io.env });
  if (ctx.json) {
    ctx.io.stdout.write(`${JSON.stringify(found.map(({ file: _file, ...i }) => i), null, 2)}\n`);
    return 0;
  }
  if (found.length === 0) {
    ctx.io.stdout.write(ctx.out.dim('no instances running\n'));
    return 0;
  }
  for (const i of found) {
    const role = i.is_primary ? 'primary' : 'secondary';
    ctx.io.stdout.write(`${ctx.out.bold(i.instance_id)}  ${i.mode}  pid ${i.pid}  ${role}  rpc ${i.rpcEndpoint}  pub ${i.pubEndpoint}\n  ${ctx.out.dim(i.path)}\n`);
  }
  return 0;
}

async function withRemote(ctx: Ctx, target: string, body: (remote: Remote) => Promise<number>): Promise<number> {
  const remote = openRemote(resolveTarget(target, { ...(ctx.registryDir ? { dir: ctx.registryDir } : {}), env: ctx.io.env, ...(ctx.token ? { token: ctx.token } : {}) }));
  try {
    return await body(remote);
  } finally {
    await remote.close();
  }
}

function eventLine(out: Colors, e: RemoteEvent): string {
  const p = e.payload;
  switch (e.topic) {
    case 'llm.token':
      return String(p.token);
    case 'message.append':
      return `\n${out.bold(`[${String(p.role)}]`)} ${String(p.content)}${e.resynced ? out.dim(' (caught up)') : ''}\n`;
    case 'tool.start':
      return `\n${out.cyan(`→ ${String(p.tool_name)}`)} ${String(p.params)}\n`;
    case 'tool.end':
      return `${p.is_error ? out.red('✗') : out.green('✓')} ${String(p.tool_name)}\n`;
    case 'llm.end':
      return out.dim(`\n(tokens in ${String(p.tokens_in)}, out ${String(p.tokens_out)})\n`);
    case 'instance.heartbeat':
    case 'llm.start':
      return '';
    default:
      return out.dim(`[${e.topic}] ${JSON.stringify(p)}\n`);
  }
}

async function watch(ctx: Ctx, remote: Remote, sessionId: string | undefined): Promise<number> {
  const mirror = remote.session(sessionId ? { sessionId } : {});
  const events = mirror.events();
  await mirror.sync();
  if (mirror.degraded) ctx.io.stderr.write(`${mirror.degraded}\n`);
  if (!ctx.json) {
    ctx.io.stdout.write(ctx.out.dim(`${mirror.mirror().length} session(s)${mirror.activeSessionId ? `, active ${mirror.activeSessionId}` : ''}; watching (Ctrl-C to stop)\n`));
    for (const m of mirror.messages()) ctx.io.stdout.write(`${ctx.out.bold(`[${m.role}]`)} ${m.content}\n`);
  }
  const stop = ctx.io.onInterrupt(() => void events.return?.());
  try {
    for await (const e of events) {
      ctx.io.stdout.write(ctx.json ? `${JSON.stringify(e)}\n` : eventLine(ctx.out, e));
    }
  } finally {
    stop();
  }
  return 0;
}


async function listSessions(ctx: Ctx, r: Remote): Promise<number> {
  const sessions = await r.control.listSessions();
  if (ctx.json) ctx.io.stdout.write(`${JSON.stringify(sessions, null, 2)}\n`);
  else if (sessions.length === 0) ctx.io.stdout.write(ctx.out.dim('no sessions\n'));
  else for (const s of sessions) ctx.io.stdout.write(`${s.id}  ${s.title || ctx.out.dim('(untitled)')}  ${s.message_count} msgs  ${s.updated_at}\n`);
  return 0;
}

async function send(ctx: Ctx, r: Remote, sessionId: string, content: string): Promise<number> {
  const res = await r.control.sendMessage(sessionId, content);
  ctx.io.stdout.write(ctx.json ? `${JSON.stringify(res)}\n` : `${res.status ?? 'sent'}${res.turn_id ? ` ${res.turn_id}` : ''}\n`);
  return 0;
}

async function interrupt(ctx: Ctx, r: Remote, sessionId: string): Promise<number> {
  const stopped = await r.control.interrupt(sessionId);
  ctx.io.stdout.write(ctx.json ? `${JSON.stringify({ interrupted: stopped })}\n` : `${stopped ? 'interrupted' : 'nothing was running'}\n`);
  return 0;
}

/** `tower instances`. */
export function runInstances(command: Command, io: CliIO): number {
  return instances(ctxOf(command, io));
}

/** `tower remote <target> <action> [args...]`. */
export function runRemote(command: Command, io: CliIO, target: string, action: string, args: string[]): Promise<number> {
  const ctx = ctxOf(command, io);
  const [sessionId, ...rest] = args;
  switch (action) {
    case 'sessions':
      return withRemote(ctx, target, (r) => listSessions(ctx, r));
    case 'send':
      if (!sessionId || rest.length === 0) throw new UsageError('usage: tower remote <target> send <session-id> <text...>');
      return withRemote(ctx, target, (r) => send(ctx, r, sessionId, rest.join(' ')));
    case 'interrupt':
      if (!sessionId) throw new UsageError('usage: tower remote <target> interrupt <session-id>');
      return withRemote(ctx, target, (r) => interrupt(ctx, r, sessionId));
    case 'watch':
      return withRemote(ctx, target, (r) => watch(ctx, r, sessionId));
    default:
      throw new UsageError(`unknown action ${JSON.stringify(action)}: expected sessions, send, interrupt or watch`);
  }
}
