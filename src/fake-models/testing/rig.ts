/** Shared by core/models' tests: a registry and stepper wired to a fake model server. */
import { startFakeModelServer } from '../server.js';
import type { FakeFormat, FakeModelServer, Script } from '../types.js';
import type { ProviderType } from '../../core/models/config.js';
import { createModelRegistry, type ModelRegistry } from '../../core/models/registry.js';
import { AiSdkStepper } from '../../core/models/stepper.js';
import type { StepPart, ToolSpec } from '../../core/models/types.js';

// The AI SDK prints a process warning per call for unknown Anthropic model names like `test-model`.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;

export interface Rig {
  server: FakeModelServer;
  registry: ModelRegistry;
  stepper: AiSdkStepper;
  model: string;
}

/** The three provider paths Tower uses, each against the fake server format it speaks. */
export const PROVIDER_CASES: { providerType: ProviderType; format: FakeFormat }[] = [
  { providerType: 'openai', format: 'openai' },
  { providerType: 'openai-compatible', format: 'openai' },
  { providerType: 'anthropic', format: 'anthropic' },
];

export async function startRig(providerType: ProviderType, format: FakeFormat, script: Script): Promise<Rig> {
  const server = await startFakeModelServer({ format, script });
  const registry = createModelRegistry({
    config: { providers: { fake: { type: providerType, base_url: server.url, api_key: 'test-key' } } },
    env: {},
  });
  return { server, registry, stepper: new AiSdkStepper(registry), model: 'fake/test-model' };
}

export async function collect(parts: AsyncIterable<StepPart>): Promise<StepPart[]> {
  const out: StepPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

export const LIST_TOOL: ToolSpec = {
  name: 'list',
  description: 'List a directory',
  parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
};

export const BASH_TOOL: ToolSpec = {
  name: 'bash',
  description: 'Run a shell command',
  parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
};
