import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { CommitWriter } from './commit.js';
import { decodeBatch } from './writer-wire.js';
import { toWireError, type FromWriter, type ToWriter, type WriterConfig } from './writer-protocol.js';

/**
 * The writer thread (started by `writer-thread.ts`): its own connection to the store's file, running
 * the same `CommitWriter` as the main connection, one batch per message, in arrival order. Replies carry
 * only where the entries landed; the main thread builds the events.
 */

const port = parentPort;
if (!port) throw new Error('writer-worker runs as a worker thread');
const config = workerData as WriterConfig;
const db = new Database(config.path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
db.pragma('foreign_keys = ON');
db.pragma(`wal_autocheckpoint = ${config.autoCheckpoint}`);
const writer = new CommitWriter(db);
const send = (msg: FromWriter): void => port.postMessage(msg);

port.on('message', (msg: ToWriter) => {
  if (msg.kind === 'close') {
    db.close();
    port.close();
  } else if (msg.kind === 'autocheckpoint') {
    db.pragma(`wal_autocheckpoint = ${msg.pages}`);
  } else {
    try {
      const { seqs, messages } = writer.place(decodeBatch(msg.batch));
      // Transferred, not cloned: the main thread's side of the reply is two buffers.
      port.postMessage({ kind: 'committed', id: msg.id, seqs, messages } satisfies FromWriter, [seqs.buffer as ArrayBuffer, messages.buffer as ArrayBuffer]);
    } catch (err) {
      send({ kind: 'failed', id: msg.id, error: toWireError(err) });
    }
  }
});
send({ kind: 'ready' });
