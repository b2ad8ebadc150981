import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; child loggers carry `session_id` and `turn_id`. */
export function createLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  return pino({
    level: opts.level ?? process.env.TOWER_LOG_LEVEL ?? 'info',
    base: { svc: 'tower' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

export const silentLogger: Logger = pino({ level: 'silent' });
