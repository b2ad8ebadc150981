import type Database from 'better-sqlite3';
import type { EventType } from '../../protocol/events.js';
import { framedRows, type FrameFormat, type FramedRows } from '../../protocol/wire-frames.js';
import { notSpliceable, type RawStoredEvent } from '../../protocol/wire-json.js';

type FrameRow = [frames: Buffer | null, seqs: string | null, deleted: string | null, payloads: string | null, types: string | null, stamps: string | null, odd: number | null];

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

/**
 * Catch-up pages built by SQLite: each row's frame is one `concat()` in C (the row's wire JSON spliced
 * from its stored text as `rawWireJsonOf` does) and the page is one `group_concat` returned as a BLOB,
 * so a page costs one query result of a few values instead of an array per row, JS splicing and UTF-8
 * encoding. What the splice cannot reproduce is checked on the whole page at once: a `{...}` payload in
 * C (GLOB), `notSpliceable` over the page's payloads (a top-level envelope key) and `NOT_PLAIN` over its
 * types and timestamps in JS (one regex pass each when clean; SQLite's instr is a memcmp per byte, and
 * an IN list of the known types a lookup per row, each costing more than the splice). Such a page is
 * framed in JS from the same result (its payloads, types and timestamps come back separated), row by
 * row, so it costs no second read.
 */
export class SqliteFrames {
  private readonly statements = new WeakMap<FrameFormat, Database.Statement<Record<string, string | number>, FrameRow>>();

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
    const [frames, seqText, deletedText, payloads, types, stamps, odd] = this.statement(format).get(params) as FrameRow;
    if (seqText === null || frames === null) return EMPTY;
    const seqs = seqText.split(',').map(Number);
    // group_concat keeps the subquery's order; checked rather than assumed.
    let ordered = true;
    for (let i = 1; i < seqs.length; i++) if (!((seqs[i] as number) > (seqs[i - 1] as number))) ordered = false;
    if (ordered && !odd && !notSpliceable(payloads ?? '') && !NOT_PLAIN.test(types ?? '') && !NOT_PLAIN.test(stamps ?? '')) {
      return { bytes: frames, seqs, deletedSeqs: deletedText === null ? [] : deletedText.split(',').map(Number) };
    }
    const rows = rowsOf(sessionId, seqs, payloads ?? '', types ?? '', stamps ?? '');
    return rows && framedRows(sessionId, rows, format);
  }

  private statement(format: FrameFormat): Database.Statement<Record<string, string | number>, FrameRow> {
    let statement = this.statements.get(format);
    if (!statement) {
      const pieces = format.map((piece, i) => (piece === 'seq' ? 'seq' : piece === 'type' ? 'type' : piece === 'wire' ? WIRE : `@t${i}`));
      statement = this.db
        .prepare<Record<string, string | number>, FrameRow>(
          `SELECT CAST(group_concat(frame, '') AS BLOB), group_concat(seq), group_concat(CASE WHEN type = 'session_deleted' THEN seq END),
             group_concat(data, char(30)), group_concat(type, char(30)), group_concat(created_at, char(30)), max(odd)
           FROM (SELECT concat(${pieces.join(', ')}) AS frame, seq, type, data, created_at, data NOT GLOB '{*}' AS odd
                 FROM events WHERE session_id = @session AND seq > @after ORDER BY seq LIMIT @limit)`,
        )
        .raw(true);
      this.statements.set(format, statement);
    }
    return statement;
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
