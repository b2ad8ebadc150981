import type { ApiErrorBody } from './types.js';

/** An HTTP answer that was not 2xx: its status and Tower's `{code, message}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  get unavailable(): boolean {
    return this.status === 404 && this.code === 'not_found' && this.message.startsWith('No route');
  }
}

type Listener = () => void;

/** Same-origin fetch with the bearer token; a 401 tells the sign-in screen to show. */
export class Api {
  private unauthorized = new Set<Listener>();
  constructor(private token: string | undefined) {}

  get currentToken(): string | undefined {
    return this.token;
  }

  setToken(token: string | undefined): void {
    this.token = token;
  }

  onUnauthorized(fn: Listener): () => void {
    this.unauthorized.add(fn);
    return () => this.unauthorized.delete(fn);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(path, { ...init, headers: this.headers((init.headers as Record<string, string>) ?? {}) });
    if (res.status === 401) for (const fn of this.unauthorized) fn();
    return res;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await this.raw(path, init);
    const text = await res.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!res.ok) {
      const err = (parsed ?? {}) as Partial<ApiErrorBody>;
      throw new ApiError(res.status, err.code ?? 'http_error', err.message ?? `HTTP ${res.status}`);
    }
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body ?? {});
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  del<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether this token opens the API: 'ok', 'unauthorized', or the server is unreachable ('down'). */
export async function probeAuth(token: string | undefined): Promise<'ok' | 'unauthorized' | 'down'> {
  try {
    const res = await fetch('/api/models', { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.status === 401) return 'unauthorized';
    return res.ok ? 'ok' : 'down';
  } catch {
    return 'down';
  }
}
