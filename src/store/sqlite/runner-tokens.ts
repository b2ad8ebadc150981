import type Database from 'better-sqlite3';
import { TowerError } from '../../protocol/errors.js';
import type { ConnectionAccess } from './main-writes.js';
import { runnerTokenFromRow, type RunnerTokenRow, type RunnerTokenStore, type StoredRunnerTokenRow } from '../runner-tokens.js';

type Row = StoredRunnerTokenRow;

const fromRow = runnerTokenFromRow;

/** SQLite runner tokens (migration 10), on the store's own connection (writes through `MainWrites`). */
export class SqliteRunnerTokens implements RunnerTokenStore {
  private readonly insert;
  private readonly list;
  private readonly byHash;
  private readonly revoke;

  constructor(db: Database.Database, private readonly access: ConnectionAccess) {
    this.insert = db.prepare<[string, string, string, string, string]>(
      'INSERT INTO runner_tokens (id, name, labels, token_hash, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.list = db.prepare<[], Row>('SELECT id, name, labels, created_at, revoked_at FROM runner_tokens ORDER BY created_at, id');
    this.byHash = db.prepare<[string], Row>('SELECT id, name, labels, created_at, revoked_at FROM runner_tokens WHERE token_hash = ? AND revoked_at IS NULL');
    this.revoke = db.prepare<[string, string]>('UPDATE runner_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  }

  async createRunnerToken(row: Omit<RunnerTokenRow, 'revoked_at'> & { token_hash: string }): Promise<void> {
    return this.access.write(() => {
      if (this.insert.run(row.id, row.name, JSON.stringify(row.labels), row.token_hash, row.created_at).changes === 0) {
        throw new TowerError('conflict', `runner token ${row.id} (or its hash) exists already`);
      }
    });
  }

  async listRunnerTokens(): Promise<RunnerTokenRow[]> {
    return this.access.read(() => this.list.all().map(fromRow));
  }

  async findRunnerTokenByHash(tokenHash: string): Promise<RunnerTokenRow | undefined> {
    return this.access.read(() => {
      const row = this.byHash.get(tokenHash);
      return row ? fromRow(row) : undefined;
    });
  }

  async revokeRunnerToken(id: string, at: string): Promise<boolean> {
    return this.access.write(() => this.revoke.run(at, id).changes > 0);
  }
}
