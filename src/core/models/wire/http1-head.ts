/** An Error carrying a node-style `code` (as node:http's own errors do; `mapModelError` reads it). */
export const codeError = (message: string, code: string): Error => Object.assign(new Error(message), { code });

/** A response's status line and headers (names lower-case, repeated headers joined with ", "). */
export interface Http1Head {
  status: number;
  statusText: string;
  headers: Record<string, string>;
}

/** The blank line that ends a head (bare LF tolerated, as llhttp tolerates it). */
const HEAD_END = /\r?\n\r?\n/g;

/**
 * Where the head in `text` ends: `[end of the headers, start of the body]`, or undefined. `searched` is
 * how much of `text` an earlier call already searched: only the last 3 characters of it can begin the
 * blank line, so a head dripped in byte by byte costs linear time, not quadratic.
 */
export function headEnd(text: string, searched: number): [number, number] | undefined {
  HEAD_END.lastIndex = Math.max(0, searched - 3);
  const end = HEAD_END.exec(text);
  return end === null ? undefined : [end.index, end.index + end[0].length];
}

/** A head that cannot become an HTTP/1.x status line is refused at once, not after 64 KiB or the close. */
export function notHttp(text: string): Error | undefined {
  const start = text.slice(0, 5);
  return 'HTTP/'.startsWith(start) ? undefined : badStatusLine(text);
}

const badStatusLine = (text: string): Error =>
  codeError(`not an HTTP/1.x response from the model server: ${JSON.stringify(text.split(/\r?\n/, 1)[0]!.slice(0, 100))}`, 'HPE_INVALID_CONSTANT');

/** Parses a head (the text before its blank line); `minor` is the HTTP/1.x minor version. */
export function parseHead(text: string): { minor: number; head: Http1Head } | Error {
  const lines = text.split(/\r?\n/);
  const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0] as string);
  if (status === null) return badStatusLine(text);
  // No prototype: a header named `constructor` or `__proto__` is a header like any other.
  const headers = Object.create(null) as Record<string, string>;
  let last: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return codeError(`malformed response header from the model server: ${JSON.stringify(line.slice(0, 100))}`, 'HPE_INVALID_HEADER_TOKEN');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    last = name;
  }
  return { minor: Number(status[1]), head: { status: Number(status[2]), statusText: status[3] ?? '', headers } };
}

/**
 * Servers close idle keep-alive connections on their own clock (node's default 5 s); a request sent
 * just as one closes fails. This much before the end a server announces (`Keep-Alive: timeout=N`) the
 * connection is no longer reused: node's agent keeps the same 1 s margin, undici 1-2 s.
 */
const KEEP_ALIVE_MARGIN_MS = 1_000;

/**
 * How long a connection may stay idle after this response, given `idleMs` of our own: the server's
 * `Keep-Alive: timeout=N` (seconds, anywhere in the list) less the margin when that is shorter; 0
 * when the server's timeout is too short to reuse the connection at all.
 */
export function keepAliveIdleMs(hint: string | undefined, idleMs: number): number {
  const timeout = hint === undefined ? null : /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})\b/i.exec(hint);
  if (timeout === null) return idleMs;
  return Math.max(0, Math.min(idleMs, Number(timeout[1]) * 1000 - KEEP_ALIVE_MARGIN_MS));
}
