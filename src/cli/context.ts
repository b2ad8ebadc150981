import type { Command } from 'commander';
import { TowerClient } from '../client/index.js';
import { colorsFor, type Colors } from './color.js';
import { UsageError } from './errors.js';
import type { CliIO } from './io.js';

export const DEFAULT_URL = 'http://127.0.0.1:7420';

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

/** Resolves `--url`/`TOWER_URL` and `--token`/`TOWER_TOKEN` (flag first) into a client. */
export function createContext(command: Command, io: CliIO): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const url = globals.url ?? io.env.TOWER_URL ?? DEFAULT_URL;
  const token = globals.token ?? io.env.TOWER_TOKEN;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`invalid URL ${JSON.stringify(url)}: expected e.g. ${DEFAULT_URL}`);
  }
  return {
    io,
    client: new TowerClient({ url, token }),
    json: globals.json === true,
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

/** The longest `--wait` the server accepts. */
export const MAX_WAIT_MS = 60_000;

/** Parses a duration option like `10s`, `500ms`, `1m` or plain seconds (`10`) into milliseconds, at most 60 s. */
export function parseDuration(name: string, value: string): number {
  const match = /^(\d{1,6})(ms|s|m)?$/.exec(value);
  if (!match) throw new UsageError(`${name} must be a duration like 10s, 500ms or 1m, got ${JSON.stringify(value)}`);
  const n = Number(match[1]);
  const ms = match[2] === 'ms' ? n : match[2] === 'm' ? n * 60_000 : n * 1000;
  if (ms > MAX_WAIT_MS) throw new UsageError(`${name} must be at most 60s, got ${value}`);
  return ms;
}

/** Parses a non-negative integer option (`--since`, `--limit`, `--port`). */
export function parseCount(name: string, value: string): number {
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
}
