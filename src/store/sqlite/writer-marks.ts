import type Database from 'better-sqlite3';

/** Where a batch's entries landed: `commit.ts`'s `Placement` (not imported: commit.ts imports this file). */
interface Placed {
  seqs: Float64Array;
  messages: Int32Array;
}

/**
 * A writer-thread batch's mark (migration 31): the batch's placement, written inside the batch's own
 * transaction, so "did it land, and where" has an answer on disk even when the thread dies between
 * COMMIT and its reply. `writer` names one `WriterThread` (its batches' ids are its own counter).
 */
export interface BatchMark {
  writer: string;
  id: number;
  /** Every batch of this writer with a lower id has been answered: their marks go in the same transaction. */
  answeredBelow: number;
}

type MarkRow = [id: number, seqs: Buffer, messages: Buffer];

/** The marks table's statements, on one connection (the thread's records, the main one's reads). */
export class BatchMarks {
  private readonly insert: Database.Statement<[string, number, Buffer, Buffer]>;
  private readonly prune: Database.Statement<[string, number]>;
  private readonly read: Database.Statement<[string, number], MarkRow>;
  private readonly clear: Database.Statement<[string]>;

  constructor(db: Database.Database) {
    this.insert = db.prepare('INSERT INTO writer_batches (writer, id, seqs, messages) VALUES (?, ?, ?, ?)');
    this.prune = db.prepare('DELETE FROM writer_batches WHERE writer = ? AND id < ?');
    this.read = db.prepare<[string, number], MarkRow>('SELECT id, seqs, messages FROM writer_batches WHERE writer = ? AND id >= ?').raw(true);
    this.clear = db.prepare('DELETE FROM writer_batches WHERE writer = ?');
  }

  /** Inside the batch's transaction: its placement, and the answered marks dropped. */
  record(mark: BatchMark, placed: Placed): void {
    this.prune.run(mark.writer, mark.answeredBelow);
    const seqs = Buffer.from(placed.seqs.buffer, placed.seqs.byteOffset, placed.seqs.byteLength);
    const messages = Buffer.from(placed.messages.buffer, placed.messages.byteOffset, placed.messages.byteLength);
    this.insert.run(mark.writer, mark.id, seqs, messages);
  }

  /** The batches of `writer` from id `from` on that landed, by id (read after the thread is gone). */
  landed(writer: string, from: number): Map<number, Placed> {
    const out = new Map<number, Placed>();
    for (const [id, seqs, messages] of this.read.all(writer, from)) {
      // Copied into fresh buffers: a Buffer's offset into its pool need not be aligned for the views.
      out.set(id, {
        seqs: new Float64Array(new Uint8Array(seqs).buffer),
        messages: new Int32Array(new Uint8Array(messages).buffer),
      });
    }
    return out;
  }

  /** Every mark of `writer` (its thread closed cleanly, or its recovered batches were answered). */
  forget(writer: string): void {
    this.clear.run(writer);
  }
}
