export type { ModelInfo, ModelStepper, StepPart, StepRequest, StepUsage, ToolSpec } from './types.js';
export {
  ModelConfig,
  ModelPricing,
  ModelsConfig,
  ProviderConfig,
  ProviderType,
  mergeModelsConfig,
  type ModelsConfigInput,
} from './config.js';
export { providersFromEnv, resolveApiKey, type Env } from './env-providers.js';
export { MODEL_CATALOG, findCatalogEntry, listedModelNames, type CatalogEntry } from './catalog.js';
export { splitModelId } from './model-id.js';
export { computeCost } from './cost.js';
export { createModelFactory, type ModelFactory, type ResolvedLanguageModel } from './providers.js';
export { createModelRegistry, type ModelRegistry, type ModelRegistryOptions } from './registry.js';
export { MISSING_TOOL_RESULT, toModelMessages } from './messages.js';
export { toToolSet } from './tools.js';
export { mapModelError, type ModelErrorCode, type ModelErrorInfo } from './errors.js';
export { toStepUsage } from './usage.js';
export { AiSdkStepper, type AiSdkStepperOptions } from './stepper.js';
export { WireStepper } from './wire/wire-stepper.js';
export { MAX_TITLE_LENGTH, TITLE_SYSTEM_PROMPT, cleanTitle, generateTitle } from './title.js';
export { DEMO_MODEL_ID, DEMO_PROVIDER, demoProvidersConfig } from './demo.js';
