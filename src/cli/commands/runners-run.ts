import type { Command } from 'commander';
import { HttpTransport } from '../../client/index.js';
import { CreatedRunnerToken, RevokedRunnerToken, RunnerList, RunnerTokenList, type RunnerView } from '../../protocol/runner-api.js';
import { createContext, printJson, towerAddress, type CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import type { CliIO } from '../io.js';

export interface RunnersContext extends CommandContext {
  http: HttpTransport;
}

export function runnersContext(command: Command, io: CliIO): RunnersContext {
  return { ...createContext(command, io), http: new HttpTransport(towerAddress(command, io)) };
}

const LABEL = /^[A-Za-z0-9_.:-]{1,100}$/;

export async function createToken(ctx: RunnersContext, opts: { name: string; labels?: string }): Promise<number> {
  const labels = (opts.labels ?? '').split(',').map((l) => l.trim()).filter(Boolean);
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) throw new UsageError(`--labels: "${bad}" is not a label (letters, digits and _ . : -)`);
  const created = await ctx.http.json('POST', '/api/runners/tokens', CreatedRunnerToken, { body: { name: opts.name, labels } });
  if (ctx.json) printJson(ctx, created);
  else {
    ctx.io.stdout.write(`${created.token}\n`);
    ctx.io.stderr.write(ctx.err.dim(`token ${created.id} for runner "${created.name}" [${created.labels.join(', ')}]: shown only now; start it with\n  tower runner --url ws://<tower>/runners/ws --token <token>\n`));
  }
  return 0;
}

export async function listTokens(ctx: RunnersContext): Promise<number> {
  const r = await ctx.http.json('GET', '/api/runners/tokens', RunnerTokenList);
  if (ctx.json) printJson(ctx, r);
  else if (r.tokens.length === 0) ctx.io.stdout.write('no runner tokens\n');
  else {
    for (const t of r.tokens) {
      const state = t.revoked_at ? `revoked ${t.revoked_at}` : 'live';
      ctx.io.stdout.write(`${t.id}  ${t.name.padEnd(16)}  [${t.labels.join(',')}]  ${state}\n`);
    }
  }
  return 0;
}

export async function revokeToken(ctx: RunnersContext, id: string): Promise<number> {
  const r = await ctx.http.json('DELETE', `/api/runners/tokens/${encodeURIComponent(id)}`, RevokedRunnerToken);
  if (ctx.json) printJson(ctx, r);
  else ctx.io.stdout.write(`revoked ${id}${r.disconnected ? `; disconnected ${r.disconnected} runner` : ''}\n`);
  return 0;
}

export async function list(ctx: RunnersContext): Promise<number> {
  const r = await ctx.http.json('GET', '/api/runners', RunnerList);
  if (ctx.json) printJson(ctx, r);
  else if (r.runners.length === 0) ctx.io.stdout.write('no runners\n');
  else for (const line of runnerLines(r.runners)) ctx.io.stdout.write(`${line}\n`);
  return 0;
}

/**
 * One line per runner. In a cluster (any runner listed with a node) a `node` column follows the status:
 * which node holds the runner's connection; a single node's listing has none, as before.
 */
export function runnerLines(runners: readonly RunnerView[]): string[] {
  const clustered = runners.some((x) => x.node !== undefined);
  return runners.map((x) => {
    const where = x.environment ? `${x.environment.hostname} ${x.environment.os}/${x.environment.arch}` : '';
    const node = clustered ? `  node ${x.node ?? '-'}` : '';
    return `${x.id}  ${x.name.padEnd(16)}  ${x.status.padEnd(7)}${node}  [${x.labels.join(',')}]  tasks ${x.running_tasks}  heartbeat ${x.last_heartbeat ?? '-'}  ${where}`;
  });
}
