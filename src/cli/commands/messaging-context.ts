import type { Command } from 'commander';
import { MessagingClient } from '../../client/index.js';
import { createContext, towerAddress, type CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import type { CliIO } from '../io.js';

export interface MessagingContext extends CommandContext {
  messaging: MessagingClient;
}

/** The usual context plus a messaging client on the same URL and token. */
export function messagingContext(command: Command, io: CliIO): MessagingContext {
  return { ...createContext(command, io), messaging: new MessagingClient(towerAddress(command, io)) };
}

export function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`${name} must be a non-negative integer`);
  return Number(value);
}

export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}
