import pg from 'pg';
import type { MessagingChange } from '../../protocol/messaging.js';
import { changeFromRow } from '../sqlite/messaging-rows.js';
import { PG_MESSAGING_CHANNEL } from './messaging-schema.js';

/** Changes kept after this node's watchers read them, for slower watchers on other nodes. */
const CHANGE_RETENTION = 10_000;
const PAGE = 500;
/** A lost notification (listener reconnecting) is caught by this poll at the latest. */
const SAFETY_POLL_MS = 1_000;
const RECONNECT_MS = 500;

interface PgChangeRow {
  id: string;
  kind: string;
  ref: string;
  seq: string | null;
}

/**
 * The live side of Postgres messaging: one LISTEN connection per store (not a pooled one), woken by the
 * NOTIFY the change triggers send at commit, on this node or any other, and by this store's own writes;
 * each wake reads `messaging_changes` after the cursor through the pool. Reads are serialized, so
 * listeners get changes once each, in id (= commit) order. A dropped listener connection reconnects and
 * reads what it missed; the slow poll covers the moments it was away.
 */
export class PgChangeFeed {
  private readonly listeners = new Set<(changes: MessagingChange[]) => void>();
  private listener: pg.Client | undefined;
  private poll: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private cursor = 0;
  /** Set while watching: resolves once the cursor holds the newest change at the time watching began. */
  private ready: Promise<void> | undefined;
  private reading = false;
  private again = false;
  private lastPrune = 0;
  private generation = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly listenConfig: pg.ClientConfig,
    private readonly schema: string | undefined,
  ) {}

  watch(listener: (changes: MessagingChange[]) => void): () => void {
    if (this.listeners.size === 0) this.begin();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Before a write: a watch begun just now has its starting cursor, so the write's change is not skipped. */
  async settled(): Promise<void> {
    await this.ready?.catch(() => undefined);
  }

  /** After a write of this store: read without waiting for the notification to come round. */
  poke(): void {
    if (this.listeners.size > 0) setImmediate(() => void this.read());
  }

  stop(): void {
    this.generation++;
    this.ready = undefined;
    if (this.poll) clearInterval(this.poll);
    if (this.reconnect) clearTimeout(this.reconnect);
    this.poll = undefined;
    this.reconnect = undefined;
    const client = this.listener;
    this.listener = undefined;
    client?.removeAllListeners('notification');
    void client?.end().catch(() => undefined);
  }

  private begin(): void {
    const generation = ++this.generation;
    this.ready = this.pool.query<{ id: string | null }>('SELECT MAX(id) AS id FROM messaging_changes').then((r) => {
      if (generation === this.generation) this.cursor = Number(r.rows[0]?.id ?? 0);
    });
    this.ready.catch(() => undefined);
    this.poll = setInterval(() => void this.read(), SAFETY_POLL_MS);
    this.poll.unref();
    void this.connect(generation);
  }

  private async connect(generation: number): Promise<void> {
    const client = new pg.Client(this.listenConfig);
    const retry = (): void => {
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (generation !== this.generation) return;
      if (this.listener === client) this.listener = undefined;
      this.reconnect ??= setTimeout(() => {
        this.reconnect = undefined;
        void this.connect(generation);
      }, RECONNECT_MS);
      this.reconnect.unref();
    };
    client.on('error', retry);
    client.on('end', () => {
      if (this.listener === client) retry();
    });
    try {
      await client.connect();
      const schema = this.schema ?? (await client.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
      client.on('notification', (n) => {
        if (n.channel === PG_MESSAGING_CHANNEL && n.payload === schema) void this.read();
      });
      await client.query(`LISTEN ${PG_MESSAGING_CHANNEL}`);
      if (generation !== this.generation) {
        await client.end();
        return;
      }
      this.listener = client;
      // Whatever committed while there was no listener.
      void this.read();
    } catch {
      retry();
    }
  }

  private async read(): Promise<void> {
    if (this.listeners.size === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    const generation = this.generation;
    try {
      await this.ready;
      do {
        this.again = false;
        for (;;) {
          const { rows } = await this.pool.query<PgChangeRow>(
            'SELECT id, kind, ref, seq FROM messaging_changes WHERE id > $1 ORDER BY id LIMIT $2',
            [this.cursor, PAGE],
          );
          if (generation !== this.generation || rows.length === 0) break;
          this.cursor = Number(rows[rows.length - 1]!.id);
          const changes = rows.map(changeFromPg);
          for (const l of [...this.listeners]) {
            try {
              l(changes);
            } catch {
              // One listener's failure must not cost the others these changes (the cursor has moved).
            }
          }
          if (rows.length < PAGE) break;
        }
      } while (this.again && generation === this.generation);
      if (this.cursor - this.lastPrune > CHANGE_RETENTION) {
        this.lastPrune = this.cursor;
        await this.pool.query('DELETE FROM messaging_changes WHERE id <= $1', [this.cursor - CHANGE_RETENTION]);
      }
    } catch {
      // Store closing, or the database away: the next notification or poll reads again from the cursor.
    } finally {
      this.reading = false;
    }
  }
}

function changeFromPg(row: PgChangeRow): MessagingChange {
  return changeFromRow({ id: Number(row.id), kind: row.kind, ref: row.ref, seq: row.seq === null ? null : Number(row.seq) });
}
