/**
 * The plain-http client's idle connections per origin (`http1.ts`). Hundreds of model streams end within
 * one token period when many turns started together; their connections all come back at once and, with
 * a timer each, all expired (and were destroyed) in one timers phase 4 s later: a ~50 ms stall for 500
 * (`bench/RESULTS.md`, wave 9 z9). Here no connection is closed in the release path or by a timer of its
 * own: one unref'd sweep a second looks at every origin, and the connections to close (expired, ended
 * by the server, or over the free limit) leave the pool at once but are destroyed `CLOSE_SLICE` per
 * loop turn.
 *
 * Free limit per origin: as many as were in use at once over the last two sweeps (a turn-end burst
 * keeps all of its connections for the next requests), never over `limits.hardCap`.
 */

/** What the pool needs of a connection. */
export interface Pooled {
  readonly key: string;
  /** Not ended by the server, not past its idle time (`performance.now()`). */
  reusable(now: number): boolean;
  /** Out of the pool: the socket is destroyed. */
  close(): void;
}

/** Tunables (tests shrink them). */
export const limits = {
  /** Idle connections kept per origin, whatever the recent concurrency. */
  hardCap: 1024,
  /** Connections destroyed per loop turn. */
  closeSlice: 32,
  /** The sweep's period (expiry is checked at reuse too, so this only bounds how long a dead socket lingers). */
  sweepMs: 1_000,
};

class Origin {
  /** Idle connections, oldest first (reuse takes the newest). */
  readonly idle: Pooled[] = [];
  /** Exchanges in flight. */
  active = 0;
  /** Most in flight at once since the last sweep, and over the sweep period before it. */
  peak = 0;
  private previous = 0;

  /** The free limit: recent concurrency, under the hard cap. */
  limit(): number {
    return Math.min(limits.hardCap, Math.max(this.peak, this.previous, this.active));
  }

  rotate(): void {
    this.previous = this.peak;
    this.peak = this.active;
  }
}

const origins = new Map<string, Origin>();
/** Out of the pool, to be destroyed a slice per turn. */
const closing: Pooled[] = [];
let sweepTimer: NodeJS.Timeout | undefined;
let closer: NodeJS.Immediate | undefined;

const origin = (key: string): Origin => {
  let o = origins.get(key);
  if (o === undefined) origins.set(key, (o = new Origin()));
  return o;
};

/** An exchange starts on an origin (on a new or a reused connection). */
export function exchangeStarted(key: string): void {
  const o = origin(key);
  if (++o.active > o.peak) o.peak = o.active;
  // Sweeps run while the origin is in use too, so the limit's window follows the concurrency.
  sweepTimer ??= setTimeout(sweep, limits.sweepMs).unref();
}

export function exchangeEnded(key: string): void {
  const o = origins.get(key);
  if (o !== undefined && o.active > 0) o.active--;
}

/** The newest idle connection that is still usable; the others found on the way go to be closed. */
export function takeIdle(key: string): Pooled | undefined {
  const idle = origins.get(key)?.idle;
  if (idle === undefined) return undefined;
  const now = performance.now();
  let conn: Pooled | undefined;
  while ((conn = idle.pop()) !== undefined && !conn.reusable(now)) retire(conn);
  return conn;
}

/** A connection whose exchange ended cleanly and may carry another: kept, or (over the hard cap) closed soon. */
export function putIdle(conn: Pooled): void {
  const o = origin(conn.key);
  if (o.idle.length >= limits.hardCap) return retire(conn);
  o.idle.push(conn);
}

/** Out of the pool now (no reuse), destroyed within a few turns. */
export function retire(conn: Pooled): void {
  dropIdle(conn);
  closing.push(conn);
  closer ??= setImmediate(closeSome).unref();
}

/** Out of the pool (the connection is closing on its own, or is being reused). */
export function dropIdle(conn: Pooled): void {
  const idle = origins.get(conn.key)?.idle;
  const at = idle?.lastIndexOf(conn) ?? -1;
  if (at >= 0) idle!.splice(at, 1);
}

/** Every idle and retiring connection, now (tests, shutdown). */
export function closeAll(): void {
  const all = closing.splice(0);
  for (const [key, o] of origins) {
    all.push(...o.idle.splice(0));
    if (o.active === 0) origins.delete(key);
  }
  for (const conn of all) conn.close();
  clearTimeout(sweepTimer);
  sweepTimer = undefined;
  if (closer !== undefined) clearImmediate(closer);
  closer = undefined;
}

/** Idle connections of an origin (tests, diagnostics). */
export function idleCount(key: string): number {
  return origins.get(key)?.idle.length ?? 0;
}

/** Expired ones and those over the free limit (oldest first) leave the pool; the limit's window moves on. */
function sweep(): void {
  sweepTimer = undefined;
  const now = performance.now();
  let left = false;
  for (const [key, o] of origins) {
    const { idle } = o;
    const keep = idle.filter((conn) => conn.reusable(now) || void closing.push(conn));
    const surplus = keep.length - o.limit();
    if (surplus > 0) closing.push(...keep.splice(0, surplus));
    idle.splice(0, idle.length, ...keep);
    o.rotate();
    if (idle.length > 0 || o.active > 0) left = true;
    else if (o.peak === 0) origins.delete(key);
  }
  if (closing.length > 0) closer ??= setImmediate(closeSome).unref();
  if (left) sweepTimer = setTimeout(sweep, limits.sweepMs).unref();
}

/** Destroys one slice of the retired connections, and asks for another turn if more remain. */
function closeSome(): void {
  closer = undefined;
  for (const conn of closing.splice(0, limits.closeSlice)) conn.close();
  if (closing.length > 0) closer = setImmediate(closeSome).unref();
}
