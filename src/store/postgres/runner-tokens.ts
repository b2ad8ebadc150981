import type pg from 'pg';
import { sameDigest } from '../../protocol/digest.js';
import { TowerError } from '../../protocol/errors.js';
import { runnerTokenFromRow, type RunnerTokenRow, type RunnerTokenStore, type StoredRunnerTokenRow } from '../runner-tokens.js';

type Row = StoredRunnerTokenRow;

type Guard = <T>(work: () => Promise<T>) => Promise<T>;

const COLUMNS = 'id, name, labels, created_at, revoked_at';
const fromRow = runnerTokenFromRow;

/**
 * Runner tokens on PostgreSQL (migration 111), shared by every node, so a runner may connect to any of
 * them. Only the token's sha256 is stored; the row found by its index is checked again with a
 * constant-time comparison before it counts.
 */
export class PgRunnerTokens implements RunnerTokenStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly guard: Guard,
  ) {}

  async createRunnerToken(row: Omit<RunnerTokenRow, 'revoked_at'> & { token_hash: string }): Promise<void> {
    await this.guard(async () => {
      const r = await this.pool.query(
        'INSERT INTO runner_tokens (id, name, labels, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [row.id, row.name, JSON.stringify(row.labels), row.token_hash, row.created_at],
      );
      if (r.rowCount === 0) throw new TowerError('conflict', `runner token ${row.id} (or its hash) exists already`);
    });
  }

  async listRunnerTokens(): Promise<RunnerTokenRow[]> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<Row>(`SELECT ${COLUMNS} FROM runner_tokens ORDER BY created_at, id`);
      return rows.map(fromRow);
    });
  }

  async findRunnerTokenByHash(tokenHash: string): Promise<RunnerTokenRow | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<Row & { token_hash: string }>(
        `SELECT ${COLUMNS}, token_hash FROM runner_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
        [tokenHash],
      );
      const row = rows[0];
      if (!row || !sameDigest(row.token_hash, tokenHash)) return undefined;
      return fromRow(row);
    });
  }

  async revokeRunnerToken(id: string, at: string): Promise<boolean> {
    return this.guard(async () => {
      const r = await this.pool.query('UPDATE runner_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, at]);
      return (r.rowCount ?? 0) > 0;
    });
  }
}
