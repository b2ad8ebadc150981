/**
 * Shared by the model HTTP client's tests (`core/models/wire/http1.test.ts` over `http:`,
 * `http1-tls.test.ts` over `https:`): the same wire-stepper runs on a fake server, over Tower's client or
 * node's, so the two can be compared part for part.
 */
import { vi } from 'vitest';
import { useModelHttpClient } from '../../core/models/wire/http.js';
import type { StepPart } from '../../core/models/types.js';
import type { FakeFormat, FakeServerOptions, ScriptResponse } from '../types.js';
import type { ProviderType } from '../../core/models/config.js';
import { LIST_TOOL, collect, startRig } from './rig.js';

/** One of each kind of answer the decoders handle, and an HTTP error. */
export const CLIENT_SCRIPTS: Array<[string, ScriptResponse]> = [
  ['text', { text: ['Hello ', 'there, ', 'ünïcode ✓'], tokensPerSecond: 500 }],
  ['reasoning then text', { reasoning: ['Let me ', 'think.'], text: 'Answer.' }],
  ['tool-call deltas', { text: 'Running.', tool_calls: [{ name: 'list', args: { path: 'src/a/b/c' } }] }],
  ['usage', { text: 'ok', usage: { input_tokens: 120, output_tokens: 7, cached_input_tokens: 100 } }],
  ['provider error mid-stream', { text: 'partial', stream_error: { message: 'Overloaded', type: 'overloaded_error' } }],
  ['HTTP error', { error: { status: 429, message: 'Rate limit reached' } }],
];

type ServerOptions = Pick<FakeServerOptions, 'tls'>;

/** Two steps of `script` over `client` (the second on the kept-alive connection). */
export async function twoSteps(client: 'http1' | 'node', providerType: ProviderType, format: FakeFormat, script: ScriptResponse, server: ServerOptions = {}): Promise<StepPart[][]> {
  useModelHttpClient(client);
  const rig = await startRig(providerType, format, [script, script], 'wire', server);
  try {
    const step = () => collect(rig.stepper.step({ model: rig.model, messages: [{ role: 'user', content: 'hi' }], tools: [LIST_TOOL], signal: new AbortController().signal }));
    return [await step(), await step()];
  } finally {
    await rig.server.close();
  }
}

/**
 * A step aborted at its first part, on a server that then hangs: resolves with the parts seen once the
 * server has seen the client go (the fake server records a response cut by the client).
 */
export async function abortAtFirstPart(providerType: ProviderType, format: FakeFormat, server: ServerOptions = {}): Promise<{ parts: StepPart[]; aborted: number[] }> {
  const rig = await startRig(providerType, format, [{ text: 'before the hang', hang: true }], 'wire', server);
  try {
    const controller = new AbortController();
    const parts: StepPart[] = [];
    for await (const part of rig.stepper.step({ model: rig.model, messages: [{ role: 'user', content: 'hi' }], tools: [], signal: controller.signal })) {
      parts.push(part);
      controller.abort();
    }
    await vi.waitFor(() => {
      if (rig.server.aborted.length === 0) throw new Error('the server has not seen the disconnect yet');
    });
    return { parts, aborted: [...rig.server.aborted] };
  } finally {
    await rig.server.close();
  }
}
