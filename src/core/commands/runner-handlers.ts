import type { CommandName, CommandResult, ParsedCommandParams } from '../../protocol/commands.js';
import { TowerError } from '../../protocol/errors.js';
import type { CreatedRunnerToken, RunnerTokenInfo, RunnerView } from '../../protocol/runner-api.js';

export type RunnerCommandName = Extract<CommandName, `runners.${string}`>;

/** What the runner gateway offers the command layer (implemented in transports/runners). */
export interface RunnerAdmin {
  createToken(name: string, labels: string[]): Promise<CreatedRunnerToken>;
  listTokens(): Promise<RunnerTokenInfo[]>;
  /** Revokes the token and disconnects its live runners at once; returns how many were disconnected. */
  revokeToken(id: string): Promise<number>;
  listRunners(): RunnerView[];
  getRunner(id: string): RunnerView | null;
}

type RunnerHandlers = { [N in RunnerCommandName]: (params: ParsedCommandParams<N>) => Promise<CommandResult<N>> };

/** The runner commands, over whatever gateway the composition attached (none: `not_found`). */
export function buildRunnerHandlers(get: () => RunnerAdmin | undefined): RunnerHandlers {
  const need = (): RunnerAdmin => {
    const admin = get();
    if (!admin) throw new TowerError('not_found', 'The runner gateway is not running on this server');
    return admin;
  };
  return {
    'runners.tokens.create': (p) => need().createToken(p.name, p.labels),
    'runners.tokens.list': async () => ({ tokens: await need().listTokens() }),
    'runners.tokens.revoke': async (p) => ({ revoked: true as const, disconnected: await need().revokeToken(p.token_id) }),
    'runners.list': async () => ({ runners: need().listRunners() }),
    'runners.get': async (p) => {
      const runner = need().getRunner(p.runner_id);
      if (!runner) throw new TowerError('not_found', `No runner with id "${p.runner_id}"`);
      return runner;
    },
  };
}
