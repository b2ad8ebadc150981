import type { Command } from 'commander';
import { createContext, printJson, type CommandContext, type CommandRunner } from '../context.js';
import { formatSessionModels } from '../control-format.js';
import type { CliIO } from '../io.js';

async function model(ctx: CommandContext, sessionId: string, modelId: string | undefined): Promise<number> {
  if (modelId === undefined) {
    const listed = await ctx.client.sessionModels(sessionId);
    if (ctx.json) printJson(ctx, listed);
    else ctx.io.stdout.write(formatSessionModels(ctx.out, listed));
    return 0;
  }
  const session = await ctx.client.setModel(sessionId, modelId);
  if (ctx.json) printJson(ctx, session);
  else ctx.io.stdout.write(`model: ${session.model}\n`);
  return 0;
}

/** `tower model <session> [model]`: list the models (the current one starred), or switch. */
export function registerModel(program: Command, io: CliIO, run: CommandRunner): void {
  program
    .command('model')
    .description("list a session's models (current one starred), or switch it; a running turn switches at its next step")
    .argument('<session>', 'session id')
    .argument('[model]', 'provider/model to switch to')
    .action((sessionId: string, modelId: string | undefined, _options: unknown, command: Command) =>
      run(() => model(createContext(command, io), sessionId, modelId)),
    );
}
