import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * How tests find PostgreSQL: `TOWER_TEST_PG_URL`, else the local server (127.0.0.1:5432, database
 * `test`, trust auth as user postgres). Unreachable is a failure, not a skip, unless
 * `TOWER_TEST_NO_POSTGRES=1` opts out explicitly.
 */
export const TEST_PG_URL = process.env.TOWER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NO_POSTGRES = process.env.TOWER_TEST_NO_POSTGRES === '1';

/** A schema name unique to this process and call, so parallel runs never share tables. */
export function uniqueSchema(tag: string): string {
  return `tower_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function assertPostgresReachable(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL not reachable at ${TEST_PG_URL} (${(err as Error).message}). Start it, point ` +
        'TOWER_TEST_PG_URL at one, or set TOWER_TEST_NO_POSTGRES=1 to skip the Postgres tests on purpose.',
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs `work` on a client of its own whose search_path is `schema`, ended after. */
export async function withSchemaClient<T>(schema: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
