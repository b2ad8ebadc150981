/** A runner token as stored: the token itself is never kept, only its sha256 (hex). */
export interface RunnerTokenRow {
  id: string;
  name: string;
  labels: string[];
  created_at: string;
  revoked_at: string | null;
}

/**
 * Runner tokens, kept beside the sessions. A separate interface from `Store`, so backends that do not
 * serve runners yet still satisfy `Store`; `describeRunnerTokenConformance` pins the behaviour.
 */
export interface RunnerTokenStore {
  /** `conflict` when the id or the hash exists already. */
  createRunnerToken(row: Omit<RunnerTokenRow, 'revoked_at'> & { token_hash: string }): Promise<void>;
  /** Every token, revoked ones included, oldest first. Never returns hashes. */
  listRunnerTokens(): Promise<RunnerTokenRow[]>;
  /** The live (not revoked) token with this hash. */
  findRunnerTokenByHash(tokenHash: string): Promise<RunnerTokenRow | undefined>;
  /** Marks a token revoked; false when there is no such live token. */
  revokeRunnerToken(id: string, at: string): Promise<boolean>;
}

/** A runner_tokens row as both backends read it (labels kept as JSON text). */
export interface StoredRunnerTokenRow {
  id: string;
  name: string;
  labels: string;
  created_at: string;
  revoked_at: string | null;
}

export function runnerTokenFromRow(r: StoredRunnerTokenRow): RunnerTokenRow {
  return { id: r.id, name: r.name, labels: JSON.parse(r.labels) as string[], created_at: r.created_at, revoked_at: r.revoked_at };
}
