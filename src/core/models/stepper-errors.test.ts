import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScriptResponse } from '../../fake-models/types.js';
import { createModelRegistry } from './registry.js';
import { LIST_TOOL, PROVIDER_CASES, STEPPER_KINDS, collect, createStepper, startRig, type Rig } from '../../fake-models/testing/rig.js';

const USER = [{ role: 'user' as const, content: 'hi' }];

describe.each(STEPPER_KINDS)('%s stepper', (kind) => {
  describe.each(PROVIDER_CASES)('errors via $providerType', ({ providerType, format }) => {
    let rig: Rig | undefined;
    afterEach(async () => {
      await rig?.server.close();
      rig = undefined;
    });

    const run = async (response: ScriptResponse) => {
      rig = await startRig(providerType, format, [response], kind);
      return collect(rig.stepper.step({ model: rig.model, messages: USER, tools: [LIST_TOOL], signal: new AbortController().signal }));
    };

    it('maps 429 to rate_limited', async () => {
      const parts = await run({ error: { status: 429, message: 'Rate limit reached, slow down' } });
      expect(parts).toEqual([{ type: 'error', code: 'rate_limited', message: expect.stringContaining('429') }]);
      expect(rig?.server.requests).toHaveLength(1); // maxRetries: 0
    });

    it('maps a 400 about context length to context_too_long', async () => {
      const message =
        format === 'anthropic'
          ? 'prompt is too long: 210000 tokens > 200000 maximum'
          : "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.";
      const parts = await run({ error: { status: 400, message, code: 'context_length_exceeded' } });
      expect(parts).toEqual([{ type: 'error', code: 'context_too_long', message: expect.stringContaining('400') }]);
    });

    it('maps other 400s and 500 to model_http_error with the status', async () => {
      expect(await run({ error: { status: 500, message: 'upstream exploded' } })).toEqual([
        { type: 'error', code: 'model_http_error', message: expect.stringMatching(/500.*upstream exploded/) },
      ]);
      await rig?.server.close();
      expect(await run({ error: { status: 400, message: 'bad field' } })).toEqual([
        { type: 'error', code: 'model_http_error', message: expect.stringContaining('400') },
      ]);
    });

    it('maps an error event inside the stream to an error part after the text', async () => {
      const parts = await run({ text: 'partial answer', stream_error: { message: 'Overloaded', type: 'overloaded_error' } });
      expect(parts.filter((p) => p.type === 'text').length).toBeGreaterThan(0);
      expect(parts.at(-1)).toEqual({ type: 'error', code: 'model_error', message: 'Overloaded' });
      expect(parts.some((p) => p.type === 'finish')).toBe(false);
    });

    it('ends promptly when aborted mid-stream, and the server sees the disconnect', async () => {
      rig = await startRig(providerType, format, [{ text: 'I will never finish this', hang: true }], kind);
      const controller = new AbortController();
      const seen: string[] = [];
      const started = Date.now();
      const iterate = (async () => {
        for await (const part of rig.stepper.step({ model: rig.model, messages: USER, tools: [], signal: controller.signal })) {
          seen.push(part.type);
          if (part.type === 'text' && seen.length === 2) controller.abort();
        }
      })();
      await iterate; // resolves (does not throw) once aborted
      expect(Date.now() - started).toBeLessThan(2000);
      expect(seen).not.toContain('finish');
      expect(seen).not.toContain('error');
      await vi.waitFor(() => expect(rig?.server.aborted).toEqual([0]), { timeout: 2000 });
    });

    it('ends without parts when aborted before any byte arrives', async () => {
      rig = await startRig(providerType, format, [{ hang: true }], kind);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const parts = await collect(rig.stepper.step({ model: rig.model, messages: USER, tools: [], signal: controller.signal }));
      expect(parts.filter((p) => p.type !== 'text')).toEqual([]);
      await vi.waitFor(() => expect(rig?.server.aborted).toEqual([0]), { timeout: 2000 });
    });
  });

  describe('connection and model errors', () => {
    it.each(PROVIDER_CASES)('maps a closed port to network_error ($providerType)', async ({ providerType }) => {
      const port = await freePort();
      const registry = createModelRegistry({
        config: { providers: { dead: { type: providerType, base_url: `http://127.0.0.1:${port}/v1`, api_key: 'k' } } },
        env: {},
      });
      const parts = await collect(
        createStepper(kind, registry).step({ model: 'dead/m', messages: USER, tools: [], signal: new AbortController().signal }),
      );
      expect(parts).toEqual([{ type: 'error', code: 'network_error', message: expect.stringMatching(/ECONNREFUSED|connect/i) }]);
    });

    it('yields unknown_model for an unconfigured provider', async () => {
      const registry = createModelRegistry({ config: {}, env: {} });
      const parts = await collect(
        createStepper(kind, registry).step({ model: 'nope/m', messages: USER, tools: [], signal: new AbortController().signal }),
      );
      expect(parts).toEqual([{ type: 'error', code: 'unknown_model', message: expect.stringContaining('nope/m') }]);
    });

    it('yields nothing for an already aborted signal', async () => {
      const registry = createModelRegistry({ config: {}, env: {} });
      const parts = await collect(createStepper(kind, registry).step({ model: 'x/y', messages: USER, tools: [], signal: AbortSignal.abort() }));
      expect(parts).toEqual([]);
    });
  });
});

/** A port nothing listens on: bind one, note it, release it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
