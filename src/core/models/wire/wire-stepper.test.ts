/**
 * What only the wire path has: a raw SSE server for failures the fake servers do not produce (a body cut
 * mid-stream, an error body that is not JSON), and the AI SDK fallback for a model that does not send
 * through Tower's fetch.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { collect } from '../../../fake-models/testing/rig.js';
import { createModelRegistry, type ModelRegistry } from '../registry.js';
import type { ResolvedLanguageModel } from '../providers.js';
import type { StepRequest } from '../types.js';
import { WireStepper } from './wire-stepper.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A server that answers every POST with `answer`; resolves with the provider base URL. */
async function rawServer(answer: (res: ServerResponse) => void): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

const request = (model: string, signal = new AbortController().signal): StepRequest => ({ model, messages: [{ role: 'user', content: 'hi' }], tools: [], signal });
const registryFor = (type: 'openai-compatible' | 'anthropic', url: string) =>
  createModelRegistry({ config: { providers: { raw: { type, base_url: url, api_key: 'k' } } }, env: {} });

describe('WireStepper over a raw server', () => {
  it('a body cut mid-stream is a network_error after the text that arrived', async () => {
    const url = await rawServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'half' } }] })}\n\n`, () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const parts = await collect(new WireStepper(registryFor('openai-compatible', url)).step(request('raw/m')));
    expect(parts).toEqual([
      { type: 'text', delta: 'half' },
      { type: 'error', code: 'network_error', message: expect.stringContaining('closed the connection') },
    ]);
  });

  it('an error status with a body that is not JSON keeps the status text', async () => {
    const url = await rawServer((res) => {
      res.writeHead(503, 'Service Unavailable', { 'content-type': 'text/html' });
      res.end('<html>busy</html>');
    });
    const parts = await collect(new WireStepper(registryFor('anthropic', url)).step(request('raw/m')));
    expect(parts).toEqual([{ type: 'error', code: 'model_http_error', message: 'HTTP 503: Service Unavailable' }]);
  });

  it('an event split across packets, CRLF line ends and comments parse as one', async () => {
    const event = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'héllo ✓' } }] })}\r\n\r\n`;
    const bytes = Buffer.from(`: keep-alive\r\n${event}data: [DONE]\r\n\r\n`);
    const url = await rawServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // Split inside the multi-byte characters.
      const cut = bytes.indexOf(Buffer.from('✓')) + 1;
      res.write(bytes.subarray(0, cut), () => setTimeout(() => res.end(bytes.subarray(cut)), 10));
    });
    const parts = await collect(new WireStepper(registryFor('openai-compatible', url)).step(request('raw/m')));
    expect(parts[0]).toEqual({ type: 'text', delta: 'héllo ✓' });
    expect(parts.at(-1)).toMatchObject({ type: 'finish', finish_reason: 'unknown' });
  });

  it('characters split across packets after whole ones decode whole, and so do the packets after them', async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const bytes = Buffer.from(`${chunk('ü first')}${chunk('split ✓ here')}${chunk('then é')}${chunk('last')}data: [DONE]\n\n`);
    const cut = bytes.indexOf(Buffer.from('✓')) + 2;
    const url = await rawServer((res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const first = bytes.indexOf(Buffer.from('data: ', 'utf8'), 1);
      res.write(bytes.subarray(0, first), () =>
        setTimeout(() => res.write(bytes.subarray(first, cut), () => setTimeout(() => res.end(bytes.subarray(cut)), 10)), 10),
      );
    });
    const parts = await collect(new WireStepper(registryFor('openai-compatible', url)).step(request('raw/m')));
    expect(parts.filter((p) => p.type === 'text')).toEqual(['ü first', 'split ✓ here', 'then é', 'last'].map((delta) => ({ type: 'text', delta })));
  });

  it('a consumer that leaves early cancels the request', async () => {
    let closed!: () => void;
    const gone = new Promise<void>((resolve) => (closed = resolve));
    const url = await rawServer((res) => {
      res.on('close', closed);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'a' } }] })}\n\n`);
    });
    for await (const part of new WireStepper(registryFor('openai-compatible', url)).step(request('raw/m'))) {
      expect(part).toEqual({ type: 'text', delta: 'a' });
      break;
    }
    await gone; // resolves only once the server saw the connection go
  });
});

describe('WireStepper requests Node refuses to send', () => {
  it('a key with a control character is an error part, not an unhandled rejection', async () => {
    const url = await rawServer((res) => res.end());
    const registry = createModelRegistry({ config: { providers: { raw: { type: 'openai-compatible', base_url: url, api_key: 'bad\u007fkey' } } }, env: {} });
    const stepper = new WireStepper(registry);
    // The first request is the provider's (captured), the second Tower's own: refused alike.
    for (let i = 0; i < 2; i++) {
      const parts = await collect(stepper.step(request('raw/m')));
      expect(parts).toEqual([{ type: 'error', code: 'model_error', message: expect.stringMatching(/invalid character/i) }]);
    }
  });
});

describe('WireStepper fallback', () => {
  it('reads a model that does not send through Tower’s fetch the AI SDK way, once', async () => {
    let calls = 0;
    const model: ResolvedLanguageModel = {
      specificationVersion: 'v2',
      provider: 'memory',
      modelId: 'm',
      supportedUrls: {},
      doGenerate: () => Promise.reject(new Error('not used')),
      doStream: () => {
        calls++;
        return Promise.resolve({
          stream: new ReadableStream({
            start(controller) {
              controller.enqueue({ type: 'text-delta', id: 't', delta: 'from memory' });
              controller.enqueue({ type: 'finish', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 } });
              controller.close();
            },
          }),
        });
      },
    };
    const registry: ModelRegistry = { ...createModelRegistry({ config: {}, env: {} }), languageModel: () => model, providerType: () => 'openai' };
    const parts = await collect(new WireStepper(registry).step(request('mem/m')));
    expect(parts).toEqual([
      { type: 'text', delta: 'from memory' },
      { type: 'finish', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 2, cached_input_tokens: 0 } },
    ]);
    expect(calls).toBe(1);
  });

  it('yields unknown_model for an unconfigured provider and nothing for an aborted signal', async () => {
    const stepper = new WireStepper(createModelRegistry({ config: {}, env: {} }));
    expect(await collect(stepper.step(request('nope/m')))).toEqual([{ type: 'error', code: 'unknown_model', message: expect.stringContaining('nope/m') }]);
    const url = await rawServer((res) => res.end());
    expect(await collect(new WireStepper(registryFor('anthropic', url)).step(request('raw/m', AbortSignal.abort())))).toEqual([]);
  });
});
