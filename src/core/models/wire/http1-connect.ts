import net from 'node:net';
import tls from 'node:tls';

/**
 * How the model client (`http1.ts`) opens a connection: `net.connect` for `http:`, `tls.connect` for
 * `https:`. Both hand every read to `onread` (node supports it on a TLSSocket too: the decrypted bytes
 * land in the given buffer, no Readable in between).
 *
 * TLS as node's https agent sets it up: certificate verification on (`rejectUnauthorized`), the host
 * name (or IP) checked against the certificate (`tls.checkServerIdentity`), SNI = the host unless it is
 * an IP (RFC 6066 forbids IPs there, and node's agent leaves them out), ALPN `http/1.1` (the only
 * protocol this client speaks), TLS sessions kept per origin for resumption (the agent keeps them too),
 * and node's default CA store: its bundled roots plus `NODE_EXTRA_CA_CERTS` (or the system store under
 * `--use-openssl-ca` / `--use-system-ca`), since no `ca` is passed. Proxy variables (`HTTPS_PROXY`,
 * `HTTP_PROXY`) are not read, as node 20's agents and the AI SDK's fetch do not read them.
 */

/** The origin a connection is pooled under: scheme, host and port (`https://api.openai.com:443`). */
export function originKey(url: URL): string {
  return `${url.protocol}//${url.hostname}:${url.port || defaultPort(url)}`;
}

const defaultPort = (url: URL): number => (url.protocol === 'https:' ? 443 : 80);

/**
 * The TLS context every `https:` connection shares: built once (a context per connection re-reads the
 * CA store into a new OpenSSL context, as `tls.connect` does without one). `undefined`: not built yet.
 */
let context: tls.SecureContext | undefined;
/** The CA a test installed instead of the default store (`trustModelCa`). */
let testCa: string | Buffer | undefined;

/**
 * Tests: trust `ca` (a PEM certificate) instead of node's default CA store, in this client and in the
 * node:https reference path (`http.ts`); `undefined` restores the default. Never used outside tests:
 * production trust is node's own (`NODE_EXTRA_CA_CERTS` adds a private CA).
 */
export function trustModelCa(ca: string | Buffer | undefined): void {
  testCa = ca;
  context = undefined;
  sessions.clear();
}

/** What node:https needs for the same trust (`http.ts`'s reference path). */
export function nodeTlsOptions(): { ca?: string | Buffer } {
  return testCa === undefined ? {} : { ca: testCa };
}

/** TLS sessions per origin, newest one each (resumption skips the certificate exchange). */
const sessions = new Map<string, Buffer>();
/** As node's agent (`maxCachedSessions`). */
const MAX_SESSIONS = 100;

function keepSession(key: string, session: Buffer): void {
  sessions.delete(key);
  sessions.set(key, session);
  if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
}

/**
 * A connection to `url`'s origin (`key`, `originKey(url)`) whose reads go to `onread`. `handshaking`
 * is told when a TLS connection's TCP connection is up (true) and when its handshake is done (false).
 */
export function connect(url: URL, key: string, onread: net.OnReadOpts, handshaking: (yes: boolean) => void): net.Socket {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = Number(url.port || defaultPort(url));
  if (url.protocol !== 'https:') return net.connect({ host, port, onread });
  context ??= tls.createSecureContext(testCa === undefined ? {} : { ca: testCa });
  // `onread` is a documented `tls.connect` option (node >= 14) that @types/node leaves out.
  const options: tls.ConnectionOptions & { onread: net.OnReadOpts } = {
    host,
    port,
    onread,
    secureContext: context,
    servername: net.isIP(host) === 0 ? host : undefined,
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: true,
    session: sessions.get(key),
  };
  const socket = tls.connect(options);
  socket.on('session', (session: Buffer) => keepSession(key, session));
  socket.once('connect', () => handshaking(true));
  socket.once('secureConnect', () => handshaking(false));
  return socket;
}

/**
 * A failure before the TLS handshake completed (the TCP connection was up: the certificate was refused,
 * the host name did not match, the server spoke no TLS or hung up) says so, with node's code kept
 * (`DEPTH_ZERO_SELF_SIGNED_CERT`, `ERR_TLS_CERT_ALTNAME_INVALID`, ...: `mapModelError` makes
 * `model_error` of the certificate ones, as of the same failure on the AI SDK's path, and keeps
 * `network_error` for a reset). The session that led to it is forgotten, as node's agent forgets it.
 */
export function handshakeError(key: string, error: Error & { code?: string }): Error & { code?: string } {
  sessions.delete(key);
  const code = error.code ?? 'ECONNRESET';
  return Object.assign(new Error(`the TLS handshake with ${key} failed: ${error.message} (${code})`, { cause: error }), { code });
}
