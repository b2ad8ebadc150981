/** Messages between the store and its reader thread (`reader-thread.ts`, `reader-worker.ts`). */

export interface ReaderConfig {
  path: string;
  busyTimeoutMs: number;
  /** The thread's nice value (Linux: per thread), above the event loop's: catch-up reads yield the CPU to it. */
  nice?: number;
}

export type ToReader =
  | { kind: 'get'; id: number; sql: string; params: Record<string, string | number> }
  | { kind: 'close' };

export type FromReader =
  | { kind: 'ready' }
  | { kind: 'row'; id: number; row: unknown[] }
  | { kind: 'failed'; id: number; error: string };
