import { printJson, type CommandContext } from '../context.js';
import { formatSessionModels } from '../control-format.js';

export async function model(ctx: CommandContext, sessionId: string, modelId: string | undefined): Promise<number> {
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
