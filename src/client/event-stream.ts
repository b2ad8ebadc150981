import { Backoff, sleep } from './backoff.js';
import { TowerApiError, TowerProtocolError } from './errors.js';
import type { HttpTransport } from './http.js';
import { SseReader, type SseMessage } from './sse-reader.js';
import { parseTowerEvent, type TowerEvent } from './tower-event.js';

export interface ReconnectInfo {
  /** 1 for the first retry after a good connection, counting up while retries fail. */
  attempt: number;
  /** How long the stream waits before this retry. */
  delayMs: number;
  /** The resume position sent as `Last-Event-ID`, if any event (or `since`) gave one. */
  lastSeq: number | undefined;
  /** Why the previous connection ended: an error, or `undefined` when the server closed it cleanly. */
  reason: unknown;
}

export interface ResumedInfo {
  /** How many attempts the reconnect took. */
  attempts: number;
  /** The resume position sent as `Last-Event-ID`: the stream goes on after it. */
  lastSeq: number | undefined;
}

export interface EventStreamOptions {
  /** Deliver the events after this seq. Omitted: the server decides where a fresh stream starts. */
  since?: number;
  /** Aborting ends the iteration quietly (no throw). */
  signal?: AbortSignal;
  /** Reconnect after a dropped connection or a server restart (default true). */
  reconnect?: boolean;
  onReconnect?: (info: ReconnectInfo) => void;
  /** A reconnect succeeded: the server answered with the stream again, resuming after `lastSeq`. */
  onResumed?: (info: ResumedInfo) => void;
  /** Treat the connection as dead after this long without a byte; the server pings every 15 s. */
  idleTimeoutMs?: number;
  /**
   * First reconnect delay; doubles per failed attempt. Default: the server's `retry:` field if it sent
   * one (it is the server's lever to slow clients down), else 250 ms.
   */
  initialDelayMs?: number;
  /** Longest reconnect delay (default 5 s). */
  maxDelayMs?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 45_000;

/**
 * Follows a session's event log over SSE, reconnecting with backoff and resuming with `Last-Event-ID`,
 * so the caller sees every event once and in order across disconnects and server restarts. Ends after
 * `session_deleted` or on abort; throws `TowerApiError` for a 4xx that retrying cannot fix (401, 404)
 * and `TowerProtocolError` for a stream that is not Tower's.
 */
export async function* followEvents(
  http: HttpTransport,
  sessionId: string,
  options: EventStreamOptions = {},
): AsyncGenerator<TowerEvent, void, undefined> {
  const { signal } = options;
  const reconnect = options.reconnect ?? true;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const backoff = new Backoff(options.initialDelayMs, options.maxDelayMs);
  const path = `/api/sessions/${encodeURIComponent(sessionId)}/events`;
  let lastSeq = options.since;
  // Attempts since the last good connection; 0 for the first connection.
  let retries = 0;

  while (!signal?.aborted) {
    let reason: unknown;
    let parser: SseReader | undefined;
    // One controller per connection: it ends the request on outer abort, on idle timeout, and when the
    // consumer stops iterating (the `finally` below runs on `return()`).
    const connection = new AbortController();
    const forwardAbort = () => connection.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastSeq !== undefined) headers['last-event-id'] = String(lastSeq);
      const response = await http.send('GET', path, { headers, signal: connection.signal });
      const contentType = response.headers.get('content-type') ?? '';
      if (!contentType.includes('text/event-stream')) {
        throw new TowerProtocolError(`GET ${path}: expected text/event-stream, got ${contentType || 'no content type'}`);
      }
      backoff.reset();
      if (retries > 0) options.onResumed?.({ attempts: retries, lastSeq });
      retries = 0;
      parser = new SseReader();
      for await (const message of readMessages(response, parser, connection, idleTimeoutMs)) {
        const event = parseMessage(message);
        if (lastSeq !== undefined && event.seq <= lastSeq) continue;
        lastSeq = event.seq;
        yield event;
        if (event.type === 'session_deleted') return;
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (isFatal(error) || !reconnect) throw error;
      reason = error;
    } finally {
      signal?.removeEventListener('abort', forwardAbort);
      connection.abort();
    }
    if (!reconnect) return;
    if (parser?.retry !== undefined && options.initialDelayMs === undefined) backoff.setInitial(parser.retry);
    const delayMs = backoff.next();
    retries += 1;
    options.onReconnect?.({ attempt: backoff.attempts, delayMs, lastSeq, reason });
    if (!(await sleep(delayMs, signal))) return;
  }
}

/** Errors a reconnect cannot fix. 408 and 429 are transient; 5xx means the server is (re)starting. */
function isFatal(error: unknown): boolean {
  if (error instanceof TowerProtocolError) return true;
  if (error instanceof TowerApiError) {
    return error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
  }
  return false;
}

function parseMessage(message: SseMessage): TowerEvent {
  let value: unknown;
  try {
    value = JSON.parse(message.data);
  } catch {
    throw new TowerProtocolError(`event data is not JSON (id ${message.id || 'none'})`);
  }
  return parseTowerEvent(value);
}

class IdleTimeoutError extends Error {
  override readonly name = 'IdleTimeoutError';
}

/** Reads SSE messages off a response; aborts the connection when no byte arrives for `idleMs`. */
async function* readMessages(
  response: Response,
  parser: SseReader,
  connection: AbortController,
  idleMs: number,
): AsyncGenerator<SseMessage, void, undefined> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let idled = false;
  try {
    for (;;) {
      // The timer runs only while waiting on the network, so a slow consumer does not count as idle.
      const timer = setTimeout(() => {
        idled = true;
        connection.abort();
      }, idleMs);
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw idled ? new IdleTimeoutError(`no data for ${idleMs} ms`, { cause: error }) : error;
      } finally {
        clearTimeout(timer);
      }
      if (chunk.done) return;
      yield* parser.push(chunk.value);
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
