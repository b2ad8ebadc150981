import type { Command } from 'commander';
import { TowerClient } from '../client/index.js';
import { colorsFor, type Colors } from './color.js';
import type { CliIO } from './io.js';
import { DEFAULT_URL } from './options.js';
import { UsageError } from './usage-error.js';

// The option parsers live apart from the client, so registering commands loads no client code.
export { DEFAULT_URL, MAX_WAIT_MS, parseCount, parseDuration } from './options.js';

/** The global options, as commander hands them over. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
}

/** What a command needs: the client, the output mode and the streams with their colours. */
export interface CommandContext {
  io: CliIO;
  client: TowerClient;
  json: boolean;
  /** Colours for stdout and for stderr, each on only if that stream is a TTY. */
  out: Colors;
  err: Colors;
}

/** `--url`/`TOWER_URL` and `--token`/`TOWER_TOKEN`, flag first (an empty token is none, as the client takes it). */
export function towerAddress(command: Command, io: CliIO): { url: string; token?: string } {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const url = globals.url ?? io.env.TOWER_URL ?? DEFAULT_URL;
  const token = globals.token ?? io.env.TOWER_TOKEN;
  return { url, ...(token ? { token } : {}) };
}

/** Resolves the tower's address (`towerAddress`) into a client. */
export function createContext(command: Command, io: CliIO): CommandContext {
  const address = towerAddress(command, io);
  const { url } = address;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`invalid URL ${JSON.stringify(url)}: expected e.g. ${DEFAULT_URL}`);
  }
  return {
    io,
    client: new TowerClient(address),
    json: command.optsWithGlobals<GlobalOptions>().json === true,
    out: colorsFor(io.stdout, io.env),
    err: colorsFor(io.stderr, io.env),
  };
}

/** Runs a command body and records its exit code; errors are reported by the program. */
export type CommandRunner = (body: () => Promise<number>) => Promise<void>;

/** Prints a value as one indented JSON document (`--json` output). */
export function printJson(ctx: CommandContext, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
