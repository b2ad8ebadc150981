import { TowerError } from '../../protocol/errors.js';
import { MAX_PARSED_COMMAND_CHARS, ShellParseError, baseName, parseCommandLine, type SimpleCommand } from '../../protocol/shell-parse.js';

/**
 * The runner operator's bash allow/deny list, applied to every simple command of the parsed command line:
 * both sides of pipes, `;`, `&&`, `||`, inside `$(...)`, backticks, `<(...)`, subshells, blocks, loops,
 * functions and redirection targets. The line is parsed by mvdan/sh (the parser behind shfmt), never split
 * on strings (`protocol/shell-parse.ts`, shared with the session permissions engine).
 *
 * Patterns: `*` matches any run of characters, `?` one. A pattern matches a command when it matches the
 * command's words joined by single spaces, either whole or as a prefix ending at a word boundary, so `rm`
 * matches `rm -rf x` and `git push` matches `git push origin main`. A command name with a directory
 * (`/bin/rm`) is checked as written and by its base name.
 *
 * Decision: any deny match refuses; with a non-empty allow list every command must match one. A command
 * whose name is not a literal word (`$CMD x`, `$(echo rm) x`) cannot be checked and is refused whenever a
 * list is configured. Wrappers that run their arguments as a command (`xargs rm`, `env X=1 rm`, `sudo rm`,
 * `timeout 5 rm`, `nice`, `nohup`, `exec`, `command`, `time`) have the wrapped command checked too, and
 * `bash -c '...'`, `sh -c '...'` and `eval '...'` have their literal script parsed and checked.
 *
 * Limits: a policy on command lines, not a sandbox. A script file the command runs (`./x.sh`, `python -c`)
 * is not looked into; allow only what you trust to run arbitrary code that way.
 */
export interface ShellPolicyConfig {
  allow?: readonly string[];
  deny?: readonly string[];
}

export type { SimpleCommand };

export interface ShellPolicy {
  readonly active: boolean;
  /** Throws `TowerError('invalid_request')` naming the refused command. */
  check(command: string): void;
}

/** Longer command lines are refused under a policy: the parser is synchronous, and nobody types 64 KiB. */
export const MAX_CHECKED_COMMAND_CHARS = MAX_PARSED_COMMAND_CHARS;

export function createShellPolicy(config: ShellPolicyConfig = {}): ShellPolicy {
  const allow = (config.allow ?? []).filter((p) => p.trim() !== '').map(compilePattern);
  const deny = (config.deny ?? []).filter((p) => p.trim() !== '').map(compilePattern);
  const active = allow.length > 0 || deny.length > 0;
  return {
    active,
    check(command) {
      if (!active) return;
      if (command.length > MAX_CHECKED_COMMAND_CHARS) {
        throw new TowerError('invalid_request', `command refused by the runner's shell policy: longer than ${MAX_CHECKED_COMMAND_CHARS} characters, too long to check; put it in a script file`);
      }
      for (const cmd of simpleCommands(command)) {
        const refused = decide(cmd, allow, deny);
        if (refused !== null) throw new TowerError('invalid_request', `command refused by the runner's shell policy: ${refused}`);
      }
    },
  };
}

type Matcher = (line: string) => boolean;

function compilePattern(pattern: string): Matcher {
  const body = pattern
    .trim()
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${body}(?: .*)?$`, 's');
  return (line) => re.test(line);
}

function decide(cmd: SimpleCommand, allow: Matcher[], deny: Matcher[]): string | null {
  const name = cmd.words[0];
  if (name === null || name === undefined) return `${JSON.stringify(cmd.text)} (its command name is not a literal word, so it cannot be checked)`;
  const variants = [cmd.text];
  const base = name.includes('/') ? baseName(name) : null;
  if (base !== null) variants.push([base, ...cmd.text.split(' ').slice(1)].join(' '));
  if (deny.some((m) => variants.some((v) => m(v)))) return `${JSON.stringify(cmd.text)} matches a deny pattern`;
  if (allow.length > 0 && !allow.some((m) => variants.some((v) => m(v)))) return `${JSON.stringify(cmd.text)} matches no allow pattern`;
  return null;
}

/**
 * Every simple command of a command line, wrapped commands included (assignment-only commands left out:
 * they run nothing). Throws `TowerError('invalid_request')` when the line cannot be parsed.
 */
export function simpleCommands(command: string): SimpleCommand[] {
  try {
    return parseCommandLine(command).commands.filter((c) => c.words.length > 0);
  } catch (err) {
    if (err instanceof ShellParseError) throw new TowerError('invalid_request', err.message);
    throw err;
  }
}
