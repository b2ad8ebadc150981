import type pg from 'pg';
import { TowerError } from '../../protocol/errors.js';
import { storedEventOf } from '../../protocol/events.js';
import { spliceFlag } from '../../protocol/wire-splice.js';
import { planCommit, unknownSession, type CommitPlan } from '../commit-plan.js';
import type { CommitEntry, CommitResult } from '../types.js';
import { assertFences, type FenceSource } from './lease.js';
import { PG_SESSION_COLUMNS, PG_SESSION_PLACEHOLDERS, fromPgText, pgText, pgTextOrNull, sessionParams } from './rows.js';

interface MessageWrite {
  session_id: string;
  idx: number;
  role: string;
  data: string;
  created_at: string;
}

/**
 * One group commit in one transaction on `client`. Each session's row is updated first, in id order:
 * the UPDATE ... RETURNING both reserves the batch's seqs and message indexes and row-locks the session
 * until COMMIT, so two nodes committing to one session serialize (no duplicate or gapped seq), and the
 * fixed order means two batches over the same sessions cannot deadlock. Events, messages and state rows
 * then go in as a few array-parameter statements, not one round trip per row.
 */
export async function commitBatch(client: pg.ClientBase, entries: readonly CommitEntry[], fence?: FenceSource): Promise<CommitResult[]> {
  const plans = planCommit(entries);
  if (fence) await checkFences(client, [...plans.keys()].sort(), fence);
  await createSessions(client, entries);
  const heads = new Map<string, { seq: number; messageCount: number }>();
  for (const id of [...plans.keys()].sort()) {
    const p = plans.get(id) as CommitPlan;
    const { rows } = await client.query<{ last_event_seq: string; message_count: number }>(
      `UPDATE sessions SET
         last_event_seq = last_event_seq + $1, message_count = message_count + $2, updated_at = $3,
         title = COALESCE($4, title), model = COALESCE($5, model), starred = COALESCE($6, starred),
         permissions = COALESCE($7, permissions), settings = COALESCE($8, settings),
         input_tokens = input_tokens + $9, output_tokens = output_tokens + $10, cost = cost + $11,
         runner = NULLIF(COALESCE($13, runner), 'null')
       WHERE id = $12
       RETURNING last_event_seq, message_count`,
      [p.events, p.messages, p.updatedAt, pgTextOrNull(p.title), pgTextOrNull(p.model), p.starred, p.permissions, p.settings, p.addInput, p.addOutput, p.addCost, id, p.runner],
    );
    const row = rows[0];
    if (!row) throw unknownSession(id);
    heads.set(id, { seq: Number(row.last_event_seq) - p.events, messageCount: row.message_count - p.messages });
  }

  const ev = { sid: [] as string[], seq: [] as number[], type: [] as string[], data: [] as string[], at: [] as string[], splice: [] as boolean[] };
  const inserted = new Map<string, MessageWrite>();
  const replaced = new Map<string, MessageWrite>();
  const state = new Map<string, Map<string, string | null>>();
  const deletes: string[] = [];
  const results: CommitResult[] = [];
  for (const entry of entries) {
    const id = entry.session_id;
    const head = heads.get(id) as { seq: number; messageCount: number };
    if (entry.expect_state) await checkState(client, id, entry.expect_state, state.get(id));
    const seq = ++head.seq;
    const encoded = entry.encoded;
    ev.sid.push(id);
    ev.seq.push(seq);
    ev.type.push(entry.type);
    const data = encoded?.data ?? JSON.stringify(entry.data);
    ev.data.push(data);
    ev.at.push(entry.timestamp);
    ev.splice.push(spliceFlag(data, entry.type, entry.timestamp) === 1);
    const result: CommitResult = {
      event: storedEventOf(id, seq, entry.type, entry.data, entry.timestamp),
    };
    // Replace before append, so one entry can both complete the last message and start the next.
    if (entry.replace_last_message) {
      if (head.messageCount === 0) {
        throw new TowerError('invalid_request', `session ${id} has no message to replace`, { session_id: id });
      }
      const m = entry.replace_last_message;
      const data = encoded?.replace_last_message ?? JSON.stringify(m);
      const key = `${id}\u0000${head.messageCount - 1}`;
      const pending = inserted.get(key);
      // A message written earlier in this batch is replaced before it is inserted.
      if (pending) Object.assign(pending, { role: m.role, data });
      else replaced.set(key, { session_id: id, idx: head.messageCount - 1, role: m.role, data, created_at: '' });
    }
    if (entry.message) {
      const idx = head.messageCount++;
      const m = entry.message;
      const data = encoded?.message ?? JSON.stringify(m);
      inserted.set(`${id}\u0000${idx}`, { session_id: id, idx, role: m.role, data, created_at: entry.timestamp });
      result.message_index = idx;
    }
    if (entry.state) {
      let s = state.get(id);
      if (!s) state.set(id, (s = new Map()));
      for (const [key, value] of Object.entries(entry.state)) s.set(key, value);
    }
    if (entry.delete_session) deletes.push(id);
    results.push(result);
  }

  await client.query(
    `INSERT INTO events (session_id, seq, type, data, created_at, splice)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::boolean[])`,
    [ev.sid, ev.seq, ev.type, ev.data, ev.at, ev.splice],
  );
  for (const r of replaced.values()) {
    await client.query('UPDATE messages SET role = $1, data = $2 WHERE session_id = $3 AND idx = $4', [r.role, r.data, r.session_id, r.idx]);
  }
  if (inserted.size > 0) {
    const ms = [...inserted.values()];
    await client.query(
      `INSERT INTO messages (session_id, idx, role, data, created_at)
       SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[])`,
      [ms.map((m) => m.session_id), ms.map((m) => m.idx), ms.map((m) => m.role), ms.map((m) => m.data), ms.map((m) => m.created_at)],
    );
  }
  for (const [id, s] of state) {
    for (const [key, value] of s) {
      if (value === null) await client.query('DELETE FROM session_state WHERE session_id = $1 AND key = $2', [id, key]);
      else {
        await client.query(
          `INSERT INTO session_state (session_id, key, value) VALUES ($1, $2, $3)
           ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value`,
          [id, key, pgText(value)],
        );
      }
    }
  }
  if (deletes.length > 0) await client.query('DELETE FROM sessions WHERE id = ANY($1::text[])', [deletes]);
  return results;
}

/**
 * A node writing a session it holds the lease of proves, inside this transaction, that the lease is
 * still its own (the token written with every commit): a node that lost it appends nothing. The lease
 * row's share lock makes a takeover wait for this commit.
 */
async function checkFences(client: pg.ClientBase, ids: readonly string[], fence: FenceSource): Promise<void> {
  const fences = ids.flatMap((sessionId) => {
    const token = fence.tokenOf(sessionId);
    return token === undefined ? [] : [{ sessionId, token }];
  });
  try {
    await assertFences(client, fences);
  } catch (err) {
    const blamed = (err as { details?: { session_id?: unknown } }).details?.session_id;
    if (typeof blamed === 'string') fence.fenceFailed?.(blamed);
    throw err;
  }
}

async function createSessions(client: pg.ClientBase, entries: readonly CommitEntry[]): Promise<void> {
  for (const entry of entries) {
    const record = entry.create_session;
    if (!record) continue;
    if (record.id !== entry.session_id) {
      throw new TowerError('invalid_request', `create_session id ${record.id} differs from the entry's session`, {
        session_id: entry.session_id,
      });
    }
    const r = await client.query(
      `INSERT INTO sessions (${PG_SESSION_COLUMNS}) VALUES (${PG_SESSION_PLACEHOLDERS}) ON CONFLICT (id) DO NOTHING`,
      sessionParams({ ...record, last_event_seq: 0, message_count: 0 }),
    );
    if (r.rowCount === 0) throw new TowerError('conflict', `session ${record.id} already exists`, { session_id: record.id });
  }
}

/**
 * The compare-and-set guard of one entry. State set by earlier entries of this batch is not written yet,
 * so it is consulted first; otherwise the row is read under the session row's lock (taken by the UPDATE
 * above), which every other commit and compareAndSetState on this session also takes.
 */
async function checkState(
  client: pg.ClientBase,
  id: string,
  expected: Record<string, string | null>,
  pending: Map<string, string | null> | undefined,
): Promise<void> {
  for (const [key, value] of Object.entries(expected)) {
    let current: string | null;
    if (pending?.has(key)) current = pending.get(key) ?? null;
    else {
      const { rows } = await client.query<{ value: string }>(
        'SELECT value FROM session_state WHERE session_id = $1 AND key = $2',
        [id, key],
      );
      current = rows[0] ? fromPgText(rows[0].value) : null;
    }
    if (current !== value) {
      throw new TowerError('conflict', `state ${key} of session ${id} changed concurrently`, { session_id: id, key });
    }
  }
}
