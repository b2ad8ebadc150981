import Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
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
if (config.journalSizeLimit !== undefined) db.pragma(`journal_size_limit = ${config.journalSizeLimit}`);
const writer = new CommitWriter(db);
const send = (msg: FromWriter): void => port.postMessage(msg);

let exitAfterCommit = false;

port.on('message', (msg: ToWriter) => {
  if (msg.kind === 'close') {
    // Every batch was answered: no mark of this writer is needed any more (one left behind is harmless).
    try {
      writer.marks.forget(config.writer);
    } catch {
      // The close goes on: the marks are a few bytes, and the next writer's ids are its own.
    }
    db.close();
    port.close();
  } else if (msg.kind === 'autocheckpoint') {
    db.pragma(`wal_autocheckpoint = ${msg.pages}`);
  } else if (msg.kind === 'exit-after-commit') {
    exitAfterCommit = true;
  } else {
    try {
      const t0 = performance.now();
      const { seqs, messages } = writer.place(decodeBatch(msg.batch), { writer: config.writer, id: msg.id, answeredBelow: msg.answeredBelow });
      // The crash window the batch marks cover: committed, and the reply never sent.
      if (exitAfterCommit) process.exit(1);
      // Transferred, not cloned: the main thread's side of the reply is two buffers.
      const ms = performance.now() - t0;
      port.postMessage({ kind: 'committed', id: msg.id, seqs, messages, ms } satisfies FromWriter, [seqs.buffer as ArrayBuffer, messages.buffer as ArrayBuffer]);
    } catch (err) {
      send({ kind: 'failed', id: msg.id, error: toWireError(err) });
    }
  }
});
send({ kind: 'ready' });
