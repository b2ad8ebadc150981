/**
 * Tower's own request building for the two wire formats it reads (OpenAI Chat Completions, Anthropic
 * Messages): URL, headers and JSON body as the AI SDK provider Tower created for the model would send
 * them (`build-request.test.ts` runs a corpus of calls through both and compares them exactly), without
 * the provider's `doStream` up to its `fetch` (option parsing with zod, prompt conversion, header merging
 * through `Headers` objects, `postJsonToApi`, and the capture's rejected fetch with its error).
 *
 * `buildWireRequest` answers `undefined` for anything it does not build: an option other than the ones
 * Tower passes, a prompt part or provider option it does not know, a header value the provider's
 * `Headers` would change or refuse. The caller then captures the provider's own request, as before.
 */
import { createRequire } from 'node:module';
import { VERSION as ANTHROPIC_VERSION } from '@ai-sdk/anthropic';
import { VERSION as OPENAI_VERSION } from '@ai-sdk/openai';
import { VERSION as COMPATIBLE_VERSION } from '@ai-sdk/openai-compatible';
import type { ProviderType } from '../config.js';
import type { WireTarget } from '../registry.js';
import { anthropicBody } from './build-anthropic.js';
import { openAIChatBody } from './build-openai.js';
import { knownOptions, NotBuilt, type WireCall } from './build-parts.js';
import type { WireRequest } from './capture.js';

/** What a model's requests share: everything but the body, and the body's per-model values. */
export interface RequestHead {
  target: WireTarget;
  url: string;
  headers: Record<string, string>;
  /**
   * Anthropic's `max_tokens` for this model with the token cap `cap` (the provider's default per model, or
   * the cap clamped to the model's limit: its own table, read from a request it built, not copied).
   */
  maxTokens?: { cap: number | undefined; value: number };
}

/**
 * URL and headers for `target`, or undefined when Tower cannot build them as its provider would. Headers
 * are the provider's (auth, `anthropic-version`, `content-type`, the AI SDK's `user-agent`) with lower-
 * case names in `Headers` order (sorted), as the capture takes them.
 */
export function requestHead(target: WireTarget): Omit<RequestHead, 'maxTokens'> | undefined {
  const agent = userAgent(target.type);
  if (agent === undefined) return undefined;
  const headers: Record<string, string> = {};
  switch (target.type) {
    case 'openai':
      // The provider is given `apiKey ?? ''` (providers.ts), so a missing key is `Bearer ` (trimmed).
      headers.authorization = `Bearer ${target.apiKey ?? ''}`;
      break;
    case 'openai-compatible':
      if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
      break;
    case 'anthropic':
      headers['anthropic-version'] = '2023-06-01';
      break;
  }
  headers['content-type'] = 'application/json';
  headers['user-agent'] = agent;
  if (target.type === 'anthropic') headers['x-api-key'] = target.apiKey ?? '';
  for (const name in headers) {
    const value = headerValue(headers[name] as string);
    if (value === undefined) return undefined;
    headers[name] = value;
  }
  const url = requestUrl(target);
  // Shared by every request of the model: nothing downstream may change it (redirects copy it).
  return url === undefined ? undefined : { target, url, headers: Object.freeze(headers) };
}

/** The step's request, or undefined when this call is the provider's to build. */
export function buildWireRequest(head: RequestHead, call: WireCall): WireRequest | undefined {
  if (!knownOptions(call)) return undefined;
  const { target } = head;
  try {
    let body: string;
    if (target.type === 'anthropic') {
      if (head.maxTokens === undefined || head.maxTokens.cap !== call.maxOutputTokens) return undefined;
      body = anthropicBody(target.model, head.maxTokens.value, call);
    } else body = openAIChatBody(target.type, target.model, call);
    return { url: head.url, headers: head.headers, body };
  } catch (error) {
    if (error instanceof NotBuilt) return undefined;
    throw error;
  }
}

/**
 * The provider's base URL: the configured one (one trailing slash dropped, `withoutTrailingSlash`), else
 * the vendor's environment variable as the provider reads it (`process.env`, not the registry's env), else
 * the vendor's default; openai-compatible URLs go through `new URL` as that provider sends them.
 */
function requestUrl(target: WireTarget): string | undefined {
  const base = (fallback: string, variable: string) => {
    // `loadOptionalSetting`: the setting when given (Tower gives only a non-empty one), else the variable.
    const setting = target.baseUrl ? target.baseUrl : process.env[variable];
    return setting === undefined ? fallback : setting.replace(/\/$/, '');
  };
  switch (target.type) {
    case 'openai':
      return `${base('https://api.openai.com/v1', 'OPENAI_BASE_URL')}/chat/completions`;
    case 'anthropic':
      return `${base('https://api.anthropic.com/v1', 'ANTHROPIC_BASE_URL')}/messages`;
    case 'openai-compatible':
      if (!target.baseUrl) return undefined;
      return new URL(`${target.baseUrl.replace(/\/$/, '')}/chat/completions`).toString();
  }
}

/**
 * A header value as `Headers` keeps it (leading and trailing HTTP whitespace dropped), or undefined for
 * one it refuses (NUL, CR, LF, a character over U+00FF): the provider's own path then raises its error.
 */
function headerValue(value: string): string | undefined {
  const trimmed = value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  return /[\0\r\n]|[^\0-\u00ff]/.test(trimmed) ? undefined : trimmed;
}

const agents = new Map<ProviderType, string | undefined>();

/**
 * The AI SDK's user agent for a provider: the provider's suffix, then `provider-utils`' (the copy that
 * provider package resolves: they may differ), then the runtime's (`getRuntimeEnvironmentUserAgent`).
 */
function userAgent(type: ProviderType): string | undefined {
  if (agents.has(type)) return agents.get(type);
  let agent: string | undefined;
  try {
    const [pkg, version] =
      type === 'openai' ? ['@ai-sdk/openai', OPENAI_VERSION] : type === 'anthropic' ? ['@ai-sdk/anthropic', ANTHROPIC_VERSION] : ['@ai-sdk/openai-compatible', COMPATIBLE_VERSION];
    const fromProvider = createRequire(createRequire(import.meta.url).resolve(pkg));
    const utils = (fromProvider('@ai-sdk/provider-utils/package.json') as { version?: unknown }).version;
    const runtime = runtimeAgent();
    agent = typeof utils === 'string' && runtime !== undefined ? `ai-sdk/${pkg.slice('@ai-sdk/'.length)}/${version} ai-sdk/provider-utils/${utils} ${runtime}` : undefined;
  } catch {
    agent = undefined;
  }
  agents.set(type, agent);
  return agent;
}

function runtimeAgent(): string | undefined {
  const global = globalThis as { window?: unknown; navigator?: { userAgent?: string }; EdgeRuntime?: unknown };
  if (global.window) return 'runtime/browser';
  if (global.navigator?.userAgent) return `runtime/${global.navigator.userAgent.toLowerCase()}`;
  if (process.versions.node) return `runtime/node.js/${process.version}`;
  return undefined;
}
