import picomatch from 'picomatch';
import { TowerError } from '../../protocol/errors.js';
import { normalizePathGlob, normalizePathValue } from './paths.js';
import { compileWildcard } from './wildcard.js';

/**
 * Permission rules: `toolGlob` or `toolGlob:key=valueGlob[,key=valueGlob…]`, e.g. `read`, `mcp_*`,
 * `bash:cmd=git *`, `write:path=src/**`. Every condition must hold. A comma starts a new condition only
 * when `key=` follows it, so values may hold commas (`bash:cmd=echo a,b`, `write:path=src/{a,b}/**`).
 */

/** Short names accepted in rules for argument keys. */
export const KEY_ALIASES: Readonly<Record<string, string>> = { cmd: 'command' };

/** Argument keys holding a file path: matched with path globs (`*` stays within one directory). */
export const PATH_KEYS: ReadonlySet<string> = new Set(['path', 'file', 'dir']);

/** The argument key holding a shell command, which is split into simple commands before matching. */
export const SHELL_KEY = 'command';

/**
 * `path`: picomatch glob on the normalized path. `command`: wildcard on each simple command of a shell
 * command line. `text`: wildcard on the whole value.
 */
export type ConditionKind = 'path' | 'command' | 'text';

export interface RuleCondition {
  /** The argument key, aliases resolved. */
  key: string;
  /** The value glob as written in the rule. */
  pattern: string;
  kind: ConditionKind;
  /** Tests a value; `path` values are normalized first (relative to `workingDir` when given). */
  test(value: string, workingDir?: string): boolean;
}

export interface PermissionRule {
  /** The rule as written (trimmed): what verdicts and errors quote. */
  source: string;
  toolGlob: string;
  conditions: readonly RuleCondition[];
  matchesTool(name: string): boolean;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** A comma that starts the next `key=value` condition. */
const CONDITION_SEPARATOR = /,(?=\s*[A-Za-z_][A-Za-z0-9_.-]*\s*=)/;

/** Parses a rule; anything unparsable throws `invalid_request` with a message naming the rule and why. */
export function parseRule(rule: string): PermissionRule {
  const fail = (why: string): never => {
    throw new TowerError('invalid_request', `Invalid permission rule ${JSON.stringify(rule)}: ${why}`);
  };
  if (typeof rule !== 'string') return fail('a rule must be a string');
  const source = rule.trim();
  if (source === '') return fail('the rule is empty; write a tool name or glob such as "read" or "mcp_*"');

  const colon = firstUnescapedColon(source);
  const toolGlob = (colon === -1 ? source : source.slice(0, colon)).trim();
  if (toolGlob === '') return fail('the tool name before ":" is missing');
  const matchesTool = compileGlob(toolGlob, 'tool name glob', fail);

  const conditions: RuleCondition[] = [];
  if (colon !== -1) {
    const rest = source.slice(colon + 1);
    if (rest.trim() === '') return fail('":" must be followed by conditions such as "cmd=git *" or "path=src/**"');
    for (const part of rest.split(CONDITION_SEPARATOR)) conditions.push(parseCondition(part, fail));
  }
  return { source, toolGlob, conditions, matchesTool };
}

function parseCondition(part: string, fail: (why: string) => never): RuleCondition {
  const eq = part.indexOf('=');
  if (eq === -1) return fail(`condition ${JSON.stringify(part.trim())} is not of the form key=value`);
  const written = part.slice(0, eq).trim();
  const pattern = part.slice(eq + 1).trim();
  if (written === '') return fail(`condition ${JSON.stringify(part.trim())} has no key before "="`);
  if (!KEY.test(written)) return fail(`condition key ${JSON.stringify(written)} is not a valid argument name`);
  if (pattern === '') return fail(`condition "${written}=" has an empty value; use "*" to match any value`);
  const key = KEY_ALIASES[written] ?? written;

  if (PATH_KEYS.has(key)) {
    const matches = compileGlob(normalizePathGlob(pattern), `path glob for "${written}"`, fail);
    return { key, pattern, kind: 'path', test: (value, workingDir) => matches(normalizePathValue(value, workingDir)) };
  }
  const matches = compileWildcard(pattern);
  return { key, pattern, kind: key === SHELL_KEY ? 'command' : 'text', test: (value) => matches(value) };
}

function compileGlob(glob: string, what: string, fail: (why: string) => never): (value: string) => boolean {
  // A negated glob in an allow or deny list reads backwards ("deny !read" denies everything else); the
  // lists themselves are the way to say "except".
  if (glob.startsWith('!')) return fail(`${what} ${JSON.stringify(glob)} is negated; negation is not supported`);
  try {
    // dot: a rule on `src/**` covers `src/.env` too; strictBrackets: an unbalanced bracket is a mistake
    // to report, not a literal character to match.
    return picomatch(glob, { dot: true, strictBrackets: true });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return fail(`${what} ${JSON.stringify(glob)} is not a valid glob (${why})`);
  }
}

/** The first `:` not escaped with `\`, so a tool name holding a colon can be written as `a\:b`. */
function firstUnescapedColon(source: string): number {
  for (let i = 0; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ':') return i;
  }
  return -1;
}
