import { isRecord } from '../../protocol/guards.js';
import { SHELL_KEY, type PermissionRule, type RuleCondition } from './rule.js';
import { readCommand } from './command-parts.js';

/** A tool call as far as permissions care: which tool, with which arguments. */
export interface ToolCallLike {
  name: string;
  args: unknown;
}

export interface MatchContext {
  /** The session's working directory, to compare absolute paths with relative path globs. */
  workingDir?: string;
}

function argOf(args: unknown, key: string): string | undefined {
  if (!isRecord(args)) return undefined;
  // Own keys only, and strings only: a condition on a missing or non-string argument does not hold.
  const value = Object.hasOwn(args, key) ? args[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

function holds(condition: RuleCondition, value: string | undefined, ctx: MatchContext): boolean {
  return value !== undefined && condition.test(value, ctx.workingDir);
}

function shellConditions(rule: PermissionRule): RuleCondition[] {
  return rule.conditions.filter((c) => c.kind === 'command');
}

/** The tool and every condition except those on the shell command. */
function matchesOutsideCommand(rule: PermissionRule, call: ToolCallLike, ctx: MatchContext): boolean {
  return (
    rule.matchesTool(call.name) &&
    rule.conditions.every((c) => c.kind === 'command' || holds(c, argOf(call.args, c.key), ctx))
  );
}

/** Does the rule's every shell condition hold for this one command string? */
function matchesCommand(rule: PermissionRule, command: string, ctx: MatchContext): boolean {
  return shellConditions(rule).every((c) => holds(c, command, ctx));
}

/**
 * The first deny (or ask) rule that matches. A shell condition holds if ANY simple command of the command
 * line matches it (or the whole line does): `rm *` denies `git status && rm -rf /` and `echo $(rm x)`.
 */
export function findBlockingRule(
  rules: readonly PermissionRule[],
  call: ToolCallLike,
  ctx: MatchContext = {},
): PermissionRule | undefined {
  return rules.find((rule) => {
    if (!matchesOutsideCommand(rule, call, ctx)) return false;
    if (shellConditions(rule).length === 0) return true;
    const command = argOf(call.args, SHELL_KEY);
    if (command === undefined) return false;
    return readCommand(command).candidates.some((candidate) => matchesCommand(rule, candidate, ctx));
  });
}

/**
 * The allow rules that together allow the call, or undefined. A rule without shell conditions allows
 * the call alone. Otherwise EVERY simple command of the command line (and every file it redirects to)
 * must match some allow rule: allowing `git *` does not allow `git status && rm -rf /`, while `git *`
 * and `npm *` together allow `git pull && npm test`. A command line that does not parse is not allowed.
 */
export function findAllowingRules(
  rules: readonly PermissionRule[],
  call: ToolCallLike,
  ctx: MatchContext = {},
): PermissionRule[] | undefined {
  const candidates = rules.filter((rule) => matchesOutsideCommand(rule, call, ctx));
  const unconditional = candidates.find((rule) => shellConditions(rule).length === 0);
  if (unconditional) return [unconditional];
  const command = argOf(call.args, SHELL_KEY);
  if (command === undefined || candidates.length === 0) return undefined;
  const reading = readCommand(command);
  if (!reading.ok) return undefined; // a line that does not parse is never allowed by a command rule
  const used = new Set<PermissionRule>();
  for (const part of reading.parts) {
    const rule = part.allowable ? candidates.find((r) => matchesCommand(r, part.text, ctx)) : undefined;
    if (!rule) return undefined;
    used.add(rule);
  }
  return [...used];
}

/**
 * The simple commands of the call's command line that no allow rule for this tool matches, when some
 * allow rule names the tool with a command condition (so a verdict can say which part needs asking).
 */
export function uncoveredCommandParts(
  rules: readonly PermissionRule[],
  call: ToolCallLike,
  ctx: MatchContext = {},
): string[] {
  const candidates = rules.filter((rule) => matchesOutsideCommand(rule, call, ctx) && shellConditions(rule).length > 0);
  const command = argOf(call.args, SHELL_KEY);
  if (command === undefined || candidates.length === 0) return [];
  const reading = readCommand(command);
  if (!reading.ok) return [];
  return reading.parts
    .filter((part) => !part.allowable || !candidates.some((r) => matchesCommand(r, part.text, ctx)))
    .map((part) => part.text);
}

/**
 * Why the call's command line cannot be read, when some rule for this tool would have to look into it
 * (a rule with a command condition); undefined when it parses or no rule cares.
 */
export function unreadableCommand(
  rules: readonly PermissionRule[],
  call: ToolCallLike,
  ctx: MatchContext = {},
): string | undefined {
  const command = argOf(call.args, SHELL_KEY);
  if (command === undefined) return undefined;
  if (!rules.some((rule) => matchesOutsideCommand(rule, call, ctx) && shellConditions(rule).length > 0)) return undefined;
  const reading = readCommand(command);
  return reading.ok ? undefined : reading.reason;
}
