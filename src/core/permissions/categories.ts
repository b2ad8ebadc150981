import type { SafetyPolicy } from '../../protocol/session.js';

/**
 * What a tool may do, which is what the safety policy decides on for tools no rule names.
 * `network` tools reach outside the machine (a URL can carry the session's data away), so only the
 * autonomous policy runs them unasked. `interaction` tools only talk to the person (asking them to
 * confirm a question would be absurd), so they are allowed unless a deny rule names them.
 */
export type ToolCategory = 'read_only' | 'write' | 'execute' | 'network' | 'interaction';

/**
 * The known tools. A tool missing here is of unknown effect and treated like `execute`. Extend it by
 * passing `{ ...TOOL_CATEGORIES, my_tool: 'write' }` as `categories` to `evaluate`.
 */
export const TOOL_CATEGORIES: Readonly<Record<string, ToolCategory>> = {
  read: 'read_only',
  list: 'read_only',
  glob: 'read_only',
  grep: 'read_only',
  write: 'write',
  bash: 'execute',
  webfetch: 'network',
  ask_user: 'interaction',
  // Messaging between agents: reading is harmless, posting only writes Tower's own threads and inboxes.
  // `handoff` starts work in another session, so it stays of unknown effect and is asked for by default.
  thread_read: 'read_only',
  inbox_list: 'read_only',
  thread_post: 'write',
  inbox_reply: 'write',
};

/** Per policy, whether a tool of each category (or of unknown effect) runs without asking. */
export const POLICY_ALLOWS: Readonly<Record<SafetyPolicy, Readonly<Record<ToolCategory | 'unknown', boolean>>>> = {
  autonomous: { read_only: true, write: true, execute: true, network: true, interaction: true, unknown: true },
  balanced: { read_only: true, write: true, execute: false, network: false, interaction: true, unknown: false },
  strict: { read_only: true, write: false, execute: false, network: false, interaction: true, unknown: false },
};

export function categoryOf(
  tool: string,
  categories: Readonly<Record<string, ToolCategory>> = TOOL_CATEGORIES,
): ToolCategory | undefined {
  // Own properties only: a tool named "constructor" or "toString" is unknown, not a category lookup hit.
  return Object.hasOwn(categories, tool) ? categories[tool] : undefined;
}
