import type { Command } from 'commander';
import type { CommandContext } from './context.js';
import type { CliIO } from './io.js';

/** `createContext`, imported when a command runs: the client (and zod) load only for commands that use them. */
export async function lazyContext(command: Command, io: CliIO): Promise<CommandContext> {
  const { createContext } = await import('./context.js');
  return createContext(command, io);
}
