import { APICallError } from 'ai';

/**
 * Redirects of a model request, followed as the AI SDK's `fetch` (undici, `redirect: 'follow'`) follows
 * them, so a `base_url` that redirects works on the wire path as it did through the provider: 307 and 308
 * resend the same request; 301 and 302 of a POST, and 303, turn it into a GET without its body (the
 * Fetch standard); at most 20 hops. Unlike `fetch`, every credential header is dropped when the
 * redirect leaves the origin: `fetch` drops only `authorization`, and Anthropic's key travels as
 * `x-api-key`.
 */
export interface Hop {
  url: string;
  method: 'POST' | 'GET';
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Undefined once a redirect turned the request into a GET. */
  body: string | undefined;
}

export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
/** `fetch`'s own limit. */
export const MAX_REDIRECTS = 20;

/** Headers that carry a credential: never sent to another origin than the one they were given for. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key', 'cookie'];
/** Headers that describe the body, dropped with it (the Fetch standard's "request-body-header names"). */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length'];

/** The next request after a `status` redirect to `location`; throws when it must not be followed. */
export function redirectHop(hop: Hop, status: number, location: string, redirects: number): Hop {
  if (redirects >= MAX_REDIRECTS) throw redirectError(hop.url, status, `the model server redirected more than ${MAX_REDIRECTS} times`);
  let next: URL;
  try {
    next = new URL(location, hop.url);
  } catch {
    throw redirectError(hop.url, status, `the model server redirected to an invalid URL: ${location}`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw redirectError(hop.url, status, `the model server redirected to a ${next.protocol} URL`);
  }
  const headers = { ...hop.headers };
  if (next.origin !== new URL(hop.url).origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
  const toGet = status === 303 || ((status === 301 || status === 302) && hop.method === 'POST');
  if (!toGet) return { url: next.href, method: hop.method, headers, body: hop.body };
  for (const name of BODY_HEADERS) delete headers[name];
  return { url: next.href, method: 'GET', headers, body: undefined };
}

function redirectError(url: string, status: number, message: string): APICallError {
  return new APICallError({ message, url, requestBodyValues: undefined, statusCode: status, isRetryable: false });
}
