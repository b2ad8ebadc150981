import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env, Hono, MiddlewareHandler, Schema } from 'hono';

/**
 * The dashboard's built files (web/ → dist/web), served same-origin beside the API. Hashed assets are
 * immutable; index.html is revalidated on every load so a new build is picked up at once. Scripts may
 * come from this origin only (no inline script: the build emits none).
 */

/** Paths the dashboard never answers, even for a browser asking for HTML: they belong to the API. */
/** Server paths the dashboard never answers. `/runners` itself is the dashboard's Runners page; the gateway is `/runners/ws`. */
export const RESERVED_PREFIXES = ['/api', '/hub', '/runners/ws', '/health', '/ready', '/metrics', '/openapi.json'];

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // uPlot and React set element styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** dist/web of this package, whether running from src/ (tsx) or dist/. */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL('../../../dist/web/', import.meta.url));
}

const isReserved = (p: string): boolean => RESERVED_PREFIXES.some((r) => p === r || p.startsWith(`${r}/`) || (r === '/api' && p.startsWith('/api?')));

/** Vite names built assets `name-<hash>.ext` under assets/: those never change under the same name. */
const isHashed = (rel: string): boolean => rel.startsWith('assets/') && /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/.test(rel);

function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
}

export interface DashboardOptions {
  root?: string;
}

/** The middleware itself; a missing build (no index.html) serves nothing, so the API still works. */
export function dashboardMiddleware(opts: DashboardOptions = {}): MiddlewareHandler | undefined {
  const root = path.resolve(opts.root ?? defaultWebRoot());
  const indexFile = path.join(root, 'index.html');
  if (!existsSync(indexFile)) return undefined;
  const cache = new Map<string, Buffer>();
  const load = async (file: string): Promise<Buffer | undefined> => {
    const hit = cache.get(file);
    if (hit) return hit;
    try {
      if (!(await stat(file)).isFile()) return undefined;
      const body = await readFile(file);
      cache.set(file, body);
      return body;
    } catch {
      return undefined;
    }
  };
  const send = (file: string, body: Buffer, method: string, cacheControl: string): Response => {
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    const headers = { 'content-type': type, 'cache-control': cacheControl, 'content-length': String(body.length), ...securityHeaders() };
    return new Response(method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
  };

  return async (c, next) => {
    const method = c.req.method;
    const urlPath = c.req.path;
    if ((method !== 'GET' && method !== 'HEAD') || isReserved(urlPath)) return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return next();
    }
    const rel = path.posix.normalize(decoded).replace(/^\/+/, '');
    const file = path.join(root, rel);
    if (rel !== '' && !rel.includes('\0') && file.startsWith(root + path.sep)) {
      const body = await load(file);
      if (body) {
        const cacheControl = isHashed(rel) ? 'public, max-age=31536000, immutable' : rel === 'index.html' ? 'no-cache' : 'public, max-age=300';
        return send(file, body, method, cacheControl);
      }
    }
    // A file-like path that is not there is a real 404; so is any path asked for by something other
    // than a browser navigation (API clients keep their JSON 404). The rest is a client route of the app.
    if (path.posix.extname(rel) !== '' && rel !== 'index.html') return next();
    if (rel !== '' && !(c.req.header('accept') ?? '').includes('text/html')) return next();
    const index = await load(indexFile);
    if (!index) return next();
    return send(indexFile, index, method, 'no-cache');
  };
}

/** Registers the dashboard on `app` (call last: routes registered earlier take their paths first). */
export function registerDashboard<E extends Env, S extends Schema>(app: Hono<E, S, '/'>, opts: DashboardOptions = {}): void {
  const handler = dashboardMiddleware(opts);
  if (handler) app.use('*', handler);
}
