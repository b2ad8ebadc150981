import type { Permissions } from '../../protocol/session.js';
import { categoryOf, POLICY_ALLOWS, TOOL_CATEGORIES, type ToolCategory } from './categories.js';
import { findAllowingRules, findBlockingRule, uncoveredCommandParts, unreadableCommand, type ToolCallLike } from './match.js';
import { parseRule, type PermissionRule } from './rule.js';

export type PermissionAction = 'allow' | 'ask' | 'deny';

export interface PermissionVerdict {
  action: PermissionAction;
  /** The rule (or rules, comma-separated) that decided, when one did. */
  rule?: string;
  /** A sentence for people and for the model (a denied call's result quotes it). */
  reason: string;
}

export interface EvaluateOptions {
  /** Tool categories for the safety policy; defaults to `TOOL_CATEGORIES`. */
  categories?: Readonly<Record<string, ToolCategory>>;
  /** The session's working directory, so absolute paths in arguments meet relative path globs. */
  workingDir?: string;
}

const CATEGORY_LABELS: Record<ToolCategory, string> = {
  read_only: 'read-only tools',
  write: 'file-writing tools',
  execute: 'command-running tools',
  network: 'tools that reach the network',
  interaction: 'tools that talk to the person',
};

type PermissionRules = Pick<Permissions, 'allow' | 'ask' | 'deny'>;

/**
 * Decides one tool call. In order:
 * 1. a deny rule matches → deny (nothing overrides a deny, not even auto-approve);
 * 2. an `interaction` tool (`ask_user`) → allow;
 * 3. its command line does not parse while a rule with a command condition names the tool → ask, even
 *    with an allow rule for the whole tool, auto-approve or the autonomous policy (no such rule could be
 *    checked against it, and bash runs the lines before a syntax error);
 * 4. allow rules cover it → allow;
 * 5. auto-approve is on → allow (it approves whatever no deny rule stops, ask rules included);
 * 6. an ask rule matches → ask;
 * 7. the safety policy, by tool category: autonomous allows all; balanced allows reading and writing
 *    files and asks for bash, webfetch and unknown tools; strict allows only reading.
 * Rules that do not parse are skipped here; `validatePermissions` refuses them where permissions enter.
 */
export function evaluate(
  permissions: Permissions,
  call: ToolCallLike,
  options: EvaluateOptions = {},
): PermissionVerdict {
  const ctx = { workingDir: options.workingDir };
  const rules = compiled(permissions);
  const tool = JSON.stringify(call.name);

  const denied = findBlockingRule(rules.deny, call, ctx);
  if (denied) return { action: 'deny', rule: denied.source, reason: `${tool} is denied by rule "${denied.source}"` };

  const category = categoryOf(call.name, options.categories ?? TOOL_CATEGORIES);
  if (category === 'interaction') {
    return { action: 'allow', reason: `${tool} only talks to the person, so it needs no confirmation` };
  }

  // Before the allow rules: a rule on the whole tool must not let a line through that deny rules cannot read.
  const unreadable = unreadableCommand([...rules.allow, ...rules.ask, ...rules.deny], call, ctx);
  if (unreadable !== undefined) {
    return { action: 'ask', reason: `the ${tool} command line cannot be checked against its rules (${unreadable}), so it is asked` };
  }

  const allowing = findAllowingRules(rules.allow, call, ctx);
  if (allowing) {
    const sources = allowing.map((r) => r.source);
    const named = sources.map((s) => `"${s}"`).join(', ');
    const reason = `${tool} is allowed by rule${sources.length > 1 ? 's' : ''} ${named}`;
    return { action: 'allow', rule: sources.join(', '), reason };
  }

  if (permissions.auto_approve) return { action: 'allow', reason: 'auto-approve is on and no deny rule matches' };

  const asking = findBlockingRule(rules.ask, call, ctx);
  if (asking) return { action: 'ask', rule: asking.source, reason: `rule "${asking.source}" asks before ${tool} runs` };

  const policy = permissions.policy;
  const what = category ? CATEGORY_LABELS[category] : 'tools of unknown effect';
  const uncovered = uncoveredCommandParts(rules.allow, call, ctx);
  const unmatched =
    uncovered.length > 0
      ? `no allow rule matches ${uncovered.map((p) => JSON.stringify(p)).join(', ')} in the command`
      : `no rule covers this ${tool} call`;
  return POLICY_ALLOWS[policy][category ?? 'unknown']
    ? { action: 'allow', reason: `${unmatched}, and the "${policy}" policy allows ${what}` }
    : { action: 'ask', reason: `${unmatched}, and the "${policy}" policy asks before ${what}` };
}

const CACHE_LIMIT = 1024;
/** Parsed rules by source; a gate evaluates every tool call, and compiling globs each time is waste. */
const cache = new Map<string, PermissionRule | null>();

function compileRule(source: string): PermissionRule | null {
  let rule = cache.get(source);
  if (rule === undefined) {
    try {
      rule = parseRule(source);
    } catch {
      rule = null;
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, rule);
  }
  return rule;
}

function compiled(permissions: PermissionRules): Record<'allow' | 'ask' | 'deny', PermissionRule[]> {
  const list = (sources: readonly string[] | undefined) =>
    (sources ?? []).map(compileRule).filter((r): r is PermissionRule => r !== null);
  return { allow: list(permissions.allow), ask: list(permissions.ask), deny: list(permissions.deny) };
}
