import { destination, pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (fd 2), the convention for a server whose stdout may be piped; child
 * loggers carry `session_id` and `turn_id`. `destination` is for tests.
 */
export function createLogger(opts: { level?: string; pretty?: boolean; destination?: number } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.TOWER_LOG_LEVEL ?? 'info',
      base: { svc: 'tower' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination(opts.destination ?? 2),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
