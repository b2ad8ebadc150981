/** Shared by core/models' tests: a registry and stepper wired to a fake model server. */
import { startFakeModelServer } from '../server.js';
import type { FakeFormat, FakeModelServer, FakeServerOptions, Script } from '../types.js';
import type { ProviderType } from '../../core/models/config.js';
import { createModelRegistry, type ModelRegistry } from '../../core/models/registry.js';
import { AiSdkStepper } from '../../core/models/stepper.js';
import type { ModelStepper, StepPart, ToolSpec } from '../../core/models/types.js';
import { WireStepper } from '../../core/models/wire/wire-stepper.js';

// The AI SDK prints a process warning per call for unknown Anthropic model names like `test-model`.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;

export interface Rig {
  server: FakeModelServer;
  registry: ModelRegistry;
  stepper: ModelStepper;
  model: string;
}

/**
 * The two stepper paths: `wire` (Tower reads the SSE itself, what the server uses) and `ai-sdk` (the
 * provider's own `doStream` parsing, kept for other providers). The stepper tests run against both.
 */
export type StepperKind = 'wire' | 'ai-sdk';
export const STEPPER_KINDS: StepperKind[] = ['wire', 'ai-sdk'];

export function createStepper(kind: StepperKind, registry: ModelRegistry): ModelStepper {
  return kind === 'wire' ? new WireStepper(registry) : new AiSdkStepper(registry);
}

/** The three provider paths Tower uses, each against the fake server format it speaks. */
export const PROVIDER_CASES: { providerType: ProviderType; format: FakeFormat }[] = [
  { providerType: 'openai', format: 'openai' },
  { providerType: 'openai-compatible', format: 'openai' },
  { providerType: 'anthropic', format: 'anthropic' },
];

export async function startRig(
  providerType: ProviderType,
  format: FakeFormat,
  script: Script,
  stepper: StepperKind = 'wire',
  serverOptions: Pick<FakeServerOptions, 'tls'> = {},
): Promise<Rig> {
  const server = await startFakeModelServer({ format, script, ...serverOptions });
  const registry = createModelRegistry({
    config: { providers: { fake: { type: providerType, base_url: server.url, api_key: 'test-key' } } },
    env: {},
  });
  return { server, registry, stepper: createStepper(stepper, registry), model: 'fake/test-model' };
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
