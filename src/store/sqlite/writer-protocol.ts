import { ERROR_CODES, TowerError, type ErrorCode } from '../../protocol/errors.js';
import type { WireBatch } from './writer-wire.js';

/** The writer thread's start-up settings (its `workerData`). */
export interface WriterConfig {
  path: string;
  busyTimeoutMs: number;
  /** SQLite's `wal_autocheckpoint` for the thread's connection: 0 while the checkpointer thread runs. */
  autoCheckpoint: number;
  /** SQLite's `journal_size_limit` for the thread's connection: a restarted WAL is cut back to it. */
  journalSizeLimit?: number;
  /** Names this writer's batch marks (writer-marks.ts); the same across the threads it starts. */
  writer: string;
}

export type ToWriter =
  /** `answeredBelow`: every batch with a lower id has its reply; their marks can go. */
  | { kind: 'commit'; id: number; batch: WireBatch; answeredBelow: number }
  /** For crash tests: the thread exits right after its next COMMIT, before replying. */
  | { kind: 'exit-after-commit' }
  | { kind: 'autocheckpoint'; pages: number }
  | { kind: 'close' };

/** An error as it crosses the thread boundary: a TowerError's code, message and details survive. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export type FromWriter =
  | { kind: 'ready' }
  /** `ms`: the commit's time in the thread (the placement policy counts it as load the loop was spared). */
  | { kind: 'committed'; id: number; seqs: Float64Array; messages: Int32Array; ms: number }
  | { kind: 'failed'; id: number; error: WireError };

/** In the thread: a domain error as it is, a driver failure as `internal` (what the store's guard makes of it). */
export function toWireError(err: unknown): WireError {
  if (err instanceof TowerError) return { code: err.code, message: err.message, details: err.details };
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return { code: 'internal', message: `sqlite: ${message}`, details: typeof code === 'string' ? { sqlite_code: code } : undefined };
}

/** On the main thread: the TowerError the thread threw. */
export function fromWireError(e: WireError): TowerError {
  const code: ErrorCode = (ERROR_CODES as readonly string[]).includes(e.code) ? e.code : 'internal';
  return new TowerError(code, e.message, e.details);
}
