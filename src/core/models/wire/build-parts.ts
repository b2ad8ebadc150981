/**
 * What the request builders share: the provider call's types, and the checks that send a call the
 * builders do not know back to the provider (`undefined` = "not mine, capture the provider's request").
 */
import { isRecord } from '../../../protocol/guards.js';
import type { StreamCallOptions } from '../prompt.js';

/** One step's provider call, as `stepCallOptions` makes it (no abort signal). */
export type WireCall = Omit<StreamCallOptions, 'abortSignal'>;
export type WirePrompt = WireCall['prompt'];
export type WireMessage = WirePrompt[number];
export type WireTool = NonNullable<WireCall['tools']>[number];
export type WireToolResult = Extract<WireMessage, { role: 'tool' }>['content'][number];
export type WireAssistantPart = Extract<WireMessage, { role: 'assistant' }>['content'][number];
export type WireUserPart = Extract<WireMessage, { role: 'user' }>['content'][number];

/** The call options the builders read; a call with any other option set is the provider's to build. */
const KNOWN_OPTIONS = new Set(['prompt', 'tools', 'toolChoice', 'maxOutputTokens']);

/** True when every option set on `call` is one the builders handle as the providers do. */
export function knownOptions(call: WireCall): boolean {
  for (const key in call) {
    if (!KNOWN_OPTIONS.has(key) && (call as Record<string, unknown>)[key] !== undefined) return false;
  }
  return call.toolChoice === undefined || call.toolChoice.type === 'auto';
}

/** Provider options change what a provider sends (cache control, metadata, …): a part with any is not built. */
export const plain = (part: { providerOptions?: unknown }): boolean => part.providerOptions === undefined;

/** Function tools without provider options, or undefined when the call has any other kind. */
export function functionTools(tools: WireCall['tools']): Extract<WireTool, { type: 'function' }>[] | undefined {
  const out: Extract<WireTool, { type: 'function' }>[] = [];
  for (const tool of tools ?? []) {
    if (tool.type !== 'function' || !plain(tool)) return undefined;
    out.push(tool);
  }
  return out;
}

const schemas = new WeakMap<object, string>();

/**
 * A tool's JSON Schema as JSON text, kept per schema object: a turn offers the same specs (the executor's
 * shared ones, the session's) on every step, and their schemas are most of a request's body. Schemas are
 * taken as immutable once offered (`ToolSpec.parameters`: constants, or built once per MCP listing).
 */
export function schemaJson(schema: object): string {
  // Not an object at all: whatever the provider makes of it, Tower leaves to it.
  if (typeof schema !== 'object' || schema === null) throw new NotBuilt();
  let json = schemas.get(schema);
  if (json === undefined) {
    json = JSON.stringify(schema) as string | undefined;
    if (json === undefined) throw new NotBuilt();
    schemas.set(schema, json);
  }
  return json;
}

/** `"name":…` and, when the tool has one, `,"description":…`, as `JSON.stringify` writes the pair. */
export function nameAndDescription(tool: { name: string; description?: string | undefined }): string {
  const name = `"name":${JSON.stringify(tool.name)}`;
  return tool.description === undefined ? name : `${name},"description":${JSON.stringify(tool.description)}`;
}

/** A tool result's text: only the text outputs Tower sends (`text`, `error-text`), else undefined. */
export function resultText(part: WireToolResult): string | undefined {
  if (!plain(part)) return undefined;
  const { output } = part;
  return output.type === 'text' || output.type === 'error-text' ? output.value : undefined;
}

/** Tool inputs Tower sends are JSON objects (messages.ts); anything else is left to the provider. */
export function toolInput(part: Extract<WireAssistantPart, { type: 'tool-call' }>): Record<string, unknown> | undefined {
  return plain(part) && part.providerExecuted === undefined && isRecord(part.input) ? part.input : undefined;
}

/** Thrown inside a builder for a part it does not build; the builder's caller answers `undefined`. */
export class NotBuilt extends Error {
  constructor() {
    super('not built by Tower');
    // No stack: this is control flow, thrown at most once per call that falls back.
    this.stack = '';
  }
}

/** `value`, or throws `NotBuilt` when it is undefined. */
export function need<T>(value: T | undefined): T {
  if (value === undefined) throw new NotBuilt();
  return value;
}
