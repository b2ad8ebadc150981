import type { z } from 'zod';
import { TowerApiError, TowerConnectionError, TowerProtocolError, isAbortError } from './errors.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  /** Base URL of the Tower server, e.g. `http://127.0.0.1:7420`. */
  url: string;
  /** Bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A fetch implementation; the global one by default. */
  fetch?: FetchLike;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * The one place that talks HTTP: builds URLs, adds the token, maps failures to the client's error types
 * and validates JSON responses against the protocol schemas.
 */
export class HttpTransport {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: FetchLike;

  constructor(options: HttpOptions) {
    // Parse once so a malformed URL fails at construction, not on the first call.
    this.baseUrl = new URL(options.url).toString().replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends a request and returns the body parsed with `schema`; non-2xx throws `TowerApiError`. */
  async json<S extends z.ZodType>(method: string, path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new TowerProtocolError(`${method} ${path}: response is not JSON (status ${response.status})`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? ` at ${first.path.join('.') || '(root)'}: ${first.message}` : '';
      throw new TowerProtocolError(`${method} ${path}: unexpected response shape${where}`);
    }
    return parsed.data;
  }

  /** Sends a request and returns the raw 2xx response (for streams); non-2xx throws `TowerApiError`. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = this.urlFor(path, options.query);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    let response: Response;
    try {
      response = await this.fetchImpl(url, init);
    } catch (error) {
      if (isAbortError(error)) throw error;
      // A pooled keep-alive socket the server closed (after its restart, say) fails at once with
      // "other side closed". A GET is safe to send again on a fresh socket; anything else is not.
      if (!(method === 'GET' && isStaleSocket(error))) throw TowerConnectionError.fromFetchFailure(this.baseUrl, error);
      try {
        response = await this.fetchImpl(url, init);
      } catch (retryError) {
        if (isAbortError(retryError)) throw retryError;
        throw TowerConnectionError.fromFetchFailure(this.baseUrl, retryError);
      }
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw TowerApiError.fromResponse(response.status, response.statusText, text, response.headers.get('retry-after'));
    }
    return response;
  }

  private urlFor(path: string, query: RequestOptions['query']): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }
}

const STALE_SOCKET_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

function isStaleSocket(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && STALE_SOCKET_CODES.has(code);
}
