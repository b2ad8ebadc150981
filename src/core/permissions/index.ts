export { categoryOf, POLICY_ALLOWS, TOOL_CATEGORIES, type ToolCategory } from './categories.js';
export { evaluate, type EvaluateOptions, type PermissionAction, type PermissionVerdict } from './evaluate.js';
export {
  findAllowingRules,
  findBlockingRule,
  uncoveredCommandParts,
  unreadableCommand,
  type MatchContext,
  type ToolCallLike,
} from './match.js';
export { normalizePathValue } from './paths.js';
export { toolRule, validatePermissions, withAllowedTool, type RuleProblem } from './permissions.js';
export {
  KEY_ALIASES,
  parseRule,
  PATH_KEYS,
  SHELL_KEY,
  type ConditionKind,
  type PermissionRule,
  type RuleCondition,
} from './rule.js';
export { readCommand, type CommandPart, type CommandReading } from './command-parts.js';
export { compileWildcard } from './wildcard.js';
