import type pg from 'pg';
import type { FrameFormat, FramedRows } from '../../protocol/wire-frames.js';
import { ascendingSeqs } from '../frame-seqs.js';

type FastRow = [frames: string | null, seqs: string | null, deleted: string | null, flagged: boolean | null];

const EMPTY: FramedRows = { bytes: new Uint8Array(0), seqs: [], deletedSeqs: [] };

/** Sessions whose next page is read checked straight away (their last page had unflagged rows). */
const CHECKED_SESSIONS = 64;

/**
 * The rows of a page, `$1` the session: `WHERE session_id = $1 AND seq > (SELECT $n) ORDER BY seq LIMIT
 * (SELECT $m)`. The seq and the limit are scalar subqueries (InitPlans), so no plan, custom or generic,
 * sees their values. With `seq > 0` and `LIMIT 500` known, PostgreSQL estimates the session's remaining
 * rows from the statistics (none on a fresh table; stale for a session that grew since the last
 * ANALYZE), and on an estimate under the limit it plans a bitmap scan of all the session's remaining
 * rows and a top-N sort: 25-30 ms a page at 100k rows instead of 0.2 ms, for every unnamed read and for
 * the first five executions of a named one on each connection (later ones use the generic plan). A
 * limit it cannot see is costed at 10% of the estimate, which makes the primary key's ordered index
 * scan (at most the limit's rows) the cheapest plan whatever the statistics say (plans.test.ts
 * EXPLAINs the page statements on a fresh and on a stale table).
 */
export function pageRows(seqParam: number, limitParam: number): string {
  return `WHERE session_id = $1 AND seq > (SELECT $${seqParam}::bigint) ORDER BY seq LIMIT (SELECT $${limitParam}::bigint)`;
}

/** Names of the prepared frame statements, unique in the process (a name is per connection in pg). */
let statementIds = 0;

export interface Statement {
  readonly name: string;
  readonly text: string;
  /** The format's literal pieces, bound after the session, its JSON, the seq and the limit. */
  readonly literals: readonly string[];
}

/**
 * Catch-up pages built by PostgreSQL (store/sqlite/frames.ts does the same in SQLite): each row's frame
 * is one expression (the row's wire JSON spliced from its stored text as `rawWireJsonOf` does) and the
 * page is one `string_agg`, so a page costs one result row of four values instead of a row object per
 * event, JS splicing and UTF-8 encoding of each row apart.
 *
 * Only a page whose rows all carry the splice flag (decided when each was written, migration 138) is
 * served so; `read` answers undefined for any other (a row written before 138, or one only the object
 * way reproduces) and the caller reads the page's rows and frames them in JS (`checked`). A session
 * whose checked page still had unflagged rows has its next page read checked straight away (old
 * sessions are old from their first row on), until a checked page is flagged throughout.
 */
export class PgFrames {
  /** Per format: its prepared statement, or null when the format cannot be bound as text (a NUL). */
  private readonly statements = new WeakMap<FrameFormat, Statement | null>();
  /** Session id -> the seq after which its next page is read checked. */
  private readonly checkedAfter = new Map<string, number>();

  /** The page's frames, or undefined when it must be read checked (rows framed in JS). */
  async read(pool: pg.Pool, sessionId: string, afterSeq: number, limit: number, format: FrameFormat): Promise<FramedRows | undefined> {
    if (limit <= 0) return EMPTY;
    if (this.checkedAfter.get(sessionId) === afterSeq) return undefined;
    const statement = this.statementOf(format);
    if (!statement) return undefined;
    const { rows } = await pool.query<FastRow>({
      name: statement.name,
      text: statement.text,
      values: [sessionId, JSON.stringify(sessionId), afterSeq, limit, ...statement.literals],
      rowMode: 'array',
    });
    const [frames, seqText, deletedText, flagged] = rows[0] ?? [null, null, null, null];
    if (frames === null || seqText === null) return EMPTY;
    const seqs = ascendingSeqs(seqText);
    // The caller reads the page checked and records it (`checked`).
    if (!seqs || flagged !== true) return undefined;
    return { bytes: Buffer.from(frames, 'utf8'), seqs, deletedSeqs: deletedText === null ? [] : deletedText.split(',').map(Number) };
  }

  /** Records a page read checked: `flagged` (every row carries the flag) ends the session's checked run. */
  checked(sessionId: string, lastSeq: number, flagged: boolean): void {
    this.checkedAfter.delete(sessionId);
    if (flagged) return;
    this.checkedAfter.set(sessionId, lastSeq);
    if (this.checkedAfter.size > CHECKED_SESSIONS) this.checkedAfter.delete(this.checkedAfter.keys().next().value as string);
  }

  private statementOf(format: FrameFormat): Statement | null {
    let statement = this.statements.get(format);
    if (statement === undefined) this.statements.set(format, (statement = frameStatement(format)));
    return statement;
  }
}

/**
 * The page statement of a format: values `[session, session JSON, after seq, limit, ...literals]`; null
 * when the format cannot be bound as text (a NUL).
 */
export function frameStatement(format: FrameFormat): Statement | null {
  const literals: string[] = [];
  const pieces = format.map((piece) => {
    if (piece === 'seq') return 'seq::text';
    if (piece === 'type') return 'type';
    if (piece === 'wire') return WIRE;
    literals.push(piece.text);
    return `$${4 + literals.length}::text`;
  });
  // PostgreSQL text cannot hold U+0000: such a format is framed in JS.
  if (literals.some((text) => text.includes('\u0000'))) return null;
  return {
    name: `tower_frames_${++statementIds}`,
    // No ORDER BY in the aggregates: they take the subquery's order, checked by the seqs' order.
    text: `SELECT string_agg(${pieces.join(' || ')}, ''), string_agg(seq::text, ','),
             string_agg(CASE WHEN type = 'session_deleted' THEN seq::text END, ','), bool_and(coalesce(splice, false))
           FROM (SELECT seq, type, data, created_at, splice FROM events ${pageRows(3, 4)}) page`,
    literals,
  };
}

/** `rawWireJsonOf` in SQL: the payload's keys, then the envelope (`{}` gives the envelope alone); $2 is the session's JSON. */
const WIRE = `(CASE WHEN data = '{}' THEN '{' ELSE left(data, -1) || ',' END) || '"type":"' || type || '","seq":' || seq::text || ',"session_id":' || $2::text || ',"timestamp":"' || created_at || '"}'`;
