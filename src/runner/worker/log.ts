import pino, { type Logger } from 'pino';

export type { Logger };

/** The runner's structured logs on stderr (stdout stays free for the CLI). Tokens are never logged. */
export function createRunnerLogger(level = process.env.TOWER_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { svc: 'tower-runner' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}

export const silentRunnerLogger: Logger = pino({ level: 'silent' });
