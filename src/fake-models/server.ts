import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { anthropicFormat } from './anthropic-format.js';
import { openaiFormat } from './openai-format.js';
import { planResponse, type Frame, type WireFormat } from './plan.js';
import { createScriptRunner } from './script.js';
import type { FakeModelServer, FakeServerOptions, ParsedRequest, ScriptResponse } from './types.js';

/** One in-flight response: lets a client disconnect (or `close()`) cut a paced stream short. */
interface Exchange {
  closed: boolean;
  /** Resolves the pending pacing sleep early, if any. */
  wake?: () => void;
}

/**
 * Starts a scripted fake model server on a real `node:http` socket (`node:https` with `options.tls`). It answers `POST /v1/chat/completions`
 * (format `openai`) or `POST /v1/messages` (format `anthropic`), streamed (SSE) or not, and
 * `GET /v1/models`; anything else is a 404 in the provider's error shape.
 */
export async function startFakeModelServer(options: FakeServerOptions): Promise<FakeModelServer> {
  const format: WireFormat = options.format === 'openai' ? openaiFormat : anthropicFormat;
  const runScript = createScriptRunner(options.script);
  const requests: unknown[] = [];
  const headers: IncomingHttpHeaders[] = [];
  const parsed: ParsedRequest[] = [];
  const aborted: number[] = [];
  const exchanges = new Set<Exchange>();
  let closing = false;

  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, format.modelsBody(options.models ?? ['fake-model']));
      return;
    }
    if (req.method !== 'POST' || path !== format.path) {
      sendJson(res, 404, format.errorBody(404, `no route for ${req.method ?? 'GET'} ${path ?? '/'}`));
      return;
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      sendJson(res, 400, format.errorBody(400, 'request body is not valid JSON'));
      return;
    }
    const index = requests.length;
    requests.push(body);
    headers.push(req.headers);
    const request = format.parseRequest(body, index);
    parsed.push(request);

    const exchange: Exchange = { closed: false };
    exchanges.add(exchange);
    res.on('close', () => {
      exchanges.delete(exchange);
      exchange.closed = true;
      exchange.wake?.();
      if (!res.writableFinished && !closing) aborted.push(index);
    });

    const response = await runScript(request);
    if (exchange.closed) return;
    await respond(res, request, response, exchange);
  };

  const respond = async (res: ServerResponse, request: ParsedRequest, response: ScriptResponse, exchange: Exchange) => {
    if (response.error) {
      const { status, message, type, code } = response.error;
      const retryAfter = response.error.retryAfterSeconds ?? (status === 429 ? 1 : undefined);
      const headers: Record<string, string> = { 'request-id': `req_fake_${request.index}` };
      if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
      sendJson(res, status, format.errorBody(status, message, type, code), headers);
      return;
    }
    const plan = planResponse(request, response);
    if (!request.stream) {
      if (response.hang) return; // headers never come: the client can only give up
      if (plan.streamError) sendJson(res, 500, format.errorBody(500, plan.streamError.message, plan.streamError.type));
      else sendJson(res, 200, format.completion(plan));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const frames = format.streamFrames(plan, request.body, !response.hang);
    const tokensPerSecond = response.tokensPerSecond ?? options.tokensPerSecond;
    const delayMs = tokensPerSecond !== undefined && tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
    await writeFrames(res, frames, delayMs, exchange, options.pause, (text) =>
      options.onChunkWritten?.(text, process.hrtime.bigint(), request.index),
    );
    if (!exchange.closed && !response.hang) res.end();
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendJson(res, 500, format.errorBody(500, `fake model server failed: ${message}`));
      else res.destroy();
    });
  };
  const server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : createServer(onRequest);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;

  return {
    format: options.format,
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}/v1`,
    requests,
    headers,
    parsed,
    aborted,
    close: async () => {
      closing = true;
      for (const exchange of exchanges) {
        exchange.closed = true;
        exchange.wake?.();
      }
      // Hanging streams would keep `server.close()` waiting forever.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function startFakeOpenAI(options: Omit<FakeServerOptions, 'format'>): Promise<FakeModelServer> {
  return startFakeModelServer({ ...options, format: 'openai' });
}

export function startFakeAnthropic(options: Omit<FakeServerOptions, 'format'>): Promise<FakeModelServer> {
  return startFakeModelServer({ ...options, format: 'anthropic' });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Writes frames in order. With a delay, each content frame after the first waits its turn, so a client
 * sees chunks at the scripted rate; a closed connection stops the writing and wakes any pending sleep.
 */
async function writeFrames(
  res: ServerResponse,
  frames: Frame[],
  delayMs: number,
  exchange: Exchange,
  pause: ((ms: number) => Promise<void>) | undefined,
  onContent: (text: string) => void,
): Promise<void> {
  let contentSeen = false;
  for (const frame of frames) {
    if (frame.content !== undefined && contentSeen && delayMs > 0) await sleep(delayMs, exchange, pause);
    if (exchange.closed) return;
    res.write(frame.data);
    if (frame.content !== undefined) {
      contentSeen = true;
      onContent(frame.content);
    }
  }
}

function sleep(ms: number, exchange: Exchange, pause: ((ms: number) => Promise<void>) | undefined): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const wake = () => {
      clearTimeout(timer);
      exchange.wake = undefined;
      resolve();
    };
    exchange.wake = wake;
    if (pause) void pause(ms).then(wake, wake);
    else timer = setTimeout(wake, ms);
  });
}
