import type { z } from 'zod';
import { CommandService, type CommandServiceDeps } from '../../core/commands/index.js';
import { COMMANDS, type CommandName, type CommandResult, type ParsedCommandParams } from '../../protocol/commands.js';
import { TowerError, isTowerError } from '../../protocol/errors.js';
import type { NodeRpc } from './rpc.js';

/**
 * Commands that act on one session's live state (its running turn, queues held in memory, pending
 * questions), so they must run on the node that owns the session. Reads of durable data only
 * (messages, export, fork) run wherever they arrive.
 */
const FORWARDED: ReadonlySet<CommandName> = new Set<CommandName>([
  'sessions.get',
  'sessions.update',
  'sessions.delete',
  'sessions.snapshot',
  'sessions.send',
  'sessions.steer',
  'sessions.follow_up',
  'sessions.interrupt',
  'sessions.queue',
  'sessions.status',
  'sessions.set_model',
  'sessions.models',
  'sessions.toggle_auto_approve',
  'confirmations.answer',
  'elicitations.answer',
]);

export interface Ownership {
  /** True once this node holds the session's lease (a claim in flight is waited for). */
  holds(sessionId: string): Promise<boolean>;
  /** The node owning the session (holding its live lease), or undefined when nobody runs it. */
  nodeOf(sessionId: string): Promise<string | undefined>;
  /** Of these sessions, the ones a node (any) runs now. */
  running(sessionIds: readonly string[]): Promise<Set<string>>;
}

export interface ClusterRouting {
  node: string;
  ownership: Ownership;
  /** Absent with the in-process bus (one node): nothing is forwarded. */
  rpc: NodeRpc | undefined;
  forwardTimeoutMs: number;
}

/**
 * The command layer of a cluster node: a command for a session another node runs is forwarded to that
 * node and answered with its result or error (same codes as on one node); everything else, and every
 * session nobody runs, is executed here (a turn started here takes the lease). Params are validated
 * here first, so bad input never costs a hop.
 */
export class ClusterCommandService extends CommandService {
  constructor(
    deps: CommandServiceDeps,
    private readonly routing: ClusterRouting,
  ) {
    super(deps);
    this.runsHere = (id) => deps.manager.active.turn(id) !== undefined;
  }

  private readonly runsHere: (sessionId: string) => boolean;

  override async execute<N extends CommandName>(name: N, params: unknown): Promise<CommandResult<N>> {
    const parsed = this.validate(name, params);
    if (name === 'sessions.batch_delete') return (await this.batchDelete((parsed as ParsedCommandParams<'sessions.batch_delete'>).ids)) as CommandResult<N>;
    if (name === 'sessions.list') return (await this.listWithStatus(parsed as ParsedCommandParams<'sessions.list'>)) as CommandResult<N>;
    if (!FORWARDED.has(name)) return this.run(name, parsed);
    const sessionId = (parsed as { session_id: string }).session_id;
    const owner = await this.ownerElsewhere(sessionId);
    if (owner !== undefined) return this.forward(owner, name, params);
    try {
      return await this.run(name, parsed);
    } catch (err) {
      // The session started a turn on another node between the look-up and the command: ask the owner.
      if (isTowerError(err) && err.code === 'session_idle') {
        const late = await this.ownerElsewhere(sessionId);
        if (late !== undefined) return this.forward(late, name, params);
      }
      throw err;
    }
  }

  /** A forwarded command, run here without routing again (the sender already asked the lease). */
  executeHere(name: string, params: unknown): Promise<unknown> {
    return super.execute(name as CommandName, params);
  }

  private async ownerElsewhere(sessionId: string): Promise<string | undefined> {
    const { rpc, ownership, node } = this.routing;
    if (!rpc) return undefined;
    // A turn running here under this node's lease: ours. One still claiming may lose the session to
    // another node, so its commands wait for the claim (and then go to the winner).
    if (this.runsHere(sessionId) && (await ownership.holds(sessionId))) return undefined;
    const owner = await ownership.nodeOf(sessionId);
    return owner === undefined || owner === '' || owner === node ? undefined : owner;
  }

  private async forward<N extends CommandName>(owner: string, name: N, params: unknown): Promise<CommandResult<N>> {
    const rpc = this.routing.rpc as NodeRpc;
    const raw = await rpc.call(owner, name, params, this.routing.forwardTimeoutMs + waitOf(params));
    const schema: z.ZodType = COMMANDS[name].result;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new TowerError('internal', `node ${owner} answered ${name} with a result of the wrong shape`);
    return parsed.data as CommandResult<N>;
  }

  /** As on one node, but each session is deleted by its owner. */
  private async batchDelete(ids: readonly string[]): Promise<CommandResult<'sessions.batch_delete'>> {
    const unique = [...new Set(ids)];
    const failed: string[] = [];
    for (const id of unique) await this.execute('sessions.delete', { session_id: id }).catch(() => failed.push(id));
    return { deleted: unique.length - failed.length, failed };
  }

  /** A session another node runs is `running` in the list too (one query for the page). */
  private async listWithStatus(params: ParsedCommandParams<'sessions.list'>): Promise<CommandResult<'sessions.list'>> {
    const page = await this.run('sessions.list', params);
    const idle = page.items.filter((s) => s.status === 'idle').map((s) => s.id);
    const running = await this.routing.ownership.running(idle);
    if (running.size === 0) return page;
    return { ...page, items: page.items.map((s) => (running.has(s.id) ? { ...s, status: 'running' as const } : s)) };
  }
}

/** `sessions.status` may wait on the owner; the forwarding timeout allows for it. */
function waitOf(params: unknown): number {
  const wait = (params as { wait_ms?: unknown } | null)?.wait_ms;
  return typeof wait === 'number' && Number.isFinite(wait) && wait > 0 ? wait : 0;
}
