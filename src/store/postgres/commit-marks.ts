import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * Commit marks (migration 137), the Postgres counterpart of SQLite's writer-thread batch marks: each
 * group commit writes a row naming it in its own transaction. When the connection dies after COMMIT was
 * sent and before its answer came back, the outcome is unknown to the client, and a retry (group commit
 * retries a failed batch group by group) would store every event twice if the COMMIT had landed. The
 * mark answers it: the transaction's backend is ended first (so the answer is final: a COMMIT still
 * running either lands or not before the backend goes), then the mark is looked up on another
 * connection. Marks live while their commit is unanswered: each commit prunes this writer's answered
 * ones in the same statement that writes its own.
 */
export class PgCommitMarks {
  /** This store instance's marks; ids are its own counter. */
  readonly writer = randomUUID();
  private nextId = 1;
  private readonly pending = new Set<number>();

  /** A new mark id, pending until `answered`. */
  take(): number {
    const id = this.nextId++;
    this.pending.add(id);
    return id;
  }

  answered(id: number): void {
    this.pending.delete(id);
  }

  /** Inside the commit's transaction: its mark, and the marks of commits already answered dropped. */
  async record(client: pg.ClientBase, id: number): Promise<void> {
    // The set keeps insertion order and ids only grow: its first is the oldest commit unanswered.
    const oldest = this.pending.values().next();
    await client.query(
      `WITH pruned AS (DELETE FROM commit_marks WHERE writer = $1 AND id < $3)
       INSERT INTO commit_marks (writer, id) VALUES ($1, $2)`,
      [this.writer, id, oldest.done ? id : oldest.value],
    );
  }

  /**
   * Whether the commit marked `id`, whose COMMIT got no answer on the backend `pid`, landed. Throws when
   * that cannot be known (the database unreachable): the caller's error stands then.
   */
  async landed(pool: pg.Pool, pid: number | undefined, id: number): Promise<boolean> {
    const client = await pool.connect();
    try {
      if (pid !== undefined) {
        await client.query('SELECT pg_terminate_backend($1)', [pid]);
        // The backend ends once its COMMIT (if it got that far) is done; then the mark is final.
        for (let i = 0; i < 500; i++) {
          const { rowCount } = await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
          if (!rowCount) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
      const { rowCount } = await client.query('SELECT 1 FROM commit_marks WHERE writer = $1 AND id = $2', [this.writer, id]);
      return (rowCount ?? 0) > 0;
    } finally {
      client.release();
    }
  }

  /** At close: none of this writer's commits is unanswered any more. Also drops marks a crashed node left (a day old). */
  async forget(pool: pg.Pool): Promise<void> {
    await pool.query("DELETE FROM commit_marks WHERE writer = $1 OR created_at < now() - interval '1 day'", [this.writer]);
  }
}

/** The backend a pooled client talks to (`pg` sets it from the server's BackendKeyData; not in its types). */
export function backendPid(client: pg.ClientBase): number | undefined {
  const pid = (client as { processID?: unknown }).processID;
  return typeof pid === 'number' ? pid : undefined;
}
