import { TowerError } from '../../protocol/errors.js';
import type { Permissions } from '../../protocol/session.js';
import { parseRule } from './rule.js';

export interface RuleProblem {
  list: 'allow' | 'ask' | 'deny';
  index: number;
  rule: string;
  message: string;
}

/**
 * Checks every rule of a (possibly partial, as in a PATCH) permissions object and throws one
 * `invalid_request` naming each bad rule, so a client learns all its mistakes at once and nothing
 * unparsable is ever stored (evaluation would have to skip it silently).
 */
export function validatePermissions(permissions: Partial<Pick<Permissions, 'allow' | 'ask' | 'deny'>>): void {
  const problems: RuleProblem[] = [];
  for (const list of ['deny', 'allow', 'ask'] as const) {
    for (const [index, rule] of (permissions[list] ?? []).entries()) {
      try {
        parseRule(rule);
      } catch (err) {
        problems.push({ list, index, rule, message: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  if (problems.length === 0) return;
  const lines = problems.map((p) => `${p.list}[${p.index}]: ${p.message}`);
  throw new TowerError('invalid_request', `Invalid permissions: ${lines.join('; ')}`, { problems });
}

/** Characters picomatch treats as glob syntax, plus `:` (the rule's condition separator). */
const GLOB_SPECIAL = /[\\*?[\]{}()!+@|:]/g;

/** A rule naming exactly this tool, its name escaped so glob characters in it match only themselves. */
export function toolRule(toolName: string): string {
  return toolName.replace(GLOB_SPECIAL, '\\$&');
}

/**
 * The permissions with an allow rule for the whole tool added (what the `approve_tool` decision
 * remembers). Returns a new object; adding a rule already present changes nothing. Deny rules still win
 * over it.
 */
export function withAllowedTool(permissions: Permissions, toolName: string): Permissions {
  if (toolName.trim() === '') throw new TowerError('invalid_request', 'A tool name is required to allow a tool');
  const rule = toolRule(toolName);
  if (permissions.allow.includes(rule)) return { ...permissions, allow: [...permissions.allow] };
  return { ...permissions, allow: [...permissions.allow, rule] };
}
