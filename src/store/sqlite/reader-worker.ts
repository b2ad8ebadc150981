import Database from 'better-sqlite3';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromReader, ReaderConfig, ToReader } from './reader-protocol.js';

/**
 * The reader thread (started by `reader-thread.ts`): a read-only connection to the store's file that
 * runs the statements it is sent (by their SQL text, prepared once) and answers each with its first
 * row as an array. A BLOB comes back as a Buffer whose memory is transferred, not copied.
 */

const port = parentPort;
if (!port) throw new Error('reader-worker runs as a worker thread');
const config = workerData as ReaderConfig;
if (config.nice !== undefined) {
  try {
    // Pid 0 is the calling thread on Linux: this thread only, not the event loop's.
    os.setPriority(0, Math.min(19, os.getPriority(0) + config.nice));
  } catch {
    // Not permitted or not supported: reads run at the process's priority.
  }
}
const db = new Database(config.path, { readonly: true, fileMustExist: true });
db.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
const statements = new Map<string, Database.Statement<Record<string, string | number>, unknown[]>>();

port.on('message', (msg: ToReader) => {
  if (msg.kind === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    let statement = statements.get(msg.sql);
    if (!statement) statements.set(msg.sql, (statement = db.prepare<Record<string, string | number>, unknown[]>(msg.sql).raw(true)));
    const row = statement.get(msg.params) ?? [];
    const moved: ArrayBuffer[] = [];
    for (const value of row) {
      // better-sqlite3 gives each BLOB a buffer of its own: handed over whole.
      if (Buffer.isBuffer(value) && value.byteOffset === 0 && value.buffer.byteLength === value.byteLength) moved.push(value.buffer as ArrayBuffer);
    }
    port.postMessage({ kind: 'row', id: msg.id, row } satisfies FromReader, moved);
  } catch (err) {
    port.postMessage({ kind: 'failed', id: msg.id, error: err instanceof Error ? err.message : String(err) } satisfies FromReader);
  }
});
port.postMessage({ kind: 'ready' } satisfies FromReader);
