import { demoProvidersConfig } from '../core/models/demo.js';
import type { ModelsConfigInput } from '../core/models/config.js';
import { demoResponder } from './demo-responder.js';
import { startFakeModelServer } from './server.js';
import type { FakeModelServer } from './types.js';

/**
 * Starts the fake OpenAI-compatible server running the demo script, for `tower serve --demo`, and returns
 * the models config to merge (`mergeModelsConfig(userConfig, config)`).
 */
export async function startDemoModelServer(
  options: { port?: number; host?: string } = {},
): Promise<{ server: FakeModelServer; config: ModelsConfigInput }> {
  const server = await startFakeModelServer({ ...options, format: 'openai', script: demoResponder, models: ['scripted'] });
  return { server, config: demoProvidersConfig(server.url) };
}
