/**
 * Request capture: the provider builds a step's request (URL, headers, JSON body) exactly as it would
 * send it, and Tower sends it itself. Every provider Tower creates gets `capturingFetch` as its `fetch`
 * (the AI SDK's documented interception point); it forwards to `globalThis.fetch`, unless the call's
 * abort signal is one `captureRequest` registered: then it hands the request over and rejects with a
 * private sentinel, before any I/O.
 */

/** A provider's HTTP request, as its own `doStream` built it. */
export interface WireRequest {
  url: string;
  /** Lower-case names (the provider normalises them). */
  headers: Record<string, string>;
  body: string;
}

const pending = new WeakMap<AbortSignal, (request: WireRequest) => void>();

class Captured extends Error {
  constructor() {
    super('request captured by Tower (never sent by the provider)');
    this.name = 'TowerCapturedRequest';
  }
}

export const capturingFetch: typeof globalThis.fetch = (input, init) => {
  const take = init?.signal ? pending.get(init.signal) : undefined;
  // Read at call time, so a test that replaces `globalThis.fetch` still sees the provider's calls.
  if (take === undefined) return globalThis.fetch(input, init);
  const request = toWireRequest(input, init);
  // A shape this module does not know (a future provider version): sent as the provider meant it.
  if (request === undefined) return globalThis.fetch(input, init);
  take(request);
  return Promise.reject(new Captured());
};

function toWireRequest(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): WireRequest | undefined {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const { headers, body } = init ?? {};
  if (url === undefined || typeof body !== 'string' || typeof headers !== 'object' || headers === null) return undefined;
  const flat: Record<string, string> = {};
  if (headers instanceof Headers) headers.forEach((value, name) => (flat[name] = value));
  else if (Array.isArray(headers)) for (const [name, value] of headers) flat[String(name).toLowerCase()] = String(value);
  else for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') flat[name.toLowerCase()] = value;
  return { url, headers: flat, body };
}

/**
 * Runs `call(signal)` (a provider's `doStream`) with a signal registered for capture. Resolves with the
 * request when the provider's fetch was `capturingFetch`; with `{ passthrough }` when the provider sent
 * the request some other way (a model Tower did not build) and answered: that result is live and the
 * caller reads it. Rejects as the provider does when it fails before sending (e.g. a prompt it refuses).
 * `signal` (the step's) aborts a passthrough call too.
 */
export async function captureRequest<R>(
  call: (signal: AbortSignal) => PromiseLike<R>,
  signal: AbortSignal,
): Promise<{ request: WireRequest } | { passthrough: R }> {
  const controller = new AbortController();
  const follow = () => controller.abort(signal.reason);
  signal.addEventListener('abort', follow, { once: true });
  let captured: WireRequest | undefined;
  pending.set(controller.signal, (request) => (captured = request));
  try {
    const passthrough = await call(controller.signal);
    return { passthrough };
  } catch (error) {
    if (captured !== undefined) return { request: captured };
    throw error;
  } finally {
    pending.delete(controller.signal);
    signal.removeEventListener('abort', follow);
  }
}
