import { UsageError } from './usage-error.js';

export const DEFAULT_URL = 'http://127.0.0.1:7420';

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
