import sh from 'mvdan-sh';
import { TowerError } from '../../protocol/errors.js';

/**
 * The runner operator's bash allow/deny list, applied to every simple command of the parsed command line:
 * both sides of pipes, `;`, `&&`, `||`, inside `$(...)`, backticks, `<(...)`, subshells, blocks, loops,
 * functions and redirection targets. The line is parsed by mvdan/sh (the parser behind shfmt), never split
 * on strings.
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

export interface SimpleCommand {
  /** The command's words; `null` for a word that is not a literal (contains an expansion). */
  words: (string | null)[];
  /** Literal words by value, other words as written: what patterns are matched against. */
  text: string;
}

export interface ShellPolicy {
  readonly active: boolean;
  /** Throws `TowerError('invalid_request')` naming the refused command. */
  check(command: string): void;
}

const MAX_NESTING = 8;
/** Longer command lines are refused under a policy: the parser is synchronous, and nobody types 64 KiB. */
export const MAX_CHECKED_COMMAND_CHARS = 64 * 1024;

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
  const base = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : null;
  if (base !== null) variants.push([base, ...cmd.text.split(' ').slice(1)].join(' '));
  if (deny.some((m) => variants.some((v) => m(v)))) return `${JSON.stringify(cmd.text)} matches a deny pattern`;
  if (allow.length > 0 && !allow.some((m) => variants.some((v) => m(v)))) return `${JSON.stringify(cmd.text)} matches no allow pattern`;
  return null;
}

/** Every simple command of a command line, wrapped commands included. Throws on a syntax error. */
export function simpleCommands(command: string, depth = 0): SimpleCommand[] {
  if (depth > MAX_NESTING) throw new TowerError('invalid_request', 'command nests shells too deeply to be checked');
  let file: sh.File;
  try {
    file = sh.syntax.NewParser().Parse(command, 'command');
  } catch (err) {
    throw new TowerError('invalid_request', `command is not valid shell syntax: ${describeParseError(err)}`);
  }
  // Offsets are in bytes (the parser is Go), so words are cut from the UTF-8 bytes.
  const source = Buffer.from(command, 'utf8');
  const sourceOf = (w: sh.Word): string => source.subarray(w.Pos().Offset(), w.End().Offset()).toString('utf8');
  const found: SimpleCommand[] = [];
  sh.syntax.Walk(file, (node) => {
    if (node === null || sh.syntax.NodeType(node) !== 'CallExpr') return true;
    const call = node as sh.CallExpr;
    const words = call.Args.filter((w): w is sh.Word => w !== null);
    if (words.length === 0) return true; // assignments only: `FOO=1`
    const literal = words.map(literalOf);
    const text = words.map((w, i) => literal[i] ?? sourceOf(w)).join(' ');
    found.push({ words: literal, text });
    for (const inner of unwrap(literal, depth)) found.push(...inner);
    return true;
  });
  return found;
}

const WRAPPERS = new Set(['xargs', 'env', 'sudo', 'nice', 'nohup', 'exec', 'command', 'builtin', 'time', 'timeout', 'stdbuf', 'doas']);
/** Wrapper options that take a separate value (`xargs -n 1`, `sudo -u root`, `timeout -s KILL`). */
const OPTIONS_WITH_VALUE: Record<string, ReadonlySet<string>> = {
  xargs: new Set(['-n', '-L', '-P', '-I', '-d', '-E', '-s', '-a']),
  sudo: new Set(['-u', '-g', '-C', '-D', '-h', '-p', '-r', '-t', '-U']),
  doas: new Set(['-u', '-C']),
  nice: new Set(['-n']),
  timeout: new Set(['-s', '-k', '--signal', '--kill-after']),
  env: new Set(['-u', '-C', '-S', '--unset', '--chdir']),
  stdbuf: new Set(['-i', '-o', '-e']),
};

/** The commands a wrapper or an inline script would run. */
function unwrap(words: (string | null)[], depth: number): SimpleCommand[][] {
  const name = baseName(words[0] ?? null);
  if (name === null) return [];
  if ((name === 'bash' || name === 'sh' || name === 'zsh' || name === 'dash') && words.length >= 2) {
    const c = words.indexOf('-c');
    if (c < 0) return [];
    const script = words[c + 1];
    if (script === undefined) return [];
    if (script === null) return [[{ words: [null], text: `${name} -c <non-literal script>` }]];
    return [simpleCommands(script, depth + 1)];
  }
  if (name === 'eval') {
    const rest = words.slice(1);
    if (rest.some((w) => w === null)) return [[{ words: [null], text: 'eval <non-literal script>' }]];
    return rest.length > 0 ? [simpleCommands(rest.join(' '), depth + 1)] : [];
  }
  if (!WRAPPERS.has(name)) return [];
  const withValue = OPTIONS_WITH_VALUE[name] ?? new Set<string>();
  let i = 1;
  while (i < words.length) {
    const w = words[i];
    if (w === null || w === undefined) break;
    if (w === '--') {
      i += 1;
      break;
    }
    if (name === 'env' && /^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i += 1;
    else if (w.startsWith('-') && w.length > 1) i += withValue.has(w) ? 2 : 1;
    else if (name === 'timeout' && /^\d/.test(w)) {
      i += 1;
      break; // the duration comes right before the command
    } else if (name === 'nice' && /^-?\d+$/.test(w)) i += 1;
    else break;
  }
  const inner = words.slice(i);
  if (inner.length === 0) return [];
  return [[{ words: inner, text: inner.map((w) => w ?? '<expansion>').join(' ') }], unwrap(inner, depth + 1).flat()];
}

function baseName(word: string | null): string | null {
  if (word === null) return null;
  return word.includes('/') ? word.slice(word.lastIndexOf('/') + 1) : word;
}

/** The value of a word made only of literal text and quotes; `null` when it expands anything. */
function literalOf(word: sh.Word): string | null {
  let out = '';
  for (const part of word.Parts) {
    const type = sh.syntax.NodeType(part);
    if (type === 'Lit') out += unescapeUnquoted((part as sh.Lit).Value);
    else if (type === 'SglQuoted') out += (part as unknown as { Value: string }).Value;
    else if (type === 'DblQuoted') {
      const inner = (part as unknown as { Parts: sh.Node[] }).Parts;
      for (const p of inner) {
        if (sh.syntax.NodeType(p) !== 'Lit') return null;
        out += (p as sh.Lit).Value.replace(/\\([$`"\\\n])/g, '$1');
      }
    } else return null;
  }
  return out;
}

function unescapeUnquoted(value: string): string {
  return value.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1');
}

function describeParseError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'Error' in err && typeof (err as { Error: unknown }).Error === 'function') {
    return String((err as { Error: () => unknown }).Error());
  }
  return String(err);
}
