import { TITLE_SYSTEM_PROMPT } from '../core/models/title.js';
import type { ParsedRequest, Script, ScriptResponse } from './types.js';

/** True for the requests Tower's title generator sends (recognized by its system prompt). */
export function isTitleRequest(request: ParsedRequest): boolean {
  return request.system?.trim() === TITLE_SYSTEM_PROMPT;
}

/** A short title made from the first user message: its first few words, capitalized. */
export function autoTitle(request: ParsedRequest): string {
  const first = request.messages.find((m) => m.role === 'user')?.text ?? '';
  const words = first.replace(/[^\p{L}\p{N}\s'-]/gu, ' ').split(/\s+/).filter(Boolean).slice(0, 6);
  if (words.length === 0) return 'New conversation';
  const title = words.join(' ');
  return title.charAt(0).toUpperCase() + title.slice(1);
}

/** Text of the last user message, or '' when there is none. */
export function lastUserText(request: ParsedRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i];
    if (message?.role === 'user') return message.text;
  }
  return '';
}

function serverError(message: string): ScriptResponse {
  return { error: { status: 500, message } };
}

/** Turns a script (list or function) into "the response for this request". */
export function createScriptRunner(script: Script): (request: ParsedRequest) => Promise<ScriptResponse> {
  let next = 0;
  return async (request) => {
    if (typeof script === 'function') {
      let response: ScriptResponse | undefined;
      try {
        response = await script(request);
      } catch (error) {
        return serverError(`fake model script threw: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (response !== undefined) return response;
      if (isTitleRequest(request)) return { text: autoTitle(request) };
      return serverError(`fake model script returned no response for request ${request.index}`);
    }
    // Title requests come from a side channel (title generation), so they never consume list entries.
    if (isTitleRequest(request)) return { text: autoTitle(request) };
    const response = script[next];
    if (response === undefined) {
      return serverError(`fake model script exhausted after ${script.length} responses (request ${request.index})`);
    }
    next += 1;
    return response;
  };
}
