import type Database from 'better-sqlite3';
import type { EventType } from '../../protocol/events.js';
import { framedRows, type FrameFormat, type FramedRows } from '../../protocol/wire-frames.js';
import { notSpliceable, type RawStoredEvent } from '../../protocol/wire-json.js';
import { ascendingSeqs } from '../frame-seqs.js';

type FrameRow = [frames: Buffer | null, seqs: string | null, deleted: string | null, payloads: string | null, types: string | null, stamps: string | null, odd: number | null, flagged: number | null];
type FastRow = [frames: Buffer | null, seqs: string | null, deleted: string | null, flagged: number | null];
type Statements = {
  fast: Database.Statement<Record<string, string | number>, FastRow>;
  checked: Database.Statement<Record<string, string | number>, FrameRow>;
};

/**
 * Separates a page's payloads, types and timestamps in their `group_concat`s: ASCII RS, which
 * `JSON.stringify` always escapes (so no stored payload holds it raw) and no type or ISO time contains.
 */
const RS = '\x1e';

/**
 * The SQL quotes each row's type and timestamp verbatim, which is `JSON.stringify` only for text that
 * needs no escaping: Tower's types and ISO timestamps are these characters (and the separator).
 */
const NOT_PLAIN = /[^0-9A-Za-z_:.+\x1e-]/;

const EMPTY: FramedRows = { bytes: new Uint8Array(0), seqs: [], deletedSeqs: [] };

/** Sessions whose next page is read checked straight away (their last page had unflagged rows). */
const CHECKED_SESSIONS = 64;

/**
 * Catch-up pages built by SQLite: each row's frame is one `concat()` in C (the row's wire JSON spliced
 * from its stored text as `rawWireJsonOf` does) and the page is one `group_concat` returned as a BLOB,
 * so a page costs one query result of a few values instead of an array per row, JS splicing and UTF-8
 * encoding.
 *
 * Whether the splice reproduces a row was decided when it was written (its `splice` flag,
 * protocol/wire-splice.ts): a page whose rows all carry the flag is its frames, its seqs and the seqs
 * of its deletions, nothing more. A page with a row written before the flag existed (or one that is
 * not spliceable) is read again by the checked query, which also returns the page's payloads, types
 * and timestamps separated, to test them the way the flag was decided: a `{...}` payload in C (GLOB),
 * `notSpliceable` over the payloads and `NOT_PLAIN` over the types and timestamps in JS (one regex
 * pass each when clean). A page that fails is framed in JS from that result, row by row. A session
 * whose checked page still had unflagged rows reads its next page checked at once (old sessions are
 * old from their first row on), until a page is flagged throughout.
 */
export class SqliteFrames {
  private readonly statements = new WeakMap<FrameFormat, Statements>();
  /** Session id -> the seq after which its next page is read checked. */
  private readonly checkedAfter = new Map<string, number>();

  constructor(private readonly db: Database.Database) {}

  /**
   * The page's frames; undefined only when its separated columns do not split into one value per row
   * (a payload holding a raw RS, which `JSON.stringify` never writes): read its rows then.
   */
  read(sessionId: string, afterSeq: number, limit: number, format: FrameFormat): FramedRows | undefined {
    if (limit <= 0) return EMPTY;
    const params: Record<string, string | number> = { session: sessionId, session_json: JSON.stringify(sessionId), after: afterSeq, limit };
    format.forEach((piece, i) => {
      if (typeof piece === 'object') params[`t${i}`] = piece.text;
    });
    const statements = this.statementsOf(format);
    if (this.checkedAfter.get(sessionId) !== afterSeq) {
      const [frames, seqText, deletedText, flagged] = statements.fast.get(params) as FastRow;
      if (seqText === null || frames === null) return EMPTY;
      const seqs = ascendingSeqs(seqText);
      if (seqs && flagged === 1) return { bytes: frames, seqs, deletedSeqs: deletedText === null ? [] : deletedText.split(',').map(Number) };
    }
    return this.readChecked(sessionId, statements.checked, params, format);
  }

  private readChecked(
    sessionId: string,
    statement: Statements['checked'],
    params: Record<string, string | number>,
    format: FrameFormat,
  ): FramedRows | undefined {
    const [frames, seqText, deletedText, payloads, types, stamps, odd, flagged] = statement.get(params) as FrameRow;
    if (seqText === null || frames === null) return EMPTY;
    const seqs = ascendingSeqs(seqText);
    this.checkedAfter.delete(sessionId);
    if (flagged !== 1 && seqs) {
      this.checkedAfter.set(sessionId, seqs[seqs.length - 1] as number);
      if (this.checkedAfter.size > CHECKED_SESSIONS) this.checkedAfter.delete(this.checkedAfter.keys().next().value as string);
    }
    if (seqs && !odd && !notSpliceable(payloads ?? '') && !NOT_PLAIN.test(types ?? '') && !NOT_PLAIN.test(stamps ?? '')) {
      return { bytes: frames, seqs, deletedSeqs: deletedText === null ? [] : deletedText.split(',').map(Number) };
    }
    const rows = rowsOf(sessionId, seqText.split(',').map(Number), payloads ?? '', types ?? '', stamps ?? '');
    return rows && framedRows(sessionId, rows, format);
  }

  private statementsOf(format: FrameFormat): Statements {
    let statements = this.statements.get(format);
    if (!statements) {
      const pieces = format.map((piece, i) => (piece === 'seq' ? 'seq' : piece === 'type' ? 'type' : piece === 'wire' ? WIRE : `@t${i}`));
      // The fast query's rows carry no payload: every column the subquery passes up is copied per row.
      const page = (columns: string) =>
        `SELECT concat(${pieces.join(', ')}) AS frame, seq, type, ${columns} FROM events WHERE session_id = @session AND seq > @after ORDER BY seq LIMIT @limit`;
      // min(ifnull(...)): a row without the flag (NULL) makes the page unflagged; plain min() skips NULLs.
      const head = `CAST(group_concat(frame, '') AS BLOB), group_concat(seq), group_concat(CASE WHEN type = 'session_deleted' THEN seq END)`;
      const flagged = 'min(ifnull(splice, 0))';
      statements = {
        fast: this.db.prepare<Record<string, string | number>, FastRow>(`SELECT ${head}, ${flagged} FROM (${page('splice')})`).raw(true),
        checked: this.db
          .prepare<Record<string, string | number>, FrameRow>(
            `SELECT ${head}, group_concat(data, char(30)), group_concat(type, char(30)), group_concat(created_at, char(30)),
               max(data NOT GLOB '{*}'), ${flagged}
             FROM (${page('data, created_at, splice')})`,
          )
          .raw(true),
      };
      this.statements.set(format, statements);
    }
    return statements;
  }
}

/** The page's rows back from its separated columns, in seq order; undefined if they do not split evenly. */
function rowsOf(sessionId: string, seqs: readonly number[], payloads: string, types: string, stamps: string): RawStoredEvent[] | undefined {
  const data = payloads.split(RS);
  const type = types.split(RS);
  const stamp = stamps.split(RS);
  if (data.length !== seqs.length || type.length !== seqs.length || stamp.length !== seqs.length) return undefined;
  const order = seqs.map((_, i) => i);
  // Out of order only if group_concat ever stops keeping the subquery's order (checked above).
  order.sort((a, b) => (seqs[a] as number) - (seqs[b] as number));
  return order.map((i) => ({
    session_id: sessionId,
    seq: seqs[i] as number,
    // The column only ever holds types written through the typed Store API.
    type: type[i] as EventType,
    data: data[i] as string,
    timestamp: stamp[i] as string,
  }));
}

/** `rawWireJsonOf` in SQL: the payload's keys, then the envelope (`{}` gives the envelope alone). */
const WIRE = `CASE WHEN data = '{}' THEN '{' ELSE substr(data, 1, length(data) - 1) || ',' END, '"type":"', type, '","seq":', seq, ',"session_id":', @session_json, ',"timestamp":"', created_at, '"}'`;
